//! Requests authorized by a token (`Authorization: Bearer 1stop_…`) rather than a session: the JSON
//! API and SCIM. Cookies count for nothing here, so a page in a browser can never make such a
//! request on a signed-in user's behalf (no CSRF to defend), and a token never opens a page.

use super::AppState;
use super::client::Client;
use crate::store::StoreError;
use crate::usecases::api_tokens::{ApiCaller, TokenRefusal, authenticate};
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use onestop_domain::{ApiTokenKind, ApiTokenSecret, Permission};

/// Why a request's token does not let it in. Each surface words it in its own format (RFC 9457
/// problems for the API, SCIM errors for SCIM).
#[derive(Debug)]
pub enum BearerProblem {
    /// No `Authorization: Bearer` header: 401.
    Missing,
    /// A header that is not a token of ours, or a token that is unknown, revoked, expired, or
    /// whose creator is no longer Active: 401, one answer for all.
    NotValid,
    /// A token for the other surface: 401.
    WrongKind(ApiTokenKind),
    /// A valid token without the permission this route needs: 403.
    Lacks(Permission),
    Store(StoreError),
}

impl BearerProblem {
    /// The HTTP status, 401, 403 or 500.
    pub fn status(&self) -> u16 {
        match self {
            Self::Missing | Self::NotValid | Self::WrongKind(_) => 401,
            Self::Lacks(_) => 403,
            Self::Store(_) => 500,
        }
    }

    /// What to tell the caller: what is wrong and what to do.
    pub fn message(&self) -> String {
        match self {
            Self::Missing => "Send an API token in the header `Authorization: Bearer <token>`. \
                 Administrators create tokens in Setup > API Tokens."
                .to_owned(),
            Self::NotValid => {
                "This token is not valid: it may be mistyped, revoked or expired, or \
                 its creator may no longer be active. Create a new one in Setup > API Tokens."
                    .to_owned()
            }
            Self::WrongKind(ApiTokenKind::Scim) => {
                "This is a SCIM token; it works only at /scim/v2. Create an API token for /api/v1."
                    .to_owned()
            }
            Self::WrongKind(ApiTokenKind::Api) => {
                "This is an API token; it works only at /api/v1. Create a SCIM token for /scim/v2."
                    .to_owned()
            }
            Self::Lacks(permission) => format!(
                "This token does not carry the {} permission. Create a token that carries it.",
                permission.label()
            ),
            Self::Store(_) => {
                "We could not complete this request. Please try again in a moment.".to_owned()
            }
        }
    }
}

/// The caller of a request on `surface`, which needs `permission` (if any): the token is read
/// from the `Authorization` header, checked, and its use recorded.
pub async fn caller_of(
    parts: &mut Parts,
    state: &AppState,
    surface: ApiTokenKind,
    permission: Option<Permission>,
) -> Result<ApiCaller, BearerProblem> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(BearerProblem::Missing)?;
    let secret = header
        .to_str()
        .ok()
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| ApiTokenSecret::parse(token.trim()))?
        })
        .ok_or(BearerProblem::NotValid)?;
    let Ok(client) = Client::from_request_parts(parts, state).await;
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map_or_else(|| parts.uri.path(), MatchedPath::as_str);
    let request = format!("{} {route}", parts.method);
    let caller = authenticate(
        &state.services,
        &secret,
        surface,
        Some(&client.ip),
        &request,
    )
    .await
    .map_err(BearerProblem::Store)?
    .map_err(|refusal| match refusal {
        TokenRefusal::NotValid => BearerProblem::NotValid,
        TokenRefusal::WrongKind(kind) => BearerProblem::WrongKind(kind),
    })?;
    match permission {
        Some(permission) if !caller.actor.permissions.contains(permission) => {
            Err(BearerProblem::Lacks(permission))
        }
        _ => Ok(caller),
    }
}
