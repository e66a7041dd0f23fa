//! `GET /api/v1/me`: who a token acts as. The first call a script makes, to check its token.

use super::AnyApiUser;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub token: TokenSummary,
    pub user: UserSummary,
    pub company: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenSummary {
    pub id: String,
    pub name: String,
    /// The permissions the token acts with now: those chosen for it that its creator still holds.
    pub permissions: Vec<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// Who the token acts as, and what it may do now.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "token",
    responses(
        (status = 200, description = "The token, its creator and company", body = Me),
        (status = 401, description = "No valid API token", body = super::Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = super::Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn show(AnyApiUser(caller): AnyApiUser) -> Json<Me> {
    let actor = &caller.actor;
    Json(Me {
        token: TokenSummary {
            id: caller.token_id.to_string(),
            name: caller.token_name.clone(),
            permissions: actor.permissions.iter().map(|p| p.key()).collect(),
        },
        user: UserSummary {
            id: actor.user_id.to_string(),
            name: actor.full_name(),
            email: actor.email.clone(),
        },
        company: actor.company_name.clone(),
    })
}
