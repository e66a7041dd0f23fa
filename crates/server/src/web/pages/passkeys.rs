//! Passkeys: the two halves of each WebAuthn ceremony (`static/passkeys.js` drives them). The
//! options endpoints answer JSON to the script; the finishing posts are ordinary forms that end
//! in a page or a redirect. The forms themselves are the `_passkey.html` partial, included by the
//! two-step pages.

use crate::store::Actor;
use crate::usecases::passkeys::{
    self, CeremonyOptions, PasskeyError, PasskeyHolder, begin_registration, finish_registration,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::SignedInAnyEnrolment;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// The fields the script posts for options: the CSRF token, and for registration the name typed
/// so far (checked here too, so a bad name is refused before the browser asks for a passkey).
#[derive(Debug, serde::Deserialize)]
pub struct OptionsForm {
    #[serde(default)]
    csrf_token: String,
    name: Option<String>,
}

impl CarriesCsrfToken for OptionsForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// A finished ceremony: its id and the browser's answer (JSON), with the passkey's name when
/// registering.
#[derive(Debug, serde::Deserialize)]
pub struct FinishForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    pub name: String,
}

impl CarriesCsrfToken for FinishForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// A refusal the script shows beside the button: `{"error": "..."}`.
#[derive(Debug)]
pub struct OptionsRefused(StatusCode, String);

impl IntoResponse for OptionsRefused {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<PasskeyError> for OptionsRefused {
    fn from(error: PasskeyError) -> Self {
        match error {
            PasskeyError::Store(cause) => {
                tracing::error!(error = %cause, "passkey options failed");
                Self(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side. Try again in a moment.".to_owned(),
                )
            }
            other => {
                if let PasskeyError::Refused(cause) = &other {
                    tracing::warn!(error = %cause, "webauthn refused to start a ceremony");
                }
                Self(StatusCode::UNPROCESSABLE_ENTITY, other.to_string())
            }
        }
    }
}

/// Who the passkey is registered for.
fn holder(session: &SignedInSession) -> (String, String) {
    (session.email.clone(), session.full_name())
}

/// `POST /account/two-step/passkeys/options`: starts adding a passkey for the signed-in user.
pub async fn register_options(
    State(state): State<AppState>,
    SignedInAnyEnrolment(session): SignedInAnyEnrolment,
    CsrfForm(form): CsrfForm<OptionsForm>,
) -> Result<Json<CeremonyOptions>, OptionsRefused> {
    if let Some(name) = &form.name {
        passkeys::parse_name(name)?;
    }
    let (account, display_name) = holder(&session);
    let options = begin_registration(
        &state.services,
        PasskeyHolder {
            user_id: &session.user_id,
            account: &account,
            display_name: &display_name,
        },
    )
    .await?;
    Ok(Json(options))
}

/// `POST /account/two-step/passkeys`: the browser's new passkey; added to the user's methods.
pub async fn register(
    State(state): State<AppState>,
    SignedInAnyEnrolment(session): SignedInAnyEnrolment,
    client: Client,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> Result<Response, WebError> {
    let actor = Actor {
        scope: &session.scope,
        user_id: session.user_id.as_str(),
        ip: Some(&client.ip),
        now: state.services.clock.now(),
    };
    match finish_registration(
        &state.services,
        actor,
        &session.user_id,
        &form.ceremony,
        &form.name,
        &form.credential,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/account/two-step").into_response()),
        Err(PasskeyError::Store(cause)) => Err(WebError::Internal(cause.into())),
        Err(refusal) => Err(WebError::BadRequest(refusal.to_string())),
    }
}
