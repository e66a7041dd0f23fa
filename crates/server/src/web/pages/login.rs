//! `/login` and Sign Out.

use super::Shell;
use crate::usecases::FieldErrors;
use crate::usecases::sessions::SecondStep;
use crate::usecases::sessions::end_session;
use crate::usecases::sign_in::{PasswordAccepted, SignInError, SignInRequest, sign_in};
use crate::usecases::sso::{SsoSignInOffer, sign_in_offer};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::cookies;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm, form_token};
use crate::web::error::{SECOND_STEP_PAGE, WebError, with_next};
use crate::web::session::{AnySession, CurrentSession};
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::{AuditAction, LocalRedirect, SecretToken};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    username: String,
    next: String,
    errors: FieldErrors,
    /// The one message for a failed sign-in, or the throttling message.
    failure: Option<String>,
    notice: Option<&'static str>,
    /// Single sign-on: a button for the only provider, or a form asking for the email.
    sso: SsoSignInOffer,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
    password_changed: Option<String>,
    declined: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    Query(query): Query<LoginQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let next = query.next.as_deref().and_then(LocalRedirect::parse);
    if current.0.is_some() {
        return Ok(Redirect::to(next.as_ref().map_or("/", LocalRedirect::as_str)).into_response());
    }
    let notice = if query.signed_out.is_some() {
        Some("You have signed out.")
    } else if query.password_changed.is_some() {
        Some(
            "Your password was changed, and every session of your account was signed out. Sign in with the new password.",
        )
    } else if query.declined.is_some() {
        Some(
            "You declined the Terms of Service and have been signed out. Sign in again when you are ready to agree.",
        )
    } else {
        None
    };
    let (jar, csrf_token) = form_token(&current, jar, state.settings.https);
    let page = LoginPage {
        shell: None,
        title: "Sign In",
        csrf_token,
        username: String::new(),
        next: next
            .map(|next| next.as_str().to_owned())
            .unwrap_or_default(),
        errors: FieldErrors::default(),
        failure: None,
        notice,
        sso: sign_in_offer(&state.services).await?,
    };
    Ok((jar, page).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

impl CarriesCsrfToken for LoginForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    let https = state.settings.https;
    let mut page = LoginPage {
        shell: None,
        title: "Sign In",
        csrf_token: form.csrf_token.clone(),
        username: form.username.trim().to_owned(),
        next: LocalRedirect::parse(&form.next)
            .map(|next| next.as_str().to_owned())
            .unwrap_or_default(),
        errors: FieldErrors::default(),
        failure: None,
        notice: None,
        sso: sign_in_offer(&state.services).await?,
    };
    if form.username.trim().is_empty() {
        page.errors
            .add("username", "Enter your username or email address.");
    }
    if form.password.is_empty() {
        page.errors.add("password", "Enter your password.");
    }
    if !page.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let previous_session = jar
        .get(&cookies::name(cookies::SESSION, https))
        .and_then(|cookie| SecretToken::parse(cookie.value()))
        .map(|token| token.hash());
    let request = SignInRequest {
        login: &form.username,
        password: &form.password,
        ip: &client.ip,
        previous_session,
        remembered_browser: jar
            .get(&cookies::name(cookies::REMEMBERED_BROWSER, https))
            .and_then(|cookie| SecretToken::parse(cookie.value()))
            .map(|token| token.hash()),
    };
    match sign_in(&state.services, request).await {
        Ok(PasswordAccepted {
            tokens,
            second_step,
        }) => {
            let jar = jar.add(cookies::build(
                cookies::SESSION,
                tokens.session_token.expose().to_owned(),
                https,
            ));
            let next = LocalRedirect::parse(&form.next)
                .map_or_else(|| "/".to_owned(), |next| next.as_str().to_owned());
            let target = match second_step {
                SecondStep::Done | SecondStep::Provider => next,
                SecondStep::Owed => with_next(SECOND_STEP_PAGE, &next),
            };
            Ok((jar, Redirect::to(&target)).into_response())
        }
        Err(SignInError::InvalidCredentials) => {
            page.failure = Some(SignInError::InvalidCredentials.to_string());
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
        Err(error @ SignInError::SingleSignOnOnly(_)) => {
            page.failure = Some(error.to_string());
            Ok((StatusCode::FORBIDDEN, page).into_response())
        }
        Err(error @ SignInError::TooManyAttempts(wait)) => Err(WebError::TooManyRequests {
            message: error.to_string(),
            retry_after: wait,
        }),
        Err(SignInError::Internal(error)) => Err(WebError::Internal(error)),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf_token: String,
    /// Where to go afterwards (the join page, when signing out to accept an invitation).
    #[serde(default)]
    next: String,
}

impl CarriesCsrfToken for SignOutForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    AnySession(user): AnySession,
    client: Client,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<SignOutForm>,
) -> Result<Response, WebError> {
    end_session(
        &state.services,
        &user,
        AuditAction::SignedOut,
        Some(&client.ip),
    )
    .await?;
    let jar = jar.add(cookies::removal(cookies::SESSION, state.settings.https));
    let target = LocalRedirect::parse(&form.next).map_or_else(
        || "/login?signed_out=1".to_owned(),
        |next| next.as_str().to_owned(),
    );
    Ok((jar, Redirect::to(&target)).into_response())
}
