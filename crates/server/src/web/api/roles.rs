//! `GET /api/v1/roles`: the company's roles (a tree: each names its parent), each saying whether
//! the token may assign it (the grant rule). Reading them takes Manage Users, as New User shows
//! them to whoever may invite.

use super::{ApiUser, Problem};
use crate::web::AppState;
use crate::web::session::ManageUsers;
use axum::Json;
use axum::extract::State;
use onestop_domain::RoleTree;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The role above this one; none at the top.
    pub parent_id: Option<String>,
    /// Whether this token may give it to a user (its creator's role or one below it).
    pub assignable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    pub roles: Vec<Role>,
}

/// The company's roles.
#[utoipa::path(
    get,
    path = "/api/v1/roles",
    tag = "profiles and roles",
    responses(
        (status = 200, description = "Every role of the company", body = RoleList),
        (status = 401, description = "No valid API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks Manage Users", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list(
    caller: ApiUser<ManageUsers>,
    State(state): State<AppState>,
) -> Result<Json<RoleList>, Problem> {
    let services = &state.services;
    let internal = |error: crate::store::StoreError| Problem::internal(&error);
    let grantor = caller.actor.grantor();
    let roles = services
        .store
        .roles(&caller.actor.scope)
        .await
        .map_err(internal)?;
    let tree = RoleTree::new(
        roles
            .iter()
            .map(|role| (role.id.clone(), role.parent_id.clone())),
    );
    let roles = roles
        .into_iter()
        .map(|role| Role {
            assignable: grantor.may_grant_role(&tree, &role.id),
            id: role.id.to_string(),
            name: role.name,
            description: role.description,
            parent_id: role.parent_id.map(|parent| parent.to_string()),
        })
        .collect();
    Ok(Json(RoleList { roles }))
}
