//! Joining: `/join/{token}` (changes nothing, moves the token into a short cookie), `/join` (the
//! cookie check, then "Username", "Password", "Confirm Password" and "Update"), and every other
//! outcome as a clear page.

use super::Shell;
use crate::usecases::FieldErrors;
use crate::usecases::invalid_links::{links_blocked, record_invalid_link};
use crate::usecases::join::{
    InvitationState, JoinError, JoinInput, RequestOutcome, accept_invitation, look_up_invitation,
    request_new_invitation,
};
use crate::usecases::sessions::SignedInSession;
use crate::usecases::sso::provider_name_of;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::cookies;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm, form_token};
use crate::web::error::{COOKIES_DISABLED, WebError};
use crate::web::session::CurrentSession;
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::{SecretToken, TimeZoneName, UserId};
use std::sync::Arc;
use std::time::Duration;

/// Long enough to read the page and choose a password; the invitation itself lives on.
const JOIN_COOKIE_LIFETIME: Duration = Duration::from_secs(30 * 60);

#[derive(Template, WebTemplate)]
#[template(path = "join.html")]
pub struct JoinPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    company_name: String,
    account_name: String,
    email: String,
    username: String,
    errors: FieldErrors,
    time_zones: Vec<String>,
    /// The zone selected when the page opens: the company's (the page's script then offers the
    /// browser's own), or what was chosen before an error.
    time_zone: String,
    /// Whether the script may replace `time_zone` with the browser's guess.
    guess_time_zone: bool,
    /// "Join with {provider}", when the company has single sign-on.
    sso_provider: Option<String>,
}

/// Every page of the join flow other than the form.
#[derive(Template, WebTemplate)]
#[template(path = "join_outcome.html")]
pub struct JoinOutcomePage {
    shell: Option<Shell>,
    /// The heading without its full stop: each outcome has a title of its own.
    title: String,
    heading: String,
    message: String,
    advice: Option<String>,
    sign_in_link: bool,
    /// For "signed in as someone else": the session's CSRF token for the Sign Out button.
    sign_out_token: Option<String>,
    /// For an expired invitation: the form token and the link's token for "Ask for a new
    /// invitation".
    request_form: Option<(String, String)>,
}

fn outcome(heading: impl Into<String>, message: impl Into<String>) -> JoinOutcomePage {
    let heading = heading.into();
    JoinOutcomePage {
        shell: None,
        title: heading.trim_end_matches('.').to_owned(),
        heading,
        message: message.into(),
        advice: None,
        sign_in_link: false,
        sign_out_token: None,
        request_form: None,
    }
}

/// The expired page, with "Ask for a new invitation" when `request_form` carries its tokens.
fn expired_page(state: &InvitationState, request_form: Option<(String, String)>) -> Response {
    let mut response = not_live_page(state);
    if let Some(request_form) = request_form
        && let InvitationState::Expired { inviter_name } = state
    {
        let mut page = expired_outcome(inviter_name.as_deref());
        page.request_form = Some(request_form);
        response = private((StatusCode::GONE, page).into_response());
    }
    response
}

fn expired_outcome(inviter_name: Option<&str>) -> JoinOutcomePage {
    let mut page = outcome(
        "This invitation has expired.",
        match inviter_name {
            Some(name) => format!("{name} invited you, but the invitation is no longer valid."),
            None => "The invitation is no longer valid.".to_owned(),
        },
    );
    page.advice = Some(match inviter_name {
        Some(name) => format!("Ask {name} or another administrator of your company to send you a new invitation, or use the button below."),
        None => "Ask an administrator of your company to send you a new invitation, or use the button below.".to_owned(),
    });
    page
}

/// The page for an invitation that cannot be accepted, with its status code.
fn not_live_page(state: &InvitationState) -> Response {
    let (status, page) = match state {
        InvitationState::Expired { inviter_name } => {
            (StatusCode::GONE, expired_outcome(inviter_name.as_deref()))
        }
        InvitationState::AlreadyAccepted => {
            let mut page = outcome(
                "This invitation has already been accepted.",
                "The account for this invitation is set up. Sign in with the username and password that were chosen.",
            );
            page.sign_in_link = true;
            (StatusCode::OK, page)
        }
        InvitationState::NotValid | InvitationState::Live(_) => {
            let mut page = outcome("Invitation not valid", "This invitation link is not valid.");
            page.advice = Some(
                "If you were sent a newer invitation, use the link in that email. Otherwise ask an administrator of your company to invite you again."
                    .to_owned(),
            );
            (StatusCode::NOT_FOUND, page)
        }
    };
    private((status, page).into_response())
}

