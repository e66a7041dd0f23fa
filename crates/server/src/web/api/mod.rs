//! The JSON API under `/api/v1`, for scripts holding an API token. Every handler calls the same use
//! cases as the pages, with the token's caller as the actor, so the grant rule, the company's
//! limits, the single transaction and the outbox apply exactly as on the pages.
//!
//! Errors are RFC 9457 problem documents ([`Problem`]).

pub mod audit_events;
mod idempotency;
pub mod json;
pub mod me;
pub mod openapi;
mod problem;
pub mod profiles;
pub mod roles;
pub mod user_changes;
pub mod users;

pub use problem::{FieldProblem, Problem};

use super::AppState;
use super::bearer::caller_of;
use super::session::RequiredPermission;
use crate::usecases::api_tokens::ApiCaller;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use onestop_domain::ApiTokenKind;
use std::marker::PhantomData;
use std::ops::Deref;

/// A request with a live API token that carries `P`. Others get a problem document: 401 without
/// a valid API token, 403 when it lacks `P` (and nothing is read or written).
#[derive(Debug)]
pub struct ApiUser<P: RequiredPermission> {
    pub caller: ApiCaller,
    permission: PhantomData<P>,
}

impl<P: RequiredPermission> FromRequestParts<AppState> for ApiUser<P> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = caller_of(parts, state, ApiTokenKind::Api, Some(P::PERMISSION)).await?;
        Ok(Self {
            caller,
            permission: PhantomData,
        })
    }
}

impl<P: RequiredPermission> Deref for ApiUser<P> {
    type Target = ApiCaller;

    fn deref(&self) -> &Self::Target {
        &self.caller
    }
}

/// A request with any live API token, whatever it carries.
#[derive(Debug)]
pub struct AnyApiUser(pub ApiCaller);

impl FromRequestParts<AppState> for AnyApiUser {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            caller_of(parts, state, ApiTokenKind::Api, None).await?,
        ))
    }
}

/// An id in the path, parsed at the edge: a malformed one is 404, like an unknown id or another
/// company's (the store then looks it up within the caller's company only).
#[derive(Debug)]
pub struct ApiId<T>(pub T);

impl<S: Send + Sync, T: onestop_domain::TypedId + Send> FromRequestParts<S> for ApiId<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| Problem::not_found())?;
        T::parse(&raw).map(Self).ok_or_else(Problem::not_found)
    }
}

/// What `/api/v1` answers for an address it does not have: a problem document, not a page.
pub async fn not_found() -> Problem {
    Problem::not_found()
}
