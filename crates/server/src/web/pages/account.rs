//! `/account`, My Account: every signed-in user's own name, email, username, profile and role,
//! their profile picture, and the time zone they read times in.

use super::Shell;
use super::pictures::{PictureQuery, PictureView};
use crate::usecases::FieldErrors;
use crate::usecases::account::{AccountError, account_details, set_own_time_zone};
use crate::usecases::pictures::Whose;
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::SignedInUser;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::TimeZoneName;

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    full_name: String,
    email: String,
    username: Option<String>,
    profile_name: String,
    role_name: String,
    time_zones: Vec<String>,
    /// Selected in the list: the user's zone, or what they just typed.
    time_zone: String,
    /// The company's zone, named while the user follows it.
    company_time_zone: Option<String>,
    /// The time now, in the user's zone: shows what the chosen zone means.
    now: LocalTime,
    errors: FieldErrors,
    notice: Option<&'static str>,
    /// Their picture (or initials), with the forms to change it.
    pub(super) picture: PictureView,
}

pub(super) async fn page(
    state: &AppState,
    user: &SignedInSession,
    typed_time_zone: Option<String>,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<AccountPage, WebError> {
    let details = account_details(&state.services, user).await?;
    let times = LocalTimes::for_reader(user, &state.services);
    let picture = PictureView::load(
        state,
        user,
        &user.user_id,
        (user.first_name.as_deref(), &user.last_name),
        Whose::Own,
    )
    .await?;
    Ok(AccountPage {
        shell: Some(Shell::of(user)),
        title: "My Account",
        csrf_token: user.csrf_token.clone(),
        full_name: user.full_name(),
        email: user.email.clone(),
        username: details.username,
        profile_name: user.profile_name.clone(),
        role_name: user.role_name.clone(),
        time_zones: TimeZoneName::choices_with(user.time_zone.as_str()),
        time_zone: typed_time_zone.unwrap_or_else(|| user.time_zone.to_string()),
        company_time_zone: (!details.chose_time_zone).then(|| user.company_time_zone.to_string()),
        now: times.of(state.services.clock.now()),
        errors,
        notice,
        picture,
    })
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct AccountQuery {
    /// Set after a save (the page is reached by a redirect, so reloading repeats nothing).
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: SignedInUser,
    Query(query): Query<AccountQuery>,
    Query(picture): Query<PictureQuery>,
) -> Result<AccountPage, WebError> {
    let notice = query.saved.map(|_| "Your time zone is saved.");
    let mut page = page(&state, &user, None, FieldErrors::default(), notice).await?;
    page.picture.notice = picture.notice();
    Ok(page)
}

#[derive(Debug, serde::Deserialize)]
pub struct TimeZoneForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    time_zone: String,
}

impl CarriesCsrfToken for TimeZoneForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub async fn save(
    State(state): State<AppState>,
    user: SignedInUser,
    client: Client,
    CsrfForm(form): CsrfForm<TimeZoneForm>,
) -> Result<Response, WebError> {
    match set_own_time_zone(&state.services, &user, &form.time_zone, Some(&client.ip)).await {
        Ok(()) => Ok(Redirect::to("/account?saved=1").into_response()),
        Err(AccountError::Invalid(errors)) => {
            let page = page(&state, &user, Some(form.time_zone), errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(AccountError::Store(error)) => Err(error.into()),
    }
}
