//! `GET /api/v1/me`: who a token acts as. The first call a script makes, to check its token.

use super::AnyApiUser;
use axum::Json;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Me {
    pub token: TokenSummary,
    pub user: UserSummary,
    pub company: String,
}

#[derive(Debug, Serialize)]
pub struct TokenSummary {
    pub id: String,
    pub name: String,
    /// The permissions the token acts with now: those chosen for it that its creator still holds.
    pub permissions: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct UserSummary {
    pub id: String,
    pub name: String,
    pub email: String,
}

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
