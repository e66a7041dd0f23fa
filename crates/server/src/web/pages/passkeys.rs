//! Passkeys: the two halves of each WebAuthn ceremony (`static/passkeys.js` drives them). The
//! options endpoints answer JSON to the script; the finishing posts are ordinary forms that end
//! in a page or a redirect (the sign-in answer goes to `/login/two-step` with the codes). The forms
//! are the partials `_passkey_add.html` and `_passkey_sign_in.html` of the two-step pages.

use super::two_step;
use crate::store::MethodOwner;
use crate::usecases::passkeys::{
    self, CeremonyOptions, PasskeyError, PasskeyHolder, begin_authentication, begin_registration,
    finish_registration,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{CurrentSession, SignedInAnyEnrolment};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};

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
    name: String,
    /// Where the page that offered "Add passkey" goes on to.
    #[serde(default)]
    next: String,
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

/// `POST /account/two-step/passkeys`: the browser's new passkey, added to the user's methods.
/// The first method's recovery codes are shown in the answer; then the user goes on where the
/// setup gate was taking them, or back to Two-step verification.
pub async fn register(
    State(state): State<AppState>,
    SignedInAnyEnrolment(user): SignedInAnyEnrolment,
    client: Client,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> Result<Response, WebError> {
    let owner = MethodOwner {
        org_id: user.scope.id(),
        user_id: &user.user_id,
        ip: Some(&client.ip),
        now: state.services.clock.now(),
    };
    let continue_to = if user.must_enrol_two_step || form.next != "/account/two-step" {
        two_step::local(&form.next)
    } else {
        "/account/two-step?added=passkey".to_owned()
    };
    match finish_registration(
        &state.services,
        owner,
        &form.ceremony,
        &form.name,
        &form.credential,
    )
    .await
    {
        Ok(Some(codes)) => Ok(two_step::no_store(two_step::codes_page(
            &user,
            codes,
            continue_to,
            true,
        ))),
        Ok(None) => Ok(Redirect::to(&continue_to).into_response()),
        Err(PasskeyError::Store(cause)) => Err(WebError::Internal(cause.into())),
        Err(PasskeyError::NoRandomness) => Err(WebError::Internal(anyhow::anyhow!(
            "no randomness for recovery codes"
        ))),
        Err(refusal) => Err(WebError::BadRequest(format!(
            "{refusal} Go back to add the passkey again."
        ))),
    }
}

/// `POST /login/two-step/passkey/options`: starts a second step with one of the pending
/// session's user's passkeys. Like the second-step form, the form token is checked first, then
/// the session: a complete one has nothing to do here.
pub async fn sign_in_options(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    CsrfForm(_): CsrfForm<OptionsForm>,
) -> Result<Response, WebError> {
    let session = match current.0 {
        Some(session) if session.second_step_pending => session,
        Some(_) => return Ok(Redirect::to("/").into_response()),
        None => {
            return Err(WebError::SignInRequired {
                next: "/".to_owned(),
            });
        }
    };
    Ok(
        match begin_authentication(&state.services, &session.user_id).await {
            Ok(options) => Json(options).into_response(),
            Err(error) => OptionsRefused::from(error).into_response(),
        },
    )
}
