//! Setup > API Tokens (`/setup/api-tokens`, under Developer Space): the company's API and SCIM
//! tokens with who made them, when they expire and when and from where they were last used, and
//! revoking one (a confirmation page first, then POST-redirect-GET with the outcome in
//! `web::flash`). Making a token is `api_token_new`.

use super::Shell;
use super::user_page::user_page_path;
use super::users_list::full_name;
use crate::store::ApiTokenRow;
use crate::usecases::api_tokens::{TokenState, api_token, list_api_tokens, revoke_api_token};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::flash;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::{IdPath, ManageApiTokens, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::{ApiTokenId, Permission, UserStatus};

/// Where the list is, and where its actions' outcomes are shown.
pub const TOKENS_PAGE: &str = "/setup/api-tokens";

/// One token, as its table row reads.
pub struct TokenLine {
    pub id: String,
    pub name: String,
    /// "API" or "SCIM".
    pub kind: &'static str,
    /// "Manage Users, View Audit Log".
    pub permissions: String,
    pub creator: String,
    /// Their page, when the reader may open it (Manage Users).
    pub creator_page: Option<String>,
    pub created: LocalTime,
    pub expires: LocalTime,
    pub last_used: Option<LocalTime>,
    pub last_used_from: String,
    /// "Active", "Expired" or "Revoked".
    pub state: &'static str,
    pub state_class: &'static str,
    /// Its creator is no longer Active, so it does not work whatever its state says.
    pub creator_inactive: bool,
    /// Not revoked and not expired: the row offers Revoke.
    pub revocable: bool,
}

fn permission_labels(row: &ApiTokenRow) -> Result<String, WebError> {
    let permissions = row.permissions()?;
    Ok(Permission::ALL
        .into_iter()
        .filter(|permission| permissions.contains(*permission))
        .map(Permission::label)
        .collect::<Vec<_>>()
        .join(", "))
}

fn token_line(
    row: &ApiTokenRow,
    reader: &SignedInSession,
    times: &LocalTimes,
    state: TokenState,
) -> Result<TokenLine, WebError> {
    Ok(TokenLine {
        id: row.id.to_string(),
        name: row.name.clone(),
        kind: row.kind()?.label(),
        permissions: permission_labels(row)?,
        creator: full_name(row.creator_first_name.as_deref(), &row.creator_last_name),
        creator_page: reader
            .permissions
            .contains(Permission::ManageUsers)
            .then(|| user_page_path(&row.created_by)),
        created: times.at(row.created_at),
        expires: times.at(row.expires_at),
        last_used: row.last_used_at.map(|at| times.at(at)),
        last_used_from: row.last_used_ip.clone().unwrap_or_default(),
        state: state.label(),
        state_class: match state {
            TokenState::Active => "active",
            TokenState::Expired | TokenState::Revoked => "deactivated",
        },
        creator_inactive: row.creator_status()? != UserStatus::Active,
        revocable: state == TokenState::Active,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "api_tokens.html")]
pub struct TokensPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    notices: Vec<String>,
    tokens: Vec<TokenLine>,
}

/// `GET /setup/api-tokens`.
pub async fn list(
    State(state): State<AppState>,
    user: RequirePermission<ManageApiTokens>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let (jar, notices) = flash::take(jar, state.settings.https, TOKENS_PAGE);
    let times = LocalTimes::for_reader(&user, &state.services);
    let now = state.services.clock.now();
    let tokens = list_api_tokens(&state.services, &user.scope)
        .await?
        .iter()
        .map(|row| token_line(row, &user, &times, TokenState::of(row, now)))
        .collect::<Result<Vec<_>, _>>()?;
    let page = TokensPage {
        shell: Some(Shell::of(&user)),
        title: "API Tokens",
        csrf_token: user.csrf_token.clone(),
        notices,
        tokens,
    };
    Ok((jar, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "api_token_revoke.html")]
pub struct RevokePage {
    shell: Option<Shell>,
    title: String,
    csrf_token: String,
    token: TokenLine,
}

#[derive(Debug, serde::Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf_token: String,
    /// Set by the confirmation page's Revoke button.
    #[serde(default)]
    confirmed: Option<String>,
}

impl CarriesCsrfToken for RevokeForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /setup/api-tokens/{id}/revoke`: first a page naming the token, with Revoke and Cancel;
/// its Revoke (`confirmed`) revokes and goes back to the list, which says what happened.
/// Another company's token, an unknown or a malformed id: 404.
pub async fn revoke(
    State(state): State<AppState>,
    user: RequirePermission<ManageApiTokens>,
    client: Client,
    jar: CookieJar,
    IdPath(token_id): IdPath<ApiTokenId>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<Response, WebError> {
    let services = &state.services;
    let Some(row) = api_token(services, &user.scope, &token_id).await? else {
        return Err(WebError::NotFound);
    };
    let token_state = TokenState::of(&row, services.clock.now());
    let line = if token_state == TokenState::Revoked {
        format!("The token “{}” was already revoked.", row.name)
    } else if form.confirmed.is_none() {
        let times = LocalTimes::for_reader(&user, services);
        let page = RevokePage {
            shell: Some(Shell::of(&user)),
            title: format!("Revoke the token “{}”?", row.name),
            csrf_token: user.csrf_token.clone(),
            token: token_line(&row, &user, &times, token_state)?,
        };
        return Ok(page.into_response());
    } else if revoke_api_token(services, &user, &token_id, Some(&client.ip)).await? {
        format!("Revoked the token “{}”.", row.name)
    } else {
        format!("The token “{}” was already revoked.", row.name)
    };
    let jar = flash::leave(jar, state.settings.https, TOKENS_PAGE, &[line]);
    Ok((jar, Redirect::to(TOKENS_PAGE)).into_response())
}
