//! Setup > Audit Log: every administrative and security event, filtered and paged.

use super::Shell;
use crate::store::{AuditFilter, AuditLogEntry};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::{RequirePermission, ViewAuditLog};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use onestop_domain::{AuditAction, Timestamp};

const PAGE_SIZE: i64 = 50;

pub struct LogLine {
    pub at: String,
    pub action: String,
    pub actor: String,
    pub target: String,
    pub details: String,
    pub ip: String,
}

fn name(first: Option<String>, last: Option<String>) -> String {
    match (first, last) {
        (Some(first), Some(last)) => format!("{first} {last}"),
        (None, Some(last)) => last,
        _ => "—".to_owned(),
    }
}

fn line(entry: AuditLogEntry) -> LogLine {
    LogLine {
        at: Timestamp::from_unix_millis(entry.at).to_string(),
        action: AuditAction::parse(&entry.action)
            .map_or(entry.action.clone(), |action| action.label().to_owned()),
        actor: name(entry.actor_first_name, entry.actor_last_name),
        target: name(entry.target_first_name, entry.target_last_name),
        details: entry.details,
        ip: entry.ip.unwrap_or_default(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    shell: Option<Shell>,
    title: &'static str,
    lines: Vec<LogLine>,
    actions: Vec<(&'static str, &'static str, bool)>,
    people: Vec<(String, String, bool)>,
    from: String,
    until: String,
    page: i64,
    pages: i64,
    total: i64,
    previous_link: Option<String>,
    next_link: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    person: String,
    /// YYYY-MM-DD (UTC), inclusive.
    #[serde(default)]
    from: String,
    /// YYYY-MM-DD (UTC), inclusive.
    #[serde(default)]
    until: String,
    #[serde(default)]
    page: String,
}

/// The UTC day of a `YYYY-MM-DD` date, as the milliseconds of its start and of the next day's.
/// A date that does not exist (2026-02-31) is refused, not rolled into the next month.
fn parse_day(text: &str) -> Option<(i64, i64)> {
    let date: jiff::civil::Date = text.trim().parse().ok()?;
    let start_of = |date: jiff::civil::Date| {
        jiff::tz::TimeZone::UTC
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .ok()
            .map(|timestamp| timestamp.as_millisecond())
    };
    Some((start_of(date)?, start_of(date.tomorrow().ok()?)?))
}

pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ViewAuditLog>,
    Query(query): Query<AuditQuery>,
) -> Result<AuditPage, WebError> {
    let mut error = None;
    let mut date = |text: &str, field: &str| -> Option<(i64, i64)> {
        if text.trim().is_empty() {
            return None;
        }
        let parsed = parse_day(text);
        if parsed.is_none() {
            error = Some(format!(
                "The {field} date must be a real date written like 2026-11-27."
            ));
        }
        parsed
    };
    let from = date(&query.from, "from").map(|(start, _)| start);
    let until = date(&query.until, "until").map(|(_, end)| end);
    let action = AuditAction::parse(&query.action).map(|action| action.as_str().to_owned());
    let people = state.services.store.users(&user.scope).await?;
    // Any id is safe to filter by: the query only reads this organization's events.
    let person = (!query.person.is_empty()).then(|| query.person.clone());
    let filter = AuditFilter {
        action,
        person,
        from,
        until,
    };
    // Bounded so the offset can never overflow; the page count is checked after counting.
    let page: i64 = query.page.parse().unwrap_or(1).clamp(1, 1_000_000);
    let (entries, total) = state
        .services
        .store
        .audit_log(&user.scope, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let link = |page: i64| {
        let mut next = query.clone();
        next.page = page.to_string();
        format!("/setup/audit?{}", serde_html_query(&next))
    };
    Ok(AuditPage {
        shell: Some(Shell::of(&user)),
        title: "Audit Log",
        lines: entries.into_iter().map(line).collect(),
        actions: AuditAction::ALL
            .into_iter()
            .map(|action| {
                (
                    action.as_str(),
                    action.label(),
                    action.as_str() == query.action,
                )
            })
            .collect(),
        people: people
            .into_iter()
            .map(|person| {
                let selected = person.id == query.person;
                (
                    person.id.to_string(),
                    name(person.first_name, Some(person.last_name)),
                    selected,
                )
            })
            .collect(),
        from: shown_date(&query.from),
        until: shown_date(&query.until),
        previous_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
        page,
        pages,
        total,
        error,
    })
}

/// A date input's value: the date asked for, or empty when it is not a date (a date input
/// cannot hold anything else; the error above the table says what was wrong).
fn shown_date(text: &str) -> String {
    match parse_day(text) {
        Some(_) => text.trim().to_owned(),
        None => String::new(),
    }
}

fn serde_html_query(query: &AuditQuery) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("action", &query.action)
        .append_pair("person", &query.person)
        .append_pair("from", &query.from)
        .append_pair("until", &query.until)
        .append_pair("page", &query.page)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::parse_day;

    const DAY_MS: i64 = 24 * 60 * 60 * 1000;

    #[test]
    fn dates_parse_to_the_bounds_of_their_utc_day() {
        assert_eq!(parse_day("1970-01-01"), Some((0, DAY_MS)));
        assert_eq!(
            parse_day("2000-03-01"),
            Some((11_017 * DAY_MS, 11_018 * DAY_MS))
        );
        assert_eq!(
            parse_day(" 2026-11-27 "),
            Some((20_784 * DAY_MS, 20_785 * DAY_MS))
        );
        assert_eq!(
            parse_day("2028-02-29"),
            Some((21_243 * DAY_MS, 21_244 * DAY_MS))
        );
    }

    #[test]
    fn dates_that_do_not_exist_are_refused_not_rolled_over() {
        for text in [
            "2026-02-31",
            "2026-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_day(text), None, "{text}");
        }
    }
}
