//! `/`: the signed-in user's homepage, built for their Role: greeting, the role's headline and
//! introduction, and its First Steps checklist with this user's progress.

use super::Shell;
use crate::store::{CardEntry, FirstStep};
use crate::web::AppState;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::SignedInUser;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Redirect;
use onestop_domain::Permission;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    shell: Option<Shell>,
    title: &'static str,
    greeting_name: String,
    role_name: String,
    role_headline: String,
    role_introduction: String,
    profile_name: String,
    company_name: String,
    csrf_token: String,
    first_steps: Vec<FirstStep>,
    steps_done: usize,
    /// What needs an administrator: for users who manage users.
    dashboard: Option<DashboardView>,
}

/// The administrator homepage cards, ready to show.
pub struct DashboardView {
    pub unconfirmed: i64,
    /// (name, reason)
    pub failed: Vec<(String, String)>,
    /// (name, expires at)
    pub expiring: Vec<(String, Option<LocalTime>)>,
    /// (name, asked at)
    pub requests: Vec<(String, Option<LocalTime>)>,
}

/// Invitations expiring within this long are shown on the administrator homepage.
const EXPIRING_SOON_MS: i64 = 24 * 60 * 60 * 1000;

async fn dashboard(
    state: &AppState,
    user: &SignedInUser,
) -> Result<Option<DashboardView>, WebError> {
    if !user.permissions.contains(Permission::ManageUsers) {
        return Ok(None);
    }
    let now = state.services.clock.now();
    let cards = state
        .services
        .store
        .dashboard(&user.scope, now, EXPIRING_SOON_MS)
        .await?;
    let times = LocalTimes::for_reader(user, &state.services);
    let when = |entry: &CardEntry| entry.at.map(|at| times.at(at));
    Ok(Some(DashboardView {
        unconfirmed: cards.unconfirmed,
        failed: cards
            .failed_deliveries
            .iter()
            .map(|entry| (entry.full_name(), entry.detail.clone().unwrap_or_default()))
            .collect(),
        expiring: cards
            .expiring_soon
            .iter()
            .map(|entry| (entry.full_name(), when(entry)))
            .collect(),
        requests: cards
            .requests
            .iter()
            .map(|entry| (entry.full_name(), when(entry)))
            .collect(),
    }))
}

pub async fn show(State(state): State<AppState>, user: SignedInUser) -> Result<HomePage, WebError> {
    let first_steps = state
        .services
        .store
        .first_steps(user.user_id.as_str())
        .await?;
    Ok(HomePage {
        shell: Some(Shell::of(&user)),
        title: "Home",
        greeting_name: user.greeting_name(),
        role_name: user.role_name.clone(),
        role_headline: user.role_headline.clone(),
        role_introduction: user.role_introduction.clone(),
        profile_name: user.profile_name.clone(),
        company_name: user.company_name.clone(),
        csrf_token: user.csrf_token.clone(),
        steps_done: first_steps.iter().filter(|step| step.done > 0).count(),
        first_steps,
        dashboard: dashboard(&state, &user).await?,
    })
}

#[derive(Debug, serde::Deserialize)]
pub struct FirstStepForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    item_id: String,
    /// "1" to tick the step off, anything else to clear it.
    #[serde(default)]
    done: String,
}

impl CarriesCsrfToken for FirstStepForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Ticks a First Steps item off (or clears it) for the signed-in user.
pub async fn mark_first_step(
    State(state): State<AppState>,
    user: SignedInUser,
    CsrfForm(form): CsrfForm<FirstStepForm>,
) -> Result<Redirect, WebError> {
    state
        .services
        .store
        .set_first_step_done(
            user.user_id.as_str(),
            &form.item_id,
            form.done == "1",
            state.services.clock.now(),
        )
        .await?;
    Ok(Redirect::to("/#first-steps"))
}
