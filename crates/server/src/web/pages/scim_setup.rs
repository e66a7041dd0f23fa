//! Setup > SCIM provisioning: the SCIM base URL, and the default profile and role of users an
//! identity provider creates without naming theirs.

use super::Shell;
use super::role_choices::{RoleChoice, role_choices};
use crate::usecases::FieldErrors;
use crate::usecases::scim_setup::{ScimSetupError, save_scim_defaults, scim_setup};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{ManageApiTokens, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Template, WebTemplate)]
#[template(path = "scim_setup.html")]
pub struct ScimSetupPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    base_url: String,
    /// (id, name)
    profiles: Vec<(String, String)>,
    roles: Vec<RoleChoice>,
    profile_id: String,
    role_id: String,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

#[derive(Debug, serde::Deserialize)]
pub struct ScimSetupForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    profile_id: String,
    #[serde(default)]
    role_id: String,
}

impl CarriesCsrfToken for ScimSetupForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn page(
    state: &AppState,
    user: &SignedInSession,
    chosen: Option<(String, String)>,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<ScimSetupPage, WebError> {
    let setup = scim_setup(&state.services, user).await?;
    let (profile_id, role_id) = chosen.unwrap_or((setup.profile_id, setup.role_id));
    Ok(ScimSetupPage {
        shell: Some(Shell::of(user)),
        title: "SCIM provisioning",
        csrf_token: user.csrf_token.clone(),
        base_url: format!("{}scim/v2", state.services.public_url),
        profiles: setup
            .options
            .profiles
            .iter()
            .map(|profile| (profile.id.to_string(), profile.name.clone()))
            .collect(),
        roles: role_choices(&setup.options.roles),
        profile_id,
        role_id,
        errors,
        notice,
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ManageApiTokens>,
) -> Result<ScimSetupPage, WebError> {
    page(&state, &user, None, FieldErrors::default(), None).await
}

pub async fn save(
    State(state): State<AppState>,
    user: RequirePermission<ManageApiTokens>,
    client: Client,
    CsrfForm(form): CsrfForm<ScimSetupForm>,
) -> Result<Response, WebError> {
    match save_scim_defaults(
        &state.services,
        &user,
        &form.profile_id,
        &form.role_id,
        Some(&client.ip),
    )
    .await
    {
        Ok(()) => Ok(page(
            &state,
            &user,
            None,
            FieldErrors::default(),
            Some("SCIM defaults saved."),
        )
        .await?
        .into_response()),
        Err(ScimSetupError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                &state,
                &user,
                Some((form.profile_id, form.role_id)),
                errors,
                None,
            )
            .await?,
        )
            .into_response()),
        Err(ScimSetupError::Store(error)) => Err(error.into()),
    }
}
