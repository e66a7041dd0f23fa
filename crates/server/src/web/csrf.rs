//! CSRF protection for every form: a synchronizer token, checked by the [`CsrfForm`] extractor
//! before the handler runs. Signed-in users' forms carry their session's token; forms shown before
//! sign-in (sign-in itself, the first run) carry a token that is also set in a cookie.

use super::AppState;
use super::cookies;
use super::error::WebError;
use super::session::CurrentSession;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use onestop_domain::SecretToken;
use onestop_domain::token::constant_time_eq;
use serde::de::DeserializeOwned;

/// A form whose `csrf_token` field is checked.
pub trait CarriesCsrfToken {
    fn csrf_token(&self) -> &str;
}

/// A form body (`application/x-www-form-urlencoded`, repeated keys allowed) with a valid CSRF
/// token. A malformed body is a 400 page, never a 500.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + CarriesCsrfToken + Send,
{
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let session_token = request
            .extensions()
            .get::<CurrentSession>()
            .and_then(|current| current.0.as_ref().map(|session| session.csrf_token.clone()));
        let form_cookie = CookieJar::from_headers(request.headers())
            .get(&cookies::name(cookies::FORM_TOKEN, state.settings.https))
            .map(|cookie| cookie.value().to_owned());
        let axum_extra::extract::Form(form) =
            axum_extra::extract::Form::<T>::from_request(request, state)
                .await
                .map_err(form_rejection)?;
        let presented = form.csrf_token();
        let matches = |expected: &Option<String>| {
            expected.as_deref().is_some_and(|expected| {
                !presented.is_empty() && constant_time_eq(expected, presented)
            })
        };
        // With a session, only the session's token counts: the anonymous double-submit token is
        // for forms shown before sign-in, and a cookie planted by a sibling subdomain must not
        // stand in for the session's.
        let accepted = match &session_token {
            Some(_) => matches(&session_token),
            None => matches(&form_cookie),
        };
        if accepted {
            Ok(Self(form))
        } else if session_token.is_none() && form_cookie.is_none() {
            Err(WebError::CookiesDisabled)
        } else {
            Err(WebError::CsrfRejected)
        }
    }
}

/// A body too large is a 413; anything else malformed is a 400 with a message, never a 500.
fn form_rejection(rejection: axum_extra::extract::FormRejection) -> WebError {
    tracing::info!(%rejection, "malformed form");
    if rejection.into_response().status() == StatusCode::PAYLOAD_TOO_LARGE {
        return WebError::PayloadTooLarge;
    }
    WebError::BadRequest(MALFORMED_FORM.to_owned())
}

const MALFORMED_FORM: &str =
    "The form was incomplete or malformed. Go back, reload the page and try again.";

/// The token for a form that may be shown before sign-in: the session's when there is one (the
/// only token [`CsrfForm`] then accepts), otherwise the one already in the browser's cookie, or a
/// new one together with the cookie to set.
pub fn form_token(current: &CurrentSession, jar: CookieJar, https: bool) -> (CookieJar, String) {
    if let Some(session) = &current.0 {
        return (jar, session.csrf_token.clone());
    }
    if let Some(existing) = jar
        .get(&cookies::name(cookies::FORM_TOKEN, https))
        .and_then(|cookie| SecretToken::parse(cookie.value()))
    {
        let token = existing.expose().to_owned();
        return (jar, token);
    }
    let token = SecretToken::generate().expose().to_owned();
    let jar = jar.add(cookies::build(cookies::FORM_TOKEN, token.clone(), https));
    (jar, token)
}

/// A form with nothing but its CSRF token (Sign Out, I Agree, Decline).
#[derive(Debug, serde::Deserialize)]
pub struct TokenOnly {
    #[serde(default)]
    pub csrf_token: String,
}

impl CarriesCsrfToken for TokenOnly {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}
