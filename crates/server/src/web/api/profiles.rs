//! `GET /api/v1/profiles`: the company's profiles, each saying whether the token may assign it
//! (the grant rule), so a script can choose `profile_id` for a new user. Reading them takes
//! Manage Users, as New User shows them to whoever may invite.

use super::{ApiUser, Problem};
use crate::web::AppState;
use crate::web::session::ManageUsers;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `administrator`, `standard` and so on for the built-in profiles; none for the company's own.
    pub builtin: Option<String>,
    /// The permissions it grants (`manage_users`, ...).
    pub permissions: Vec<String>,
    /// Whether this token may give it to a user (it grants nothing its creator lacks).
    pub assignable: bool,
    /// Whether its users must set up two-step verification (Setup > Profiles; read-only here).
    pub require_two_step: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileList {
    pub profiles: Vec<Profile>,
}

/// The company's profiles.
#[utoipa::path(
    get,
    path = "/api/v1/profiles",
    tag = "profiles and roles",
    responses(
        (status = 200, description = "Every profile of the company", body = ProfileList),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
) -> Result<Json<ProfileList>, Problem> {
    let services = &state.services;
    let internal = |error: crate::store::StoreError| Problem::internal(&error);
    let grantor = caller.actor.grantor();
    let profiles = services
        .store
        .profiles(&caller.actor.scope)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|profile| {
            Ok(Profile {
                assignable: grantor.may_grant_profile(profile.grant()?),
                require_two_step: profile.requires_two_step(),
                permissions: profile
                    .permissions()?
                    .iter()
                    .map(|permission| permission.key().to_owned())
                    .collect(),
                id: profile.id.to_string(),
                name: profile.name,
                description: profile.description,
                builtin: profile.builtin,
            })
        })
        .collect::<Result<_, crate::store::StoreError>>()
        .map_err(internal)?;
    Ok(Json(ProfileList { profiles }))
}
