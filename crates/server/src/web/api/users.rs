//! `GET /api/v1/users` and `GET /api/v1/users/{user_id}`: the Users page's list (its views,
//! search, filters and sorting) by cursor, and one user. Changes are in `user_changes`.

use super::json::{ApiQuery, decode_cursor, encode_cursor, limit, time};
use super::{ApiId, ApiUser, Problem};
use crate::store::{
    DirectoryRow, PageStart, RowKey, SortColumn, SortOrder, SortValue, UserFilters, UserMatch,
    UserRecord, ViewFilter,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::session::ManageUsers;
use axum::Json;
use axum::extract::State;
use onestop_domain::{ProfileId, RoleId, UserId, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Users per page unless `limit` says otherwise, and the most `limit` may ask for.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// Where a user stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Invited, has not joined yet.
    Unconfirmed,
    Active,
    Deactivated,
}

impl From<UserStatus> for Status {
    fn from(status: UserStatus) -> Self {
        match status {
            UserStatus::Unconfirmed => Self::Unconfirmed,
            UserStatus::Active => Self::Active,
            UserStatus::Deactivated => Self::Deactivated,
        }
    }
}

/// A profile or role as a user carries it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// One user of the company.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    #[schema(example = "0193a5d0-7e1c-7b4a-9d1e-3f2a1b0c9d8e")]
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    /// Chosen when they join; none before.
    pub username: Option<String>,
    pub status: Status,
    pub profile: Named,
    pub role: Named,
    /// When they were first invited (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub invited_at: String,
    #[schema(format = DateTime)]
    pub last_sign_in_at: Option<String>,
}

impl User {
    fn from_row(row: DirectoryRow) -> Result<Self, Problem> {
        let status = row
            .status
            .parse::<UserStatus>()
            .map_err(|error| Problem::internal(&error))?;
        Ok(Self {
            id: row.id,
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            username: row.username,
            status: status.into(),
            profile: Named {
                id: row.profile_id,
                name: row.profile_name,
            },
            role: Named {
                id: row.role_id,
                name: row.role_name,
            },
            invited_at: time(row.created_at),
            last_sign_in_at: row.last_sign_in_at.map(time),
        })
    }

    pub fn from_record(record: UserRecord) -> Result<Self, Problem> {
        let status = record.status().map_err(|error| Problem::internal(&error))?;
        Ok(Self {
            id: record.id.to_string(),
            first_name: record.first_name,
            last_name: record.last_name,
            email: record.email,
            username: record.username,
            status: status.into(),
            profile: Named {
                id: record.profile_id,
                name: record.profile_name,
            },
            role: Named {
                id: record.role_id,
                name: record.role_name,
            },
            invited_at: time(record.created_at),
            last_sign_in_at: record.last_sign_in_at.map(time),
        })
    }
}

/// A page of users, and the cursor of the next page (none on the last).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
    pub next_cursor: Option<String>,
}

/// The Users page's views.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum View {
    All,
    Active,
    Unconfirmed,
    Deactivated,
    /// Users with the Administrator profile.
    Admins,
}

/// The Users page's sortable columns.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Name,
    Status,
    Role,
    Profile,
    Invited,
    LastSignIn,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Asc,
    Desc,
}

/// What `GET /api/v1/users` takes; every value is checked, and one that is not understood is a
/// 400 naming it.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Which users (default `all`).
    #[param(value_type = Option<View>)]
    pub view: Option<String>,
    /// Part of a name, email address or username.
    pub q: Option<String>,
    /// Only users with this profile.
    pub profile_id: Option<String>,
    /// Only users with this role.
    pub role_id: Option<String>,
    /// The column to sort by (default `name`: last name, then first).
    #[param(value_type = Option<Sort>)]
    pub sort: Option<String>,
    /// Default `asc`.
    #[param(value_type = Option<Direction>)]
    pub direction: Option<String>,
    /// The `next_cursor` of the previous page, with the same `sort` and `direction`.
    pub cursor: Option<String>,
    /// Users per page, 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

fn one_of<T: serde::de::DeserializeOwned>(
    name: &str,
    text: Option<&str>,
    choices: &str,
) -> Result<Option<T>, Problem> {
    let Some(text) = text else {
        return Ok(None);
    };
    serde_json::from_value(serde_json::Value::String(text.trim().to_owned()))
        .map(Some)
        .map_err(|_| Problem::bad_parameter(name, format!("Use one of {choices}.")))
}

/// The position a cursor of this list holds: the order it was made in, and the row to go on
/// from.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    sort: String,
    descending: bool,
    text: Option<String>,
    time: Option<i64>,
    last_name: String,
    id: String,
}

fn sort_key(column: SortColumn) -> &'static str {
    match column {
        SortColumn::Name => "name",
        SortColumn::Status => "status",
        SortColumn::Role => "role",
        SortColumn::Profile => "profile",
        SortColumn::Invited => "invited",
        SortColumn::LastSignIn => "last_sign_in",
    }
}

