//! `/help`: the product's help articles, written in Markdown in `docs/help/` and compiled in.

use super::Shell;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::CurrentSession;
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Path, State};
use std::time::Duration;

/// Where an article names how long invitations live: the reader's company's setting, or for a
/// reader who is not signed in the default a new company starts with.
const INVITATION_LIFETIME: &str = "{invitation_lifetime}";

pub struct Article {
    pub slug: &'static str,
    pub title: &'static str,
    markdown: &'static str,
}

pub const ARTICLES: &[Article] = &[
    Article {
        slug: "inviting-users",
        title: "Inviting Users to Sign Up for 1Stop",
        markdown: include_str!("../../../../../docs/help/inviting-users.md"),
    },
    Article {
        slug: "profiles-and-roles",
        title: "Profiles and Roles",
        markdown: include_str!("../../../../../docs/help/profiles-and-roles.md"),
    },
    Article {
        slug: "first-steps",
        title: "Your First Steps after Logging In",
        markdown: include_str!("../../../../../docs/help/first-steps.md"),
    },
];

#[derive(Template, WebTemplate)]
#[template(path = "help_index.html")]
pub struct HelpIndexPage {
    shell: Option<Shell>,
    title: &'static str,
    articles: &'static [Article],
}

#[derive(Template, WebTemplate)]
#[template(path = "help_article.html")]
pub struct HelpArticlePage {
    shell: Option<Shell>,
    title: &'static str,
    /// Rendered from our own Markdown (trusted, compiled into the binary); raw HTML in it is
    /// escaped, not passed through.
    html: String,
}

fn shell(current: &CurrentSession) -> Option<Shell> {
    current
        .0
        .as_deref()
        .filter(|session| !session.second_step_pending)
        .map(Shell::of)
}

pub async fn index(Extension(current): Extension<CurrentSession>) -> HelpIndexPage {
    HelpIndexPage {
        shell: shell(&current),
        title: "Help",
        articles: ARTICLES,
    }
}

pub async fn article(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    Path(slug): Path<String>,
) -> Result<HelpArticlePage, WebError> {
    let article = ARTICLES
        .iter()
        .find(|article| article.slug == slug)
        .ok_or(WebError::NotFound)?;
    let mut markdown = article.markdown.to_owned();
    if markdown.contains(INVITATION_LIFETIME) {
        let lifetime = match current.0.as_deref() {
            Some(session) => {
                let millis = state
                    .services
                    .store
                    .invitation_lifetime_ms(&session.scope)
                    .await?;
                Duration::from_millis(u64::try_from(millis).unwrap_or(0))
            }
            None => crate::defaults::INVITATION_LIFETIME,
        };
        markdown = markdown.replace(INVITATION_LIFETIME, &describe_lifetime(lifetime));
    }
    Ok(HelpArticlePage {
        shell: shell(&current),
        title: article.title,
        html: render_markdown(&markdown),
    })
}

/// "7 days", "1 day", "36 hours": whole days when it is whole days (lifetimes are whole hours).
fn describe_lifetime(lifetime: Duration) -> String {
    let hours = lifetime.as_secs() / 3600;
    let (count, unit) = if hours > 0 && hours.is_multiple_of(24) {
        (hours / 24, "day")
    } else {
        (hours, "hour")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

fn render_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        other => other,
    });
    let mut output = String::new();
    html::push_html(&mut output, parser);
    output
}

#[cfg(test)]
mod tests {
    use super::describe_lifetime;
    use std::time::Duration;

    #[test]
    fn lifetimes_read_in_whole_days_or_else_hours() {
        let hours = |hours: u64| Duration::from_secs(hours * 3600);
        assert_eq!(describe_lifetime(hours(168)), "7 days");
        assert_eq!(describe_lifetime(hours(24)), "1 day");
        assert_eq!(describe_lifetime(hours(720)), "30 days");
        assert_eq!(describe_lifetime(hours(36)), "36 hours");
        assert_eq!(describe_lifetime(hours(1)), "1 hour");
    }
}
