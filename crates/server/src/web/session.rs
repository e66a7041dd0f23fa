//! Who is asking: the session middleware, and the extractors that put authorization in handler
//! signatures. A route that takes [`SignedInUser`] cannot forget the sign-in check, the second
//! step, the two-step setup gate or the Terms gate; one that takes [`RequirePermission`] cannot
//! forget its permission.
//!
//! The gates, in order: [`AnySession`] (Sign Out) < [`PendingSecondStep`] (the second-step
//! page, and nothing else) ; [`SignedInAnyEnrolment`] (the two-step setup pages) <
//! [`SignedInAnyTerms`] (the Terms pages) < [`SignedInUser`] (everything else).

use super::AppState;
use super::cookies;
use super::error::WebError;
use super::pages::Shell;
use crate::usecases::sessions::{SignedInSession, resolve_session};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::{Permission, SecretToken};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

/// The request's live session, if any, put into the request's extensions by [`load_session`].
#[derive(Clone, Debug)]
pub struct CurrentSession(pub Option<Arc<SignedInSession>>);

/// Reads the session cookie once per request. Static files skip it.
pub async fn load_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/static/") {
        return next.run(request).await;
    }
    let jar = CookieJar::from_headers(request.headers());
    let token = jar
        .get(&cookies::name(cookies::SESSION, state.settings.https))
        .and_then(|cookie| SecretToken::parse(cookie.value()));
    let session = match token {
        Some(token) => match resolve_session(&state.services, &token).await {
            Ok(session) => session.map(Arc::new),
            Err(error) => return WebError::from(error).into_response(),
        },
        None => None,
    };
    request
        .extensions_mut()
        .insert(CurrentSession(session.clone()));
    let response = next.run(request).await;
    match session {
        // A session that owes its second step is not signed in yet: no account header.
        Some(session) if !session.second_step_pending => {
            super::error::with_header(response, Shell::of(&session))
        }
        _ => response,
    }
}

fn current(parts: &Parts) -> Option<Arc<SignedInSession>> {
    parts
        .extensions
        .get::<CurrentSession>()
        .and_then(|current| current.0.clone())
}

/// Where to come back to after signing in: the path and query of this request (GET only).
fn return_path(parts: &Parts) -> String {
    if parts.method == axum::http::Method::GET {
        parts
            .uri
            .path_and_query()
            .map_or("/", |path| path.as_str())
            .to_owned()
    } else {
        "/".to_owned()
    }
}

/// Any live session, even one that still owes its second step or a two-step setup: for Sign
/// Out, which works in every state.
#[derive(Debug, Clone)]
pub struct AnySession(pub Arc<SignedInSession>);

impl<S: Send + Sync> FromRequestParts<S> for AnySession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        current(parts)
            .map(Self)
            .ok_or_else(|| WebError::SignInRequired {
                next: return_path(parts),
            })
    }
}

/// A session whose password was checked and whose second step is still owed: for the
/// second-step pages only. A complete session is sent on to the homepage (through `/login`).
#[derive(Debug, Clone)]
pub struct PendingSecondStep(pub Arc<SignedInSession>);

impl<S: Send + Sync> FromRequestParts<S> for PendingSecondStep {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match current(parts) {
            Some(session) if session.second_step_pending => Ok(Self(session)),
            _ => Err(WebError::SignInRequired {
                next: "/".to_owned(),
            }),
        }
    }
}

/// A signed-in user (second step done) who may still owe the two-step setup their profile
/// requires: for the setup pages of that gate.
#[derive(Debug, Clone)]
pub struct SignedInAnyEnrolment(pub Arc<SignedInSession>);

impl<S: Send + Sync> FromRequestParts<S> for SignedInAnyEnrolment {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AnySession(session) = AnySession::from_request_parts(parts, state).await?;
        if session.second_step_pending {
            return Err(WebError::SecondStepRequired);
        }
        Ok(Self(session))
    }
}

/// A signed-in user (second step done, two-step set up if the profile requires it) who may not
/// have accepted the current Terms yet: for the Terms page itself.
#[derive(Debug, Clone)]
pub struct SignedInAnyTerms(pub Arc<SignedInSession>);

impl<S: Send + Sync> FromRequestParts<S> for SignedInAnyTerms {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let SignedInAnyEnrolment(session) =
            SignedInAnyEnrolment::from_request_parts(parts, state).await?;
        if session.must_enrol_two_step {
            return Err(WebError::TwoStepSetupRequired {
                next: return_path(parts),
            });
        }
        Ok(Self(session))
    }
}

/// A signed-in user past every gate: second step done, two-step set up if required, and the
/// organization's current Terms of Service accepted.
#[derive(Debug, Clone)]
pub struct SignedInUser(pub Arc<SignedInSession>);

impl<S: Send + Sync> FromRequestParts<S> for SignedInUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let SignedInAnyTerms(session) = SignedInAnyTerms::from_request_parts(parts, state).await?;
        if !session.accepted_current_terms {
            return Err(WebError::TermsRequired);
        }
        Ok(Self(session))
    }
}

impl Deref for SignedInUser {
    type Target = SignedInSession;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Names one permission at the type level, for [`RequirePermission`].
pub trait RequiredPermission {
    const PERMISSION: Permission;
}

macro_rules! permission_marker {
    ($($(#[$doc:meta])* $marker:ident => $permission:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $marker;

            impl RequiredPermission for $marker {
                const PERMISSION: Permission = Permission::$permission;
            }
        )*
    };
}

permission_marker! {
    /// Marker: the profile may view Setup.
    ViewSetup => ViewSetup,
    /// Marker: the profile may manage users.
    ManageUsers => ManageUsers,
    /// Marker: the profile may manage company details.
    ManageCompanyDetails => ManageCompanyDetails,
    /// Marker: the profile may manage profiles.
    ManageProfiles => ManageProfiles,
    /// Marker: the profile may manage roles.
    ManageRoles => ManageRoles,
    /// Marker: the profile may publish Terms of Service.
    ManageTermsOfService => ManageTermsOfService,
    /// Marker: the profile may read the audit log.
    ViewAuditLog => ViewAuditLog,
    /// Marker: the profile may manage API and SCIM tokens (and SCIM provisioning).
    ManageApiTokens => ManageApiTokens,
}

/// A signed-in user (Terms accepted) whose profile holds `P` and View Setup (every permission
/// guards a Setup page, and Setup is closed to a profile without View Setup); others get 403.
#[derive(Debug)]
pub struct RequirePermission<P: RequiredPermission> {
    pub user: SignedInUser,
    permission: PhantomData<P>,
}

impl<S: Send + Sync, P: RequiredPermission> FromRequestParts<S> for RequirePermission<P> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = SignedInUser::from_request_parts(parts, state).await?;
        if !user.permissions.contains(P::PERMISSION)
            || !user.permissions.contains(Permission::ViewSetup)
        {
            return Err(WebError::Forbidden);
        }
        Ok(Self {
            user,
            permission: PhantomData,
        })
    }
}

impl<P: RequiredPermission> Deref for RequirePermission<P> {
    type Target = SignedInSession;

    fn deref(&self) -> &Self::Target {
        &self.user
    }
}

/// An id in the path, parsed at the edge: a malformed one is "not found", like another
/// organization's (the store then looks it up within the session's organization only).
#[derive(Debug)]
pub struct IdPath<T>(pub T);

impl<S: Send + Sync, T: onestop_domain::TypedId + Send> FromRequestParts<S> for IdPath<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| WebError::NotFound)?;
        T::parse(&raw).map(Self).ok_or(WebError::NotFound)
    }
}
