//! "Forgot password?": asking for a reset link, and choosing a new password through it.

use super::Shell;
use crate::usecases::FieldErrors;
use crate::usecases::invalid_links::{links_blocked, record_invalid_link};
use crate::usecases::password_reset::{
    ResetError, ResetState, look_up_reset, request_password_reset, reset_password,
};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::cookies;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm, form_token};
use crate::web::error::{COOKIES_DISABLED, WebError, render_error};
use crate::web::session::CurrentSession;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::SecretToken;
use std::time::Duration;

const RESET_COOKIE_LIFETIME: Duration = Duration::from_secs(30 * 60);

#[derive(Template, WebTemplate)]
#[template(path = "forgot_password.html")]
pub struct ForgotPasswordPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    notice: Option<&'static str>,
}

pub async fn forgot_form(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    jar: CookieJar,
) -> Response {
    let (jar, csrf_token) = form_token(&current, jar, state.settings.https);
    (
        jar,
        ForgotPasswordPage {
            shell: None,
            title: "Forgot password",
            csrf_token,
            notice: None,
        },
    )
        .into_response()
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
}

impl CarriesCsrfToken for ForgotForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// One answer whether or not an account matched.
pub async fn forgot_submit(
    State(state): State<AppState>,
    client: Client,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> ForgotPasswordPage {
    if !form.username.trim().is_empty() {
        // In the background: the answer comes at once, whatever the lookup finds.
        let services = state.services.clone();
        let login = form.username.clone();
        state.services.background.spawn(async move {
            if let Err(error) = request_password_reset(&services, &login, &client.ip).await {
                tracing::error!(
                    error = format!("{error:#}"),
                    "password reset request failed"
                );
            }
        });
    }
    ForgotPasswordPage {
        shell: None,
        title: "Forgot password",
        csrf_token: form.csrf_token,
        notice: Some(
            "If an active account matches, a link to choose a new password is on its way by email. It works for one hour.",
        ),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "reset_password.html")]
pub struct ResetPasswordPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    username: String,
    errors: FieldErrors,
}

fn private(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn not_live(state: &ResetState) -> Response {
    let response = match state {
        ResetState::Expired => render_error(
            StatusCode::GONE,
            "This link has expired",
            "Reset links work for one hour. Ask for a new one: on the sign-in page, choose \"Forgot password?\".",
        ),
        _ => render_error(
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "It was used already, or a newer link replaced it. Ask for a new one: on the sign-in page, choose \"Forgot password?\".",
        ),
    };
    private(response)
}

/// `GET /password/reset/{token}`: changes nothing but the address's count of invalid links;
/// moves the token out of the address bar.
pub async fn open_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: Client,
    jar: CookieJar,
) -> Result<Response, WebError> {
    open(&state, &token, &client, jar).await
}

/// `GET /password/reset/`: a link whose token was cut off is answered like any other invalid
/// link.
pub async fn open_empty_link(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
) -> Result<Response, WebError> {
    open(&state, "", &client, jar).await
}

/// Guessing reset links is throttled per address like guessing Join Now links, with the same
/// budget ([`crate::usecases::invalid_links`]).
async fn open(
    state: &AppState,
    token: &str,
    client: &Client,
    jar: CookieJar,
) -> Result<Response, WebError> {
    if let Some(wait) = links_blocked(&state.services, &client.ip).await? {
        return Err(WebError::TooManyRequests {
            message: format!(
                "Too many invalid links were opened from your network. Try again in {} seconds, with the link from your newest password reset email.",
                wait.as_secs()
            ),
            retry_after: wait,
        });
    }
    let Some(token) = SecretToken::parse(token) else {
        record_invalid_link(&state.services, &client.ip).await?;
        return Ok(not_live(&ResetState::NotValid));
    };
    match look_up_reset(&state.services, &token).await? {
        ResetState::Live(_) => {
            let cookie = cookies::build_expiring(
                cookies::RESET,
                token.expose().to_owned(),
                state.settings.https,
                RESET_COOKIE_LIFETIME,
            );
            Ok(private(
                (jar.add(cookie), Redirect::to("/password/reset")).into_response(),
            ))
        }
        ResetState::NotValid => {
            record_invalid_link(&state.services, &client.ip).await?;
            Ok(not_live(&ResetState::NotValid))
        }
        expired @ ResetState::Expired => Ok(not_live(&expired)),
    }
}

fn reset_token(jar: &CookieJar, https: bool) -> Option<SecretToken> {
    jar.get(&cookies::name(cookies::RESET, https))
        .and_then(|cookie| SecretToken::parse(cookie.value()))
}

fn cookies_disabled() -> Response {
    private(render_error(
        StatusCode::BAD_REQUEST,
        "Cookies are needed",
        &format!(
            "{COOKIES_DISABLED} Turn on cookies for this site, or open the link from the email in another browser."
        ),
    ))
}

pub async fn reset_form(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let https = state.settings.https;
    let Some(token) = reset_token(&jar, https) else {
        return Ok(cookies_disabled());
    };
    let reset = match look_up_reset(&state.services, &token).await? {
        ResetState::Live(reset) => reset,
        other => return Ok(not_live(&other)),
    };
    let (jar, csrf_token) = form_token(&current, jar, https);
    let page = ResetPasswordPage {
        shell: None,
        title: "Choose a new password",
        csrf_token,
        username: reset.username.clone().unwrap_or_default(),
        errors: FieldErrors::default(),
    };
    Ok(private((jar, page).into_response()))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

impl CarriesCsrfToken for ResetForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub async fn reset_submit(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<Response, WebError> {
    let https = state.settings.https;
    let Some(token) = reset_token(&jar, https) else {
        return Ok(cookies_disabled());
    };
    match reset_password(
        &state.services,
        &token,
        &form.password,
        &form.password_confirmation,
        &client.ip,
    )
    .await
    {
        Ok(()) => {
            let jar = jar
                .add(cookies::removal(cookies::RESET, https))
                .add(cookies::removal(cookies::SESSION, https));
            Ok((jar, Redirect::to("/login?password_changed=1")).into_response())
        }
        Err(ResetError::Invalid(errors)) => {
            let username = match look_up_reset(&state.services, &token).await? {
                ResetState::Live(reset) => reset.username.clone().unwrap_or_default(),
                other => return Ok(not_live(&other)),
            };
            let page = ResetPasswordPage {
                shell: None,
                title: "Choose a new password",
                csrf_token: form.csrf_token,
                username,
                errors,
            };
            Ok(private(
                (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
            ))
        }
        Err(ResetError::NotLive(state)) => Ok(not_live(&state)),
        Err(ResetError::Store(error)) => Err(error.into()),
        Err(ResetError::Internal(error)) => Err(WebError::Internal(error)),
    }
}
