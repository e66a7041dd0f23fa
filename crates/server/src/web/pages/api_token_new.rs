//! Setup > API Tokens > New token (`/setup/api-tokens/new`): name, kind, the permissions it
//! carries (only the creator's own are offered) and its lifetime; then the token, shown once.
//!
//! The token is shown in the answer to the POST itself, sent with `Cache-Control: no-store`:
//! it is never in an address, a cookie or a cache, and the server keeps only its hash, so no
//! later request can show it again. Reloading that page would send the form again, which makes
//! another token (listed on the page, and revocable), never the same one.

use super::Shell;
use crate::usecases::FieldErrors;
use crate::usecases::api_tokens::{
    CreateTokenError, CreatedToken, DEFAULT_LIFETIME_DAYS, LIFETIME_CHOICES_DAYS, NewTokenInput,
    TokenCreator, create_api_token, scim_permissions,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::{ManageApiTokens, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use onestop_domain::{ApiTokenKind, Permission};

#[derive(Debug, Clone, serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    /// "api" or "scim".
    #[serde(default)]
    kind: String,
    /// Repeated: `permissions=manage_users&permissions=view_audit_log`.
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    lifetime_days: String,
}

impl CarriesCsrfToken for TokenForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl TokenForm {
    /// A fresh form: an API token with every permission of its creator ticked (the least a
    /// person must untick is then visible), for 90 days.
    fn fresh(creator: &SignedInSession) -> Self {
        Self {
            csrf_token: String::new(),
            name: String::new(),
            kind: ApiTokenKind::Api.as_str().to_owned(),
            permissions: Permission::ALL
                .into_iter()
                .filter(|permission| creator.permissions.contains(*permission))
                .map(|permission| permission.key().to_owned())
                .collect(),
            lifetime_days: DEFAULT_LIFETIME_DAYS.to_string(),
        }
    }

    fn input(&self) -> NewTokenInput {
        NewTokenInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            permissions: self.permissions.clone(),
            lifetime_days: self.lifetime_days.clone(),
        }
    }
}

/// One check box: a permission the creator holds.
pub struct PermissionChoice {
    pub key: &'static str,
    pub label: &'static str,
    pub explanation: &'static str,
    pub checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "api_token_new.html")]
pub struct NewTokenPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    form: TokenForm,
    /// Only the creator's own permissions: a token never carries more.
    permissions: Vec<PermissionChoice>,
    lifetimes: &'static [u32],
    /// A SCIM token manages users: offered only to a creator who may.
    scim_allowed: bool,
    errors: FieldErrors,
}

fn new_token_page(user: &SignedInSession, form: TokenForm, errors: FieldErrors) -> NewTokenPage {
    let permissions = Permission::ALL
        .into_iter()
        .filter(|permission| user.permissions.contains(*permission))
        .map(|permission| PermissionChoice {
            key: permission.key(),
            label: permission.label(),
            explanation: permission.explanation(),
            checked: form
                .permissions
                .iter()
                .any(|chosen| chosen == permission.key()),
        })
        .collect();
    NewTokenPage {
        shell: Some(Shell::of(user)),
        title: "New API Token",
        csrf_token: user.csrf_token.clone(),
        form,
        permissions,
        lifetimes: &LIFETIME_CHOICES_DAYS,
        scim_allowed: scim_permissions().is_subset_of(user.permissions),
        errors,
    }
}

/// `GET /setup/api-tokens/new`.
pub async fn new_form(user: RequirePermission<ManageApiTokens>) -> NewTokenPage {
    new_token_page(&user, TokenForm::fresh(&user), FieldErrors::default())
}

#[derive(Template, WebTemplate)]
#[template(path = "api_token_created.html")]
pub struct CreatedTokenPage {
    shell: Option<Shell>,
    title: String,
    /// The token itself, shown this once.
    secret: String,
    kind: ApiTokenKind,
    permissions: Vec<&'static str>,
    expires: LocalTime,
    /// `{public_url}api/v1/me`, for the example.
    me_url: String,
    /// `{public_url}scim/v2`, what an identity provider is given.
    scim_url: String,
}

fn created_page(
    state: &AppState,
    user: &SignedInSession,
    name: &str,
    token: &CreatedToken,
) -> CreatedTokenPage {
    let public_url = &state.settings.public_url;
    CreatedTokenPage {
        shell: Some(Shell::of(user)),
        title: format!("Token “{}” created", name.trim()),
        secret: token.secret.expose().to_owned(),
        kind: token.kind,
        permissions: Permission::ALL
            .into_iter()
            .filter(|permission| token.permissions.contains(*permission))
            .map(Permission::label)
            .collect(),
        expires: LocalTimes::for_reader(user, &state.services).of(token.expires_at),
        me_url: format!("{public_url}api/v1/me"),
        scim_url: format!("{public_url}scim/v2"),
    }
}

/// `POST /setup/api-tokens/new`: the token, shown once (see the module's comment); or the form
/// again with every problem named, nothing saved.
pub async fn create(
    State(state): State<AppState>,
    user: RequirePermission<ManageApiTokens>,
    client: Client,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, WebError> {
    let creator = TokenCreator::from(&*user);
    match create_api_token(&state.services, &creator, &form.input(), Some(&client.ip)).await {
        Ok(token) => {
            let page = created_page(&state, &user, &form.name, &token);
            Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
        }
        Err(CreateTokenError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            new_token_page(&user, form, errors),
        )
            .into_response()),
        Err(CreateTokenError::Store(error)) => Err(error.into()),
    }
}
