//! `/login/two-step`: the second step of a sign-in, for a session whose password was checked.
//! A code from the authenticator app, or a recovery code; passkeys add their button here
//! (`templates/_passkey_sign_in.html`).

use crate::usecases::FieldErrors;
use crate::usecases::sessions::SignedInSession;
use crate::usecases::two_step::second_step::{
    REMEMBER_BROWSER_FOR, SecondStepAnswer, SecondStepError, SecondStepRequest, finish_second_step,
    offers_remembering,
};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::cookies;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{CurrentSession, PendingSecondStep};
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::LocalRedirect;
use std::sync::Arc;

#[derive(Template, WebTemplate)]
#[template(path = "second_step.html")]
pub struct SecondStepPage {
    shell: Option<super::Shell>,
    title: &'static str,
    csrf_token: String,
    next: String,
    /// "Remember this browser for 30 days" is offered (the company allows it).
    offer_remember: bool,
    /// The user has a passkey: "Use a passkey" is offered (`_passkey_sign_in.html`).
    has_passkey: bool,
    /// The recovery-code form is open (it was the one sent).
    recovery_open: bool,
    errors: FieldErrors,
    /// A wrong code.
    failure: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SecondStepQuery {
    next: Option<String>,
}

fn local(next: &str) -> String {
    LocalRedirect::parse(next).map_or_else(|| "/".to_owned(), |next| next.as_str().to_owned())
}

async fn page(
    state: &AppState,
    session: &SignedInSession,
    next: &str,
) -> Result<SecondStepPage, WebError> {
    Ok(SecondStepPage {
        shell: None,
        title: "Two-step verification",
        csrf_token: session.csrf_token.clone(),
        next: local(next),
        offer_remember: offers_remembering(&state.services, session).await?,
        has_passkey: !state
            .services
            .store
            .passkeys_of(&session.user_id)
            .await?
            .is_empty(),
        recovery_open: false,
        errors: FieldErrors::default(),
        failure: None,
    })
}

pub async fn show(
    State(state): State<AppState>,
    PendingSecondStep(session): PendingSecondStep,
    Query(query): Query<SecondStepQuery>,
) -> Result<SecondStepPage, WebError> {
    page(&state, &session, query.next.as_deref().unwrap_or("/")).await
}

#[derive(Debug, serde::Deserialize)]
pub struct SecondStepForm {
    #[serde(default)]
    csrf_token: String,
    /// A code from the authenticator app...
    #[serde(default)]
    code: String,
    /// ...or a recovery code (this form wins when it is filled in).
    #[serde(default)]
    recovery_code: String,
    /// ...or a passkey's answer (static/passkeys.js fills these in): its ceremony and the
    /// credential as JSON.
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    remember_browser: Option<String>,
    #[serde(default)]
    next: String,
}

impl CarriesCsrfToken for SecondStepForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The form token is checked first (the body extractor), then the session's state: a
/// complete session has nothing to do here and goes on to the homepage.
pub async fn submit(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    client: Client,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<SecondStepForm>,
) -> Result<Response, WebError> {
    let session: Arc<SignedInSession> = match current.0 {
        Some(session) if session.second_step_pending => session,
        Some(_) => return Ok(Redirect::to("/").into_response()),
        None => {
            return Err(WebError::SignInRequired {
                next: "/".to_owned(),
            });
        }
    };
    let https = state.settings.https;
    let recovery = !form.recovery_code.trim().is_empty();
    let answer = if !form.credential.is_empty() {
        SecondStepAnswer::Passkey {
            ceremony: &form.ceremony,
            credential: &form.credential,
        }
    } else if recovery {
        SecondStepAnswer::RecoveryCode(&form.recovery_code)
    } else {
        SecondStepAnswer::Code(&form.code)
    };
    let request = SecondStepRequest {
        session: &session,
        answer,
        ip: &client.ip,
        remember_browser: form.remember_browser.is_some(),
    };
    let refused = |errors: FieldErrors, failure: Option<String>| {
        let state = &state;
        let session = &session;
        let next = &form.next;
        async move {
            let mut page = page(state, session, next).await?;
            page.recovery_open = recovery;
            page.errors = errors;
            page.failure = failure;
            Ok::<Response, WebError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    };
    match finish_second_step(&state.services, request).await {
        Ok(passed) => {
            let mut jar = jar.add(cookies::build(
                cookies::SESSION,
                passed.tokens.session_token.expose().to_owned(),
                https,
            ));
            if let Some(remembered) = passed.remembered {
                jar = jar.add(cookies::build_expiring(
                    cookies::REMEMBERED_BROWSER,
                    remembered.expose().to_owned(),
                    https,
                    REMEMBER_BROWSER_FOR,
                ));
            }
            Ok((jar, Redirect::to(&local(&form.next))).into_response())
        }
        Err(SecondStepError::Invalid(errors)) => refused(errors, None).await,
        Err(
            error @ (SecondStepError::WrongCode
            | SecondStepError::WrongRecoveryCode
            | SecondStepError::PasskeyRefused(_)),
        ) => refused(FieldErrors::default(), Some(error.to_string())).await,
        Err(error @ SecondStepError::TooManyAttempts(wait)) => Err(WebError::TooManyRequests {
            message: error.to_string(),
            retry_after: wait,
        }),
        Err(SecondStepError::Internal(error)) => Err(WebError::Internal(error)),
    }
}
