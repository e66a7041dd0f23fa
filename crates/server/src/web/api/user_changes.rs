//! What a token may do to the company's users: invite one (`POST /api/v1/users`, the person gets
//! the email), edit one, deactivate and activate one, reinvite many with a result for each, and
//! delete an Unconfirmed one. Each calls the use case the Users page calls, with the token's
//! caller as the administrator: the grant rule, the caps, the transaction and the outbox apply
//! as they do there.

use super::idempotency::{self, Answer, IdempotencyHeader};
use super::json::ApiJson;
use super::users::{User, load};
use super::{ApiId, ApiUser, FieldProblem, Problem};
use crate::usecases::FieldErrors;
use crate::usecases::edit_user::{EditError, EditInput, edit_user};
use crate::usecases::invite_user::{InviteError, InviteInput, invite_user};
use crate::usecases::manage_users::{
    BulkOutcome, MAX_SELECTION, ManageUsersError, delete_users, reinvite_each, set_users_status,
};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::session::ManageUsers;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use onestop_domain::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A new user, invited: New User's fields.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[serde(default)]
    pub first_name: String,
    #[schema(min_length = 1)]
    pub last_name: String,
    #[schema(min_length = 3)]
    pub email: String,
    /// From GET /api/v1/profiles (one the token's creator may assign).
    #[schema(min_length = 1)]
    pub profile_id: String,
    /// From GET /api/v1/roles (one the token's creator may assign).
    #[schema(min_length = 1)]
    pub role_id: String,
    /// Added to the invitation email.
    #[serde(default)]
    pub personal_message: String,
}

fn field_errors(errors: &FieldErrors) -> Problem {
    Problem::invalid(errors)
}

/// Invites a user: they are created Unconfirmed and get the invitation email.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    params(IdempotencyHeader),
    request_body = NewUser,
    responses(
        (status = 201, description = "Invited; `Location` names the new user", body = User,
            headers(("Location" = String, description = "The new user's address"))),
        (status = 400, description = "Not JSON, or an unusable Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields need attention (or the Idempotency-Key was used with another request)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn create(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<Response, Problem> {
    let key = idempotency::key_of(&headers)?;
    let run = || async {
        let input = InviteInput {
            first_name: new.first_name.clone(),
            last_name: new.last_name.clone(),
            email: new.email.clone(),
            profile_id: new.profile_id.clone(),
            role_id: new.role_id.clone(),
            personal_message: new.personal_message.clone(),
        };
        let invited = invite_user(&state.services, &caller.actor, &input, Some(&client.ip)).await;
        let answer: Result<Answer, Problem> = async {
            let user_id = match invited {
                Ok(user_id) => user_id,
                Err(InviteError::Invalid(errors) | InviteError::EmailTaken(errors)) => {
                    return Err(field_errors(&errors));
                }
                Err(InviteError::Internal(error)) => return Err(Problem::internal(&error)),
            };
            let user_id = UserId::parse(&user_id).ok_or_else(Problem::not_found)?;
            let user = load(&state, &caller.actor, &user_id).await?;
            let location = format!("/api/v1/users/{}", user.id);
            Ok(Answer::json(StatusCode::CREATED, &user, Some(location)))
        }
        .await;
        answer.unwrap_or_else(Answer::from)
    };
    Ok(idempotency::once(&state, &caller, key, "POST /api/v1/users", &new, run).await)
}

/// Changes to a user; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    pub first_name: Option<String>,
    #[schema(min_length = 1)]
    pub last_name: Option<String>,
    /// Only while the user is Unconfirmed; they get a new invitation at the new address.
    pub email: Option<String>,
    pub profile_id: Option<String>,
    pub role_id: Option<String>,
}

