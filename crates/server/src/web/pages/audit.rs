//! Setup > Audit Log: every administrative and security event, filtered and paged.

use super::Shell;
use crate::store::{AuditFilter, AuditLogEntry};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::{RequirePermission, ViewAuditLog};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use onestop_domain::{AuditAction, UserId};

const PAGE_SIZE: i64 = 50;

pub struct LogLine {
    pub at: LocalTime,
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

pub(super) fn line(entry: AuditLogEntry, times: &LocalTimes) -> LogLine {
    LogLine {
        at: times.at(entry.at),
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
    /// The Person search as typed.
    who: String,
    /// Set by a link from a user's page: only their events, with a link back to everyone's.
    person: Option<PersonFilter>,
    from: String,
    until: String,
    page: i64,
    pages: i64,
    total: i64,
    previous_link: Option<String>,
    next_link: Option<String>,
    error: Option<String>,
}

/// "Only events of {name}", from a user's page.
pub struct PersonFilter {
    pub id: String,
    pub name: String,
    /// The same filters without this person.
    pub everyone_link: String,
}

#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    /// A user id (the link from a user's page).
    #[serde(default)]
    person: String,
    /// The Person search: part of a name, email or username.
    #[serde(default)]
    who: String,
    /// YYYY-MM-DD (in the reader's time zone), inclusive.
    #[serde(default)]
    from: String,
    /// YYYY-MM-DD (in the reader's time zone), inclusive.
    #[serde(default)]
    until: String,
    #[serde(default)]
    page: String,
}

pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ViewAuditLog>,
    Query(query): Query<AuditQuery>,
) -> Result<AuditPage, WebError> {
    let times = LocalTimes::for_reader(&user, &state.services);
    let mut error = None;
    let mut date = |text: &str, field: &str| -> Option<(i64, i64)> {
        if text.trim().is_empty() {
            return None;
        }
        // The reader's day, in the reader's zone.
        let parsed = times
            .zone()
            .day(text)
            .map(|(start, end)| (start.unix_millis(), end.unix_millis()));
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
    // Any id is safe to filter by: the query only reads this organization's events.
    let person = (!query.person.is_empty()).then(|| query.person.clone());
    let person_name = match UserId::parse(&query.person) {
        Some(id) => state
            .services
            .store
            .user_record(&user.scope, &id)
            .await?
            .map(|record| name(record.first_name, Some(record.last_name))),
        None => None,
    };
    let filter = AuditFilter {
        action,
        person,
        person_search: Some(query.who.clone()),
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
        lines: entries
            .into_iter()
            .map(|entry| line(entry, &times))
            .collect(),
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
        who: query.who.clone(),
        person: person_name.map(|name| PersonFilter {
            id: query.person.clone(),
            name,
            everyone_link: format!(
                "/setup/audit?{}",
                serde_html_query(&AuditQuery {
                    person: String::new(),
                    page: String::new(),
                    ..query.clone()
                })
            ),
        }),
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
    match text.trim().parse::<jiff::civil::Date>() {
        Ok(_) => text.trim().to_owned(),
        Err(_) => String::new(),
    }
}

fn serde_html_query(query: &AuditQuery) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("action", &query.action)
        .append_pair("person", &query.person)
        .append_pair("who", &query.who)
        .append_pair("from", &query.from)
        .append_pair("until", &query.until)
        .append_pair("page", &query.page)
        .finish()
}
