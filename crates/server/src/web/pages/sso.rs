//! Single sign-on: "Sign in with {provider}" (`POST /sso/start`), "Join with {provider}"
//! (`POST /join/sso`), and the provider's way back (`GET /sso/callback`).

use super::Shell;
use crate::usecases::join::InvitationState;
use crate::usecases::sso::{ProviderChoice, SsoRedirect, SsoStartError, begin_sso};
use crate::usecases::sso_callback::{SsoCallback, SsoCallbackError, SsoOutcome, finish_sso};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::cookies;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::SecretToken;
use std::time::Duration;

/// The browser-binding cookie lasts as long as the attempt it binds.
const SSO_COOKIE_LIFETIME: Duration = crate::usecases::sso::ATTEMPT_LIFETIME;

#[derive(Template, WebTemplate)]
#[template(path = "sso_refused.html")]
pub struct SsoRefusedPage {
    shell: Option<Shell>,
    title: &'static str,
    heading: &'static str,
    message: String,
    back_href: &'static str,
    back_label: &'static str,
}

fn refused_page(status: StatusCode, message: String, joining: bool) -> Response {
    let page = SsoRefusedPage {
        shell: None,
        title: "Single sign-on refused",
        heading: "Single sign-on refused",
        message,
        back_href: if joining { "/join" } else { "/login" },
        back_label: if joining {
            "Back to joining"
        } else {
            "Back to Sign In"
        },
    };
    let mut response = (status, page).into_response();
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

#[derive(Debug, serde::Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf_token: String,
    /// Only when the sign-in page asks for it (several companies' providers).
    #[serde(default)]
    email: String,
}

impl CarriesCsrfToken for StartForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The step between our form and the provider: a page that moves on at once. (A redirect in
/// answer to the form would be held to the form's `form-action 'self'`, and browsers refuse it.)
#[derive(Template, WebTemplate)]
#[template(path = "sso_continue.html")]
pub struct SsoContinuePage {
    shell: Option<Shell>,
    title: &'static str,
    provider: String,
    authorization_url: String,
}

fn to_provider(state: &AppState, jar: CookieJar, redirect: SsoRedirect) -> Response {
    let cookie = cookies::build_expiring(
        cookies::SSO,
        redirect.browser_token.expose().to_owned(),
        state.settings.https,
        SSO_COOKIE_LIFETIME,
    );
    let page = SsoContinuePage {
        shell: None,
        title: "Single sign-on",
        provider: redirect.provider_name,
        authorization_url: redirect.authorization_url.to_string(),
    };
    let mut response = (jar.add(cookie), page).into_response();
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

fn start_failed(error: SsoStartError, joining: bool) -> Result<Response, WebError> {
    match error {
        SsoStartError::NoProvider(message) => Ok(refused_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            message,
            joining,
        )),
        error @ SsoStartError::Provider(_) => Ok(refused_page(
            StatusCode::BAD_GATEWAY,
            error.to_string(),
            joining,
        )),
        SsoStartError::NotLive(_) => Ok(refused_page(
            StatusCode::GONE,
            "This invitation can no longer be accepted. Open the link in your newest invitation email, or ask your administrator for a new one.".into(),
            joining,
        )),
        error @ SsoStartError::TooMany(wait) => Err(WebError::TooManyRequests {
            message: error.to_string(),
            retry_after: wait,
        }),
        SsoStartError::Internal(error) => Err(WebError::Internal(error)),
    }
}

/// `POST /sso/start`: "Sign in with {provider}".
pub async fn start(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<Response, WebError> {
    match begin_sso(
        &state.services,
        ProviderChoice::SignIn { email: &form.email },
        &client.ip,
    )
    .await
    {
        Ok(redirect) => Ok(to_provider(&state, jar, redirect)),
        Err(error) => start_failed(error, false),
    }
}

/// `POST /join/sso`: "Join with {provider}", for the invitation in the join cookie.
pub async fn join(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    CsrfForm(_form): CsrfForm<crate::web::csrf::TokenOnly>,
) -> Result<Response, WebError> {
    let Some(invitation) = jar
        .get(&cookies::name(cookies::JOIN, state.settings.https))
        .and_then(|cookie| SecretToken::parse(cookie.value()))
    else {
        return Ok(refused_page(
            StatusCode::BAD_REQUEST,
            crate::web::error::COOKIES_DISABLED.into(),
            true,
        ));
    };
    match begin_sso(
        &state.services,
        ProviderChoice::Join {
            invitation: &invitation,
        },
        &client.ip,
    )
    .await
    {
        Ok(redirect) => Ok(to_provider(&state, jar, redirect)),
        Err(SsoStartError::NotLive(InvitationState::AlreadyAccepted)) => Ok(refused_page(
            StatusCode::GONE,
            "This invitation has already been accepted. Sign in instead.".into(),
            false,
        )),
        Err(error) => start_failed(error, true),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    error: String,
}

/// `GET /sso/callback`: where the provider sends the browser back.
pub async fn callback(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let https = state.settings.https;
    let browser_token = jar
        .get(&cookies::name(cookies::SSO, https))
        .and_then(|cookie| SecretToken::parse(cookie.value()));
    let previous_session = jar
        .get(&cookies::name(cookies::SESSION, https))
        .and_then(|cookie| SecretToken::parse(cookie.value()))
        .map(|token| token.hash());
    let joining = jar.get(&cookies::name(cookies::JOIN, https)).is_some();
    let result = finish_sso(
        &state.services,
        SsoCallback {
            state: &query.state,
            code: &query.code,
            error: &query.error,
            browser_token,
            ip: &client.ip,
            previous_session,
        },
    )
    .await;
    // On a refusal the binding cookie stays: a forged callback must not spoil the real one,
    // which may still arrive within the attempt's ten minutes.
    match result {
        Ok(SsoOutcome::SignedIn(tokens)) | Ok(SsoOutcome::Joined(tokens)) => {
            let jar = jar
                .add(cookies::removal(cookies::SSO, https))
                .add(cookies::removal(cookies::JOIN, https))
                .add(cookies::build(
                    cookies::SESSION,
                    tokens.session_token.expose().to_owned(),
                    https,
                ));
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(SsoCallbackError::Refused(refusal)) => Ok((
            jar,
            refused_page(StatusCode::FORBIDDEN, refusal.to_string(), joining),
        )
            .into_response()),
        Err(SsoCallbackError::Internal(error)) => Err(WebError::Internal(error)),
    }
}