/// Edits a user as Edit User does.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{user_id}",
    tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    request_body = UserChanges,
    responses(
        (status = 200, description = "The user as they are now", body = User),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users, or the user's profile or role is above its creator's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the company", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields need attention", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn update(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
    client: Client,
    ApiId(user_id): ApiId<UserId>,
    ApiJson(changes): ApiJson<UserChanges>,
) -> Result<Json<User>, Problem> {
    let current = load(&state, &caller.actor, &user_id).await?;
    if let Some(email) = &changes.email
        && current.status != super::users::Status::Unconfirmed
        && email.trim().to_lowercase() != current.email.trim().to_lowercase()
    {
        return Err(Problem::invalid_fields(vec![FieldProblem {
            field: "email".to_owned(),
            message: "The email address can be changed only while the user is Unconfirmed."
                .to_owned(),
        }]));
    }
    let input = EditInput {
        first_name: changes
            .first_name
            .unwrap_or_else(|| current.first_name.clone().unwrap_or_default()),
        last_name: changes.last_name.unwrap_or(current.last_name),
        email: changes.email.unwrap_or(current.email),
        profile_id: changes.profile_id.unwrap_or(current.profile.id),
        role_id: changes.role_id.unwrap_or(current.role.id),
    };
    match edit_user(
        &state.services,
        &caller.actor,
        &user_id,
        &input,
        Some(&client.ip),
    )
    .await
    {
        Ok(()) => Ok(Json(load(&state, &caller.actor, &user_id).await?)),
        Err(EditError::Invalid(errors) | EditError::EmailTaken(errors)) => {
            Err(field_errors(&errors))
        }
        // The user exists (loaded above): the grant rule keeps them from this token.
        Err(EditError::NotFound) => Err(above_the_caller()),
        Err(EditError::Internal(error)) => Err(Problem::internal(&error)),
    }
}

fn above_the_caller() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "This user has a profile or role above the token's creator's; nothing was changed.",
    )
}

/// One user's status action, through the bulk use case: 409 with its reason when it does not
/// apply, else the user as they are now.
async fn single(
    state: &AppState,
    caller: &ApiUser<ManageUsers>,
    user_id: &UserId,
    outcome: Result<BulkOutcome, ManageUsersError>,
) -> Result<Json<User>, Problem> {
    let outcome = outcome.map_err(|error| Problem::internal(&error))?;
    if !outcome.skipped.is_empty() {
        return Err(Problem::conflict(format!(
            "{}. Nothing was changed.",
            outcome.skipped.join(". ")
        )));
    }
    Ok(Json(load(state, &caller.actor, user_id).await?))
}

/// Deactivates a user: they cannot sign in, their sessions end, a pending invitation is withdrawn.
#[utoipa::path(
    post,
    path = "/api/v1/users/{user_id}/deactivate",
    tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user, now Deactivated", body = User),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It does not apply (already deactivated, the token's creator, the last administrator, above the creator)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn deactivate(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
    client: Client,
    ApiId(user_id): ApiId<UserId>,
) -> Result<Json<User>, Problem> {
    load(&state, &caller.actor, &user_id).await?;
    let ids = [user_id.to_string()];
    let outcome =
        set_users_status(&state.services, &caller.actor, &ids, true, Some(&client.ip)).await;
    single(&state, &caller, &user_id, outcome).await
}

/// Activates a deactivated user: Active again if they had joined, else Unconfirmed (reinvite
/// them).
#[utoipa::path(
    post,
    path = "/api/v1/users/{user_id}/activate",
    tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user, now Active or Unconfirmed", body = User),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It does not apply (not deactivated, above the creator)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn activate(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
    client: Client,
    ApiId(user_id): ApiId<UserId>,
) -> Result<Json<User>, Problem> {
    load(&state, &caller.actor, &user_id).await?;
    let ids = [user_id.to_string()];
    let outcome = set_users_status(
        &state.services,
        &caller.actor,
        &ids,
        false,
        Some(&client.ip),
    )
    .await;
    single(&state, &caller, &user_id, outcome).await
}

