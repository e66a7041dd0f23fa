//! SCIM 2.0 (RFC 7643/7644) at `/scim/v2`, for identity providers (Okta, Microsoft Entra ID)
//! holding a SCIM token. Handlers read SCIM JSON at the edge ([`resource`], [`patch`]) and call
//! the use cases of [`crate::usecases::scim`] with the token's caller as the actor.
//!
//! Groups are not supported: `/Groups` answers a SCIM 404.

pub mod discovery;
mod errors;
mod patch;
mod resource;
pub mod users;

pub use errors::ScimResponse;

use super::AppState;
use super::bearer::caller_of;
use super::client::Client;
use crate::usecases::api_tokens::ApiCaller;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use onestop_domain::{ApiTokenKind, Permission};

/// The media type of every SCIM body (RFC 7644 §3.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// A request with a live SCIM token whose caller may manage users; others get a SCIM error (401
/// without a valid SCIM token, 403 when its creator no longer may manage users).
#[derive(Debug)]
pub struct ScimCaller {
    pub caller: ApiCaller,
    /// The client's address, for the audit trail.
    pub ip: String,
}

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ScimResponse;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = caller_of(
            parts,
            state,
            ApiTokenKind::Scim,
            Some(Permission::ManageUsers),
        )
        .await?;
        let Ok(client) = Client::from_request_parts(parts, state).await;
        Ok(Self {
            caller,
            ip: client.ip,
        })
    }
}

/// The base of every SCIM address: the public URL followed by `scim/v2`.
pub fn base_url(state: &AppState) -> String {
    format!("{}scim/v2", state.services.public_url)
}
