//! `/help`: the product's help articles, written in Markdown in `docs/help/` and compiled in.

use super::Shell;
use crate::web::error::WebError;
use crate::web::session::CurrentSession;
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::Path;

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
    current.0.as_deref().map(Shell::of)
}

pub async fn index(Extension(current): Extension<CurrentSession>) -> HelpIndexPage {
    HelpIndexPage {
        shell: shell(&current),
        title: "Help",
        articles: ARTICLES,
    }
}

pub async fn article(
    Extension(current): Extension<CurrentSession>,
    Path(slug): Path<String>,
) -> Result<HelpArticlePage, WebError> {
    let article = ARTICLES
        .iter()
        .find(|article| article.slug == slug)
        .ok_or(WebError::NotFound)?;
    Ok(HelpArticlePage {
        shell: shell(&current),
        title: article.title,
        html: render_markdown(article.markdown),
    })
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
