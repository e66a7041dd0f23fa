//! Setup > Single Sign-On: the company's OpenID Connect provider and the redirect URI to
//! register there.

use super::Shell;
use crate::usecases::FieldErrors;
use crate::usecases::sessions::SignedInSession;
use crate::usecases::sso_client::redirect_uri;
use crate::usecases::sso_setup::{
    SsoSettings, SsoSettingsInput, SsoSetupError, save_sso_settings, sso_settings,
};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{ManageCompanyDetails, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Template, WebTemplate)]
#[template(path = "sso_setup.html")]
pub struct SsoSetupPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    redirect_uri: String,
    settings: SsoSettings,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

#[derive(Debug, serde::Deserialize)]
pub struct SsoSetupForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    issuer_url: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    domains: String,
    #[serde(default)]
    sso_only: Option<String>,
}

impl CarriesCsrfToken for SsoSetupForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn page(
    state: &AppState,
    user: &SignedInSession,
    settings: SsoSettings,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> SsoSetupPage {
    SsoSetupPage {
        shell: Some(Shell::of(user)),
        title: "Single Sign-On",
        csrf_token: user.csrf_token.clone(),
        redirect_uri: redirect_uri(&state.services.public_url)
            .map(|url| url.to_string())
            .unwrap_or_default(),
        settings,
        errors,
        notice,
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ManageCompanyDetails>,
) -> Result<SsoSetupPage, WebError> {
    let settings = sso_settings(&state.services, &user).await?;
    Ok(page(&state, &user, settings, FieldErrors::default(), None))
}

pub async fn save(
    State(state): State<AppState>,
    user: RequirePermission<ManageCompanyDetails>,
    client: Client,
    CsrfForm(form): CsrfForm<SsoSetupForm>,
) -> Result<Response, WebError> {
    let input = SsoSettingsInput {
        display_name: form.display_name,
        issuer_url: form.issuer_url,
        client_id: form.client_id,
        client_secret: form.client_secret,
        domains: form.domains,
        sso_only: form.sso_only.is_some(),
    };
    match save_sso_settings(&state.services, &user, &input, Some(&client.ip)).await {
        Ok(()) => {
            let settings = sso_settings(&state.services, &user).await?;
            Ok(page(
                &state,
                &user,
                settings,
                FieldErrors::default(),
                Some("Single sign-on saved."),
            )
            .into_response())
        }
        Err(SsoSetupError::Invalid(errors)) => {
            let has_secret = sso_settings(&state.services, &user).await?.has_secret;
            let settings = SsoSettings {
                display_name: input.display_name,
                issuer_url: input.issuer_url,
                client_id: input.client_id,
                has_secret,
                domains: input.domains,
                sso_only: input.sso_only,
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&state, &user, settings, errors, None),
            )
                .into_response())
        }
        Err(SsoSetupError::Internal(error)) => Err(WebError::Internal(error)),
    }
}