fn signed_in_as_someone_else(session: &SignedInSession) -> Response {
    let mut page = outcome(
        "You are signed in as someone else.",
        format!(
            "You are signed in as {}. Sign out to accept this invitation.",
            session.full_name()
        ),
    );
    page.sign_out_token = Some(session.csrf_token.clone());
    private((StatusCode::CONFLICT, page).into_response())
}

fn cookies_disabled() -> Response {
    let mut page = outcome("Cookies are needed", COOKIES_DISABLED);
    page.advice = Some(
        "Turn on cookies for this site in your browser's settings, or open the Join Now link from your email in another browser (private or incognito windows often block cookies). The invitation is still valid."
            .to_owned(),
    );
    private(page.into_response())
}

/// Join pages carry or follow a secret link: never pass it on as a Referer.
fn private(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

fn other_user(current: &CurrentSession, invited_user_id: &UserId) -> Option<Arc<SignedInSession>> {
    current
        .0
        .clone()
        .filter(|session| session.user_id != *invited_user_id)
}

/// `GET /join/{token}`: looks, changes nothing (mail scanners open links too).
pub async fn open_link(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    Path(token): Path<String>,
    client: Client,
    jar: CookieJar,
) -> Result<Response, WebError> {
    open(&state, &current, &token, &client, jar).await
}

/// `GET /join/`: a link whose token was cut off is answered like any other invalid link.
pub async fn open_empty_link(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    client: Client,
    jar: CookieJar,
) -> Result<Response, WebError> {
    open(&state, &current, "", &client, jar).await
}

async fn open(
    state: &AppState,
    current: &CurrentSession,
    token: &str,
    client: &Client,
    jar: CookieJar,
) -> Result<Response, WebError> {
    if let Some(wait) = links_blocked(&state.services, &client.ip).await? {
        return Err(WebError::TooManyRequests {
            message: format!(
                "Too many invalid links were opened from your network. Try again in {} seconds, with the link from your newest invitation email.",
                wait.as_secs()
            ),
            retry_after: wait,
        });
    }
    let state_of_link = match SecretToken::parse(token) {
        Some(token) => (
            look_up_invitation(&state.services, &token).await?,
            Some(token),
        ),
        None => (InvitationState::NotValid, None),
    };
    let (invitation_state, Some(token)) = state_of_link else {
        record_invalid_link(&state.services, &client.ip).await?;
        return Ok(not_live_page(&InvitationState::NotValid));
    };
    if matches!(invitation_state, InvitationState::NotValid) {
        record_invalid_link(&state.services, &client.ip).await?;
    }
    match invitation_state {
        InvitationState::Live(invitation) => {
            let cookie = cookies::build_expiring(
                cookies::JOIN,
                token.expose().to_owned(),
                state.settings.https,
                JOIN_COOKIE_LIFETIME,
            );
            // Keep the link in the cookie even here, so that after "Sign Out" /join continues.
            if let Some(session) = other_user(current, &invitation.user_id) {
                return Ok((jar.add(cookie), signed_in_as_someone_else(&session)).into_response());
            }
            Ok(private(
                (jar.add(cookie), Redirect::to("/join")).into_response(),
            ))
        }
        expired @ InvitationState::Expired { .. } => {
            let (jar, csrf_token) = form_token(current, jar, state.settings.https);
            let request_form = (csrf_token, token.expose().to_owned());
            Ok((jar, expired_page(&expired, Some(request_form))).into_response())
        }
        other => Ok(not_live_page(&other)),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    token: String,
}

impl CarriesCsrfToken for RequestForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// "Ask for a new invitation" on the expired page.
pub async fn request_new(
    State(state): State<AppState>,
    client: Client,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Result<Response, WebError> {
    let Some(token) = SecretToken::parse(&form.token) else {
        return Ok(not_live_page(&InvitationState::NotValid));
    };
    let message = match request_new_invitation(&state.services, &token, &client.ip).await {
        Ok(RequestOutcome::Sent) => {
            "Your administrators have been asked to send you a new invitation. It will arrive by email."
        }
        Ok(RequestOutcome::AlreadyAsked) => {
            "You already asked within the last hour, and your administrators have been told. The new invitation will arrive by email."
        }
        Ok(RequestOutcome::NotExpired) => return Ok(not_live_page(&InvitationState::NotValid)),
        Err(JoinError::Internal(error)) => return Err(WebError::Internal(error)),
        Err(_) => return Ok(not_live_page(&InvitationState::NotValid)),
    };
    Ok(private(
        outcome("New invitation requested", message).into_response(),
    ))
}

/// The page for an invitation that is no longer live, reached through `/join` (it expired while
/// the form was open, say): an expired one offers "Ask for a new invitation" here too, with the
/// link's token from the join cookie, as `/join/{token}` does.
fn not_live_at_join(
    current: &CurrentSession,
    jar: CookieJar,
    https: bool,
    token: &SecretToken,
    invitation: &InvitationState,
) -> Response {
    if !matches!(invitation, InvitationState::Expired { .. }) {
        return not_live_page(invitation);
    }
    let (jar, csrf_token) = form_token(current, jar, https);
    let request_form = (csrf_token, token.expose().to_owned());
    (jar, expired_page(invitation, Some(request_form))).into_response()
}

fn join_token(jar: &CookieJar, https: bool) -> Option<SecretToken> {
    jar.get(&cookies::name(cookies::JOIN, https))
        .and_then(|cookie| SecretToken::parse(cookie.value()))
}

/// `GET /join`: the cookie check, then the form.
pub async fn show(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let https = state.settings.https;
    let Some(token) = join_token(&jar, https) else {
        return Ok(cookies_disabled());
    };
    let invitation = match look_up_invitation(&state.services, &token).await? {
        InvitationState::Live(invitation) => invitation,
        other => return Ok(not_live_at_join(&current, jar, https, &token, &other)),
    };
    if let Some(session) = other_user(&current, &invitation.user_id) {
        return Ok(signed_in_as_someone_else(&session));
    }
    let (jar, csrf_token) = form_token(&current, jar, https);
    let page = JoinPage {
        shell: None,
        title: "Join 1Stop",
        csrf_token,
        company_name: invitation.company_name.clone(),
        account_name: invitation.account_name.clone(),
        email: invitation.email.clone(),
        username: String::new(),
        errors: FieldErrors::default(),
        time_zones: TimeZoneName::choices_with(&invitation.company_time_zone),
        time_zone: TimeZoneName::from_stored(
            Some(&invitation.company_time_zone),
            &TimeZoneName::utc(),
        )
        .to_string(),
        guess_time_zone: true,
        sso_provider: provider_name_of(&state.services, &invitation.org_id).await?,
    };
    Ok(private((jar, page).into_response()))
}

#[derive(Debug, serde::Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    #[serde(default)]
    time_zone: String,
}

impl CarriesCsrfToken for JoinForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /join` ("Update"): only the username and password are read from the form; anything else
/// posted (a status, a profile, an email) is ignored.
pub async fn submit(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
    client: Client,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<JoinForm>,
) -> Result<Response, WebError> {
    let https = state.settings.https;
    let Some(token) = join_token(&jar, https) else {
        return Ok(cookies_disabled());
    };
    if let InvitationState::Live(invitation) = look_up_invitation(&state.services, &token).await?
        && let Some(session) = other_user(&current, &invitation.user_id)
    {
        return Ok(signed_in_as_someone_else(&session));
    }
    let input = JoinInput {
        username: form.username.clone(),
        password: form.password.clone(),
        password_confirmation: form.password_confirmation.clone(),
        time_zone: form.time_zone.clone(),
    };
    match accept_invitation(&state.services, &token, &input, &client.ip).await {
        Ok(tokens) => {
            let jar = jar
                .add(cookies::removal(cookies::JOIN, https))
                .add(cookies::build(
                    cookies::SESSION,
                    tokens.session_token.expose().to_owned(),
                    https,
                ));
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(JoinError::Invalid(errors)) => {
            // Accepted meanwhile (the same form sent twice: "taken" by its own first submission),
            // or superseded: that state's page, not the form.
            let invitation = match look_up_invitation(&state.services, &token).await? {
                InvitationState::Live(invitation) => invitation,
                other => return Ok(not_live_at_join(&current, jar, https, &token, &other)),
            };
            let page = JoinPage {
                shell: None,
                title: "Join 1Stop",
                csrf_token: form.csrf_token.clone(),
                company_name: invitation.company_name.clone(),
                account_name: invitation.account_name.clone(),
                email: invitation.email.clone(),
                username: form.username.trim().to_owned(),
                errors,
                time_zones: TimeZoneName::choices_with(&form.time_zone),
                time_zone: form.time_zone.clone(),
                guess_time_zone: false,
                sso_provider: provider_name_of(&state.services, &invitation.org_id).await?,
            };
            Ok(private(
                (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
            ))
        }
        Err(JoinError::NotLive(state)) => {
            Ok(not_live_at_join(&current, jar, https, &token, &state))
        }
        Err(JoinError::Internal(error)) => Err(WebError::Internal(error)),
    }
}
