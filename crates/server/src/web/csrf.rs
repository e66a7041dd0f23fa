//! CSRF protection for every form: a synchronizer token, checked by the [`CsrfForm`] extractor
//! before the handler runs. Signed-in users' forms carry their session's token; forms shown before
//! sign-in (sign-in itself, the first run) carry a token that is also set in a cookie.

use super::AppState;
use super::cookies;
use super::error::WebError;
use super::session::CurrentSession;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum_extra::extract::CookieJar;
use onestop_domain::SecretToken;
use onestop_domain::token::constant_time_eq;
use serde::de::DeserializeOwned;

/// A form whose `csrf_token` field is checked.
pub trait CarriesCsrfToken {
    fn csrf_token(&self) -> &str;
}

/// A form body (`application/x-www-form-urlencoded`, repeated keys allowed where the form takes a
/// list) with a valid CSRF token. A malformed body is a 400 page, never a 500.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + CarriesCsrfToken + Send,
{
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = ExpectedToken::of(&request, state);
        let form = read_form::<T>(request, state).await?;
        expected.check(form.csrf_token())?;
        Ok(Self(form))
    }
}

/// The token a form sent with this request must carry, read before the body is: the session's,
/// or before sign-in the one in the `onestop_form` cookie. [`CsrfForm`] checks it for urlencoded
/// forms, `uploads::CsrfUpload` for multipart ones.
pub struct ExpectedToken {
    session_token: Option<String>,
    form_cookie: Option<String>,
}

impl ExpectedToken {
    pub fn of(request: &Request, state: &AppState) -> Self {
        let session_token = request
            .extensions()
            .get::<CurrentSession>()
            .and_then(|current| current.0.as_ref().map(|session| session.csrf_token.clone()));
        let form_cookie = CookieJar::from_headers(request.headers())
            .get(&cookies::name(cookies::FORM_TOKEN, state.settings.https))
            .map(|cookie| cookie.value().to_owned());
        Self {
            session_token,
            form_cookie,
        }
    }

    /// Whether `presented` (the form's `csrf_token`) is the expected token.
    pub fn check(&self, presented: &str) -> Result<(), WebError> {
        let matches = |expected: &Option<String>| {
            expected.as_deref().is_some_and(|expected| {
                !presented.is_empty() && constant_time_eq(expected, presented)
            })
        };
        // With a session, only the session's token counts: the anonymous double-submit token is
        // for forms shown before sign-in, and a cookie planted by a sibling subdomain must not
        // stand in for the session's.
        let accepted = match &self.session_token {
            Some(_) => matches(&self.session_token),
            None => matches(&self.form_cookie),
        };
        if accepted {
            Ok(())
        } else if self.session_token.is_none() && self.form_cookie.is_none() {
            Err(WebError::CookiesDisabled)
        } else {
            Err(WebError::CsrfRejected)
        }
    }
}

/// Reads a form body strictly: `application/x-www-form-urlencoded`, every key and value
/// well-formed ([`is_well_formed`]), no field given twice unless the form takes a list. A body too
/// large is a 413; anything else malformed is a 400 with a message, never a 500.
async fn read_form<T: DeserializeOwned>(request: Request, state: &AppState) -> Result<T, WebError> {
    let malformed = |reason: &dyn std::fmt::Display| {
        tracing::info!(%reason, "malformed form");
        WebError::BadRequest(MALFORMED_FORM.to_owned())
    };
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(malformed(&"not application/x-www-form-urlencoded"));
    }
    let body = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                WebError::PayloadTooLarge
            } else {
                malformed(&rejection)
            }
        })?;
    if !is_well_formed(&body) {
        return Err(malformed(&"not UTF-8, or a stray %"));
    }
    if let Some(field) = super::nul_text::urlencoded_name_with_nul(&body) {
        return Err(WebError::BadRequest(format!(
            "The field “{field}” {}",
            super::nul_text::REFUSAL
        )));
    }
    serde_html_form::from_bytes(&body).map_err(|error| malformed(&error))
}

/// Whether every key and value of a form body is what a browser sends: each `%` followed by two
/// hex digits, and UTF-8 once decoded. A lenient decoder would turn anything else into U+FFFD or
/// keep it as typed, so that different bytes became the same username or password.
pub fn is_well_formed(body: &[u8]) -> bool {
    fn hex(digit: u8) -> Option<u8> {
        char::from(digit)
            .to_digit(16)
            .and_then(|value| u8::try_from(value).ok())
    }
    body.split(|byte| *byte == b'&').all(|pair| {
        let mut decoded = Vec::with_capacity(pair.len());
        let mut bytes = pair.iter().copied();
        while let Some(byte) = bytes.next() {
            match byte {
                b'%' => {
                    let high = bytes.next().and_then(hex);
                    let low = bytes.next().and_then(hex);
                    let (Some(high), Some(low)) = (high, low) else {
                        return false;
                    };
                    decoded.push(high << 4 | low);
                }
                b'+' => decoded.push(b' '),
                other => decoded.push(other),
            }
        }
        std::str::from_utf8(&decoded).is_ok()
    })
}

pub const MALFORMED_FORM: &str =
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
