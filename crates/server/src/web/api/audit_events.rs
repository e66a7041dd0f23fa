//! `GET /api/v1/audit-events`: the Audit Log, newest first, filtered as the page filters it (by
//! action, by person, by dates in the token creator's time zone), a page at a time by cursor.
//! Takes View Audit Log.

use super::json::{ApiQuery, decode_cursor, encode_cursor, limit, time};
use super::{ApiUser, Problem};
use crate::store::{AuditEventRow, AuditFilter};
use crate::web::AppState;
use crate::web::local_time::LocalTimes;
use crate::web::session::ViewAuditLog;
use axum::Json;
use axum::extract::State;
use onestop_domain::{AuditAction, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// Someone in an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    pub id: String,
    /// Their name now; none when they were deleted since.
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: String,
    /// What happened (`user_created`, `user_deactivated`, ...).
    pub action: String,
    /// The action as the Audit Log names it.
    pub label: String,
    pub details: String,
    /// The client address, when the event came from a request.
    pub ip: Option<String>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub at: String,
    /// Who did it; none for the system.
    pub actor: Option<Person>,
    /// Whom it was done to, if anyone.
    pub target: Option<Person>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventList {
    pub events: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action (`user_created`, ...).
    pub action: Option<String>,
    /// Only events where this user acted or was acted on.
    pub person: Option<String>,
    /// From this day on (YYYY-MM-DD, in the token creator's time zone).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Up to and including this day.
    #[param(format = Date)]
    pub to: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Events per page, 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Position {
    at: i64,
    id: String,
}

fn person(id: Option<String>, first: Option<String>, last: Option<String>) -> Option<Person> {
    let id = id?;
    let name = match (first, last) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (None, Some(last)) => Some(last),
        _ => None,
    };
    Some(Person { id, name })
}

fn event(row: AuditEventRow) -> AuditEvent {
    let label = AuditAction::parse(&row.action)
        .map_or_else(|| row.action.clone(), |action| action.label().to_owned());
    AuditEvent {
        id: row.id,
        label,
        action: row.action,
        details: row.details,
        ip: row.ip,
        at: time(row.at),
        actor: person(row.actor_user_id, row.actor_first_name, row.actor_last_name),
        target: person(
            row.target_user_id,
            row.target_first_name,
            row.target_last_name,
        ),
    }
}

/// The company's audit events, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit-events",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events", body = AuditEventList),
        (status = 400, description = "A parameter cannot be used", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks View Audit Log", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list(
    caller: ApiUser<ViewAuditLog>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditEventList>, Problem> {
    let times = LocalTimes::for_reader(&caller.actor, &state.services);
    let day = |name: &str, text: Option<&str>| -> Result<Option<(i64, i64)>, Problem> {
        match text.map(str::trim).filter(|text| !text.is_empty()) {
            None => Ok(None),
            Some(text) => times
                .zone()
                .day(text)
                .map(|(start, end)| Some((start.unix_millis(), end.unix_millis())))
                .ok_or_else(|| {
                    Problem::bad_parameter(name, "Give a real date written like 2026-11-27.")
                }),
        }
    };
    let from = day("from", query.from.as_deref())?.map(|(start, _)| start);
    let until = day("to", query.to.as_deref())?.map(|(_, end)| end);
    let action = match query
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        None => None,
        Some(text) => Some(
            AuditAction::parse(text)
                .ok_or_else(|| {
                    Problem::bad_parameter(
                        "action",
                        "Give an action the Audit Log records, such as user_created.",
                    )
                })?
                .as_str()
                .to_owned(),
        ),
    };
    let person = match query
        .person
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(text) => Some(
            UserId::parse(text)
                .ok_or_else(|| Problem::bad_parameter("person", "Give a user's id."))?
                .to_string(),
        ),
    };
    let limit = limit(query.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let after: Option<Position> = match query.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
            Problem::bad_parameter(
                "cursor",
                "Pass back a `next_cursor` of this list unchanged.",
            )
        })?),
    };
    let filter = AuditFilter {
        action,
        person,
        person_search: None,
        from,
        until,
    };
    let mut rows = state
        .services
        .store
        .audit_events_page(
            &caller.actor.scope,
            &filter,
            after
                .as_ref()
                .map(|position| (position.at, position.id.as_str())),
            limit + 1,
        )
        .await
        .map_err(|error| Problem::internal(&error))?;
    let page = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > page;
    rows.truncate(page);
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(encode_cursor(&Position {
            at: last.at,
            id: last.id.clone(),
        })),
        _ => None,
    };
    Ok(Json(AuditEventList {
        events: rows.into_iter().map(event).collect(),
        next_cursor,
    }))
}