fn position_of(row: &DirectoryRow, sort: SortOrder) -> Position {
    let key = row.key(sort.column);
    let (text, time) = match key.sort_value {
        Some(SortValue::Text(text)) => (Some(text), None),
        Some(SortValue::Time(time)) => (None, Some(time)),
        None => (None, None),
    };
    Position {
        sort: sort_key(sort.column).to_owned(),
        descending: sort.descending,
        text,
        time,
        last_name: key.last_name,
        id: key.id,
    }
}

/// Where a page starts: the first rows, or after the cursor's row when it was made in this order.
fn start_of(cursor: Option<&str>, sort: SortOrder) -> Result<PageStart, Problem> {
    let Some(cursor) = cursor else {
        return Ok(PageStart::First);
    };
    let refused = || {
        Problem::bad_parameter(
            "cursor",
            "Pass back a `next_cursor` of this list unchanged, with the same `sort` and `direction`.",
        )
    };
    let position: Position = decode_cursor(cursor).ok_or_else(refused)?;
    if position.sort != sort_key(sort.column) || position.descending != sort.descending {
        return Err(refused());
    }
    let id = UserId::parse(&position.id).ok_or_else(refused)?;
    let sort_value = match (sort.column, position.text, position.time) {
        (SortColumn::Name, _, _) => None,
        (column, _, Some(time)) if column.is_time() => Some(SortValue::Time(time)),
        (column, Some(text), _) if !column.is_time() => Some(SortValue::Text(text)),
        _ => return Err(refused()),
    };
    Ok(PageStart::After(RowKey {
        sort_value,
        last_name: position.last_name,
        id: id.as_str().to_owned(),
    }))
}

/// A profile or role id to filter by; a malformed one is refused (an unknown one matches nobody).
fn id_filter<T>(
    name: &str,
    text: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, Problem> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => parse(text).map(Some).ok_or_else(|| {
            Problem::bad_parameter(
                name,
                "Give an id from GET /api/v1/profiles or /api/v1/roles.",
            )
        }),
    }
}

/// The users `query` asks for, as the Users page would list them.
fn matching(query: &ListQuery) -> Result<(UserMatch, SortOrder), Problem> {
    let view = match one_of::<View>(
        "view",
        query.view.as_deref(),
        "all, active, unconfirmed, deactivated, admins",
    )?
    .unwrap_or(View::All)
    {
        View::All => ViewFilter::All,
        View::Active => ViewFilter::Active,
        View::Unconfirmed => ViewFilter::Unconfirmed,
        View::Deactivated => ViewFilter::Deactivated,
        View::Admins => ViewFilter::Admins,
    };
    let column = match one_of::<Sort>(
        "sort",
        query.sort.as_deref(),
        "name, status, role, profile, invited, last_sign_in",
    )?
    .unwrap_or(Sort::Name)
    {
        Sort::Name => SortColumn::Name,
        Sort::Status => SortColumn::Status,
        Sort::Role => SortColumn::Role,
        Sort::Profile => SortColumn::Profile,
        Sort::Invited => SortColumn::Invited,
        Sort::LastSignIn => SortColumn::LastSignIn,
    };
    let descending = matches!(
        one_of::<Direction>("direction", query.direction.as_deref(), "asc, desc")?,
        Some(Direction::Desc)
    );
    let profile = id_filter("profile_id", query.profile_id.as_deref(), ProfileId::parse)?;
    let role = id_filter("role_id", query.role_id.as_deref(), RoleId::parse)?;
    let search = query.q.as_deref().unwrap_or_default().trim().to_owned();
    if search.chars().count() > 200 {
        return Err(Problem::bad_parameter(
            "q",
            "Search for at most 200 characters.",
        ));
    }
    Ok((
        UserMatch {
            view,
            search,
            filters: UserFilters { profile, role },
        },
        SortOrder { column, descending },
    ))
}

/// The company's users, as the Users page lists them, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of users", body = UserList),
        (status = 400, description = "A parameter cannot be used", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<UserList>, Problem> {
    let (matching, sort) = matching(&query)?;
    let limit = limit(query.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let start = start_of(query.cursor.as_deref(), sort)?;
    let mut rows = state
        .services
        .store
        .sorted_user_page(&caller.actor.scope, &matching, sort, &start, limit + 1)
        .await
        .map_err(|error| Problem::internal(&error))?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(encode_cursor(&position_of(last, sort))),
        _ => None,
    };
    Ok(Json(UserList {
        users: rows
            .into_iter()
            .map(User::from_row)
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// The user `user_id` of the caller's company, or 404 (also for another company's id).
pub async fn load(
    state: &AppState,
    actor: &SignedInSession,
    user_id: &UserId,
) -> Result<User, Problem> {
    let record = state
        .services
        .store
        .user_record(&actor.scope, user_id)
        .await
        .map_err(|error| Problem::internal(&error))?
        .ok_or_else(Problem::not_found)?;
    User::from_record(record)
}

/// One user.
#[utoipa::path(
    get,
    path = "/api/v1/users/{user_id}",
    tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the company", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn show(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
    ApiId(user_id): ApiId<UserId>,
) -> Result<Json<User>, Problem> {
    Ok(Json(load(&state, &caller.actor, &user_id).await?))
}
