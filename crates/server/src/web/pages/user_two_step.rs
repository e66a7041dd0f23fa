//! The "Two-step verification" section of a user's page (their methods, never a secret; unused
//! recovery codes; whether their profile requires it) and its "Reset two-step verification"
//! button, which first asks for confirmation like the page's other dangerous actions.

use super::Shell;
use super::edit_user::not_found;
use crate::store::TwoStepMethodSummary;
use crate::usecases::edit_user::user_to_edit;
use crate::usecases::sessions::SignedInSession;
use crate::usecases::two_step_admin::{
    ResetTwoStepError, TwoStepStatus, reset_two_step, two_step_status,
};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use onestop_domain::UserId;

/// One method, as its table row reads.
pub struct MethodLine {
    pub kind: &'static str,
    pub name: String,
    pub added: LocalTime,
    pub last_used: Option<LocalTime>,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "passkey" => "Passkey",
        _ => "Authenticator app",
    }
}

fn method_line(method: TwoStepMethodSummary, times: &LocalTimes) -> MethodLine {
    MethodLine {
        kind: kind_label(&method.kind),
        added: times.at(method.created_at),
        last_used: method.last_used_at.map(|at| times.at(at)),
        name: method.name,
    }
}

/// The section as the page shows it.
pub struct TwoStepSection {
    pub methods: Vec<MethodLine>,
    pub unused_recovery_codes: i64,
    pub required_by_profile: bool,
    /// The Reset button: not for the administrator's own account (they use My Account).
    pub may_reset: bool,
}

impl TwoStepSection {
    /// Whether there is anything to reset.
    pub fn is_set_up(&self) -> bool {
        !self.methods.is_empty() || self.unused_recovery_codes > 0
    }
}

/// The section of `user_id` (with profile `profile_id`) for `admin`, who may manage them.
pub(super) async fn two_step_section(
    state: &AppState,
    admin: &SignedInSession,
    user_id: &UserId,
    profile_id: &str,
    times: &LocalTimes,
) -> Result<TwoStepSection, WebError> {
    let TwoStepStatus {
        methods,
        unused_recovery_codes,
        required_by_profile,
    } = two_step_status(&state.services, admin, user_id, profile_id).await?;
    Ok(TwoStepSection {
        methods: methods
            .into_iter()
            .map(|method| method_line(method, times))
            .collect(),
        unused_recovery_codes,
        required_by_profile,
        may_reset: *user_id != admin.user_id,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "two_step_reset_confirm.html")]
pub struct ResetConfirmPage {
    shell: Option<Shell>,
    title: String,
    csrf_token: String,
    user_id: String,
}

/// What the Reset button did: the confirmation page to show, or the lines for the user's page.
pub(super) enum ResetAnswer {
    Confirm(Response),
    Done(Vec<String>),
}

/// "Reset two-step verification": the confirmation first, then the reset.
pub(super) async fn reset(
    state: &AppState,
    admin: &SignedInSession,
    user_id: &UserId,
    confirmed: bool,
    ip: &str,
) -> Result<ResetAnswer, WebError> {
    if !confirmed {
        let target = user_to_edit(&state.services, admin, user_id)
            .await
            .map_err(not_found)?;
        if target.id != admin.user_id {
            let page = ResetConfirmPage {
                shell: Some(Shell::of(admin)),
                title: format!("Reset two-step verification of {}?", target.full_name()),
                csrf_token: admin.csrf_token.clone(),
                user_id: user_id.to_string(),
            };
            return Ok(ResetAnswer::Confirm(page.into_response()));
        }
    }
    match reset_two_step(&state.services, admin, user_id, ip).await {
        Ok(done) => {
            let ended = match done.counts.sessions {
                1 => "1 session".to_owned(),
                count => format!("{count} sessions"),
            };
            // Two lines: the flash cuts each at 200 characters, and names can be long.
            Ok(ResetAnswer::Done(vec![
                format!(
                    "Two-step verification of {} was reset: their methods and recovery codes are removed and {ended} ended.",
                    done.name
                ),
                "They set it up again at their next sign-in when their profile requires it."
                    .to_owned(),
            ]))
        }
        Err(error @ ResetTwoStepError::OwnAccount) => {
            Ok(ResetAnswer::Done(vec![error.to_string()]))
        }
        Err(ResetTwoStepError::NotFound) => Err(WebError::NotFound),
        Err(ResetTwoStepError::Store(error)) => Err(error.into()),
        Err(ResetTwoStepError::Internal(error)) => Err(WebError::Internal(error)),
    }
}