/// Deletes a user who never joined (Unconfirmed); others are deactivated instead.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{user_id}",
    tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user has joined (deactivate them instead), or is above the creator", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn delete(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
    client: Client,
    ApiId(user_id): ApiId<UserId>,
) -> Result<StatusCode, Problem> {
    let user = load(&state, &caller.actor, &user_id).await?;
    let ids = [user_id.to_string()];
    let outcome = delete_users(&state.services, &caller.actor, &ids, Some(&client.ip))
        .await
        .map_err(|error| Problem::internal(&error))?;
    if !outcome.skipped.is_empty() {
        let mut detail = format!("{}. Nothing was deleted.", outcome.skipped.join(". "));
        if user.status != super::users::Status::Unconfirmed {
            detail = format!(
                "Only Unconfirmed users can be deleted; {} has joined. Deactivate them instead \
                 (POST /api/v1/users/{}/deactivate).",
                user.email, user.id
            );
        }
        return Err(Problem::conflict(detail));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Whom to reinvite.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reinvite {
    /// 1 to 1000 user ids.
    #[schema(min_items = 1, max_items = 1000)]
    pub user_ids: Vec<String>,
    /// Added to every invitation email.
    #[serde(default)]
    pub personal_message: String,
}

/// What became of one user.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReinviteResult {
    /// A new invitation is on its way; the previous link no longer works.
    Reinvited,
    /// Not reinvited; `reason` says why.
    Skipped,
    /// No such user in the company.
    NotFound,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserReinviteOutcome {
    pub user_id: String,
    pub result: ReinviteResult,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReinviteOutcome {
    /// How many were reinvited.
    pub reinvited: usize,
    /// One entry per distinct id asked for, in the order asked.
    pub results: Vec<UserReinviteOutcome>,
}

/// Sends Unconfirmed users a new invitation (the previous link stops working), with a result
/// for each.
#[utoipa::path(
    post,
    path = "/api/v1/users/reinvite",
    tag = "users",
    params(IdempotencyHeader),
    request_body = Reinvite,
    responses(
        (status = 200, description = "A result for each user", body = ReinviteOutcome),
        (status = 400, description = "Not JSON, or an unusable Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields need attention (or the Idempotency-Key was used with another request)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn reinvite(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    ApiJson(request): ApiJson<Reinvite>,
) -> Result<Response, Problem> {
    let key = idempotency::key_of(&headers)?;
    if request.user_ids.is_empty() || request.user_ids.len() > MAX_SELECTION {
        return Err(Problem::invalid_fields(vec![FieldProblem {
            field: "user_ids".to_owned(),
            message: format!("Name 1 to {MAX_SELECTION} users."),
        }]));
    }
    if let Some(malformed) = request
        .user_ids
        .iter()
        .find(|id| UserId::parse(id).is_none())
    {
        return Err(Problem::invalid_fields(vec![FieldProblem {
            field: "user_ids".to_owned(),
            message: format!("{malformed:?} is not a user id; take ids from GET /api/v1/users."),
        }]));
    }
    let run = || async {
        let report = reinvite_each(
            &state.services,
            &caller.actor,
            &request.user_ids,
            &request.personal_message,
            Some(&client.ip),
        )
        .await;
        let report = match report {
            Ok(report) => report,
            Err(ManageUsersError::InvalidPersonalMessage(message)) => {
                return Answer::from(Problem::invalid_fields(vec![FieldProblem {
                    field: "personal_message".to_owned(),
                    message,
                }]));
            }
            Err(error @ ManageUsersError::TooManySelected) => {
                return Answer::from(Problem::invalid_fields(vec![FieldProblem {
                    field: "user_ids".to_owned(),
                    message: error.to_string(),
                }]));
            }
            Err(error) => return Answer::from(Problem::internal(&error)),
        };
        let mut seen = std::collections::HashSet::new();
        let results = request
            .user_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .map(|id| {
                let sent = report.sent.iter().any(|user| user.as_str() == id);
                let skip = report
                    .skipped
                    .iter()
                    .find(|skip| skip.user_id.as_str() == id);
                let (result, reason) = match (sent, skip) {
                    (true, _) => (ReinviteResult::Reinvited, None),
                    (false, Some(skip)) => (ReinviteResult::Skipped, Some(skip.reason.clone())),
                    (false, None) => (ReinviteResult::NotFound, None),
                };
                UserReinviteOutcome {
                    user_id: id.clone(),
                    result,
                    reason,
                }
            })
            .collect();
        Answer::json(
            StatusCode::OK,
            &ReinviteOutcome {
                reinvited: report.sent.len(),
                results,
            },
            None,
        )
    };
    Ok(idempotency::once(
        &state,
        &caller,
        key,
        "POST /api/v1/users/reinvite",
        &request,
        run,
    )
    .await)
}
