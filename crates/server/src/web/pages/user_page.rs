//! A user's page (`/setup/users/{id}`, the name on the Users page): their details, invitations
//! and the delivery of each email, password reset emails, sessions and recent audit events, and
//! the actions that fit their status. Every action posts to `/setup/users/{id}/actions`, goes
//! through the same use case as anywhere else, and redirects back here with what it did.

use super::Shell;
use super::audit::{LogLine, line};
use super::edit_user::not_found;
use super::pictures::{PictureQuery, PictureView};
use super::user_two_step::{self, ResetAnswer, TwoStepSection, two_step_section};
use super::users_bulk::{ConfirmFrom, confirm_page};
use super::users_list::{avatar_class, full_name, initials};
use crate::store::{EmailHistoryRow, InvitationHistoryRow, SessionSummary};
use crate::usecases::api_tokens::live_api_token_count;
use crate::usecases::edit_user::user_to_edit;
use crate::usecases::manage_users::{
    BulkAction, BulkOutcome, ManageUsersError, Selection, bulk_preview, delete_users,
    reinvite_users, set_users_status,
};
use crate::usecases::password_reset::ACCOUNT_LIMIT;
use crate::usecases::pictures::Whose;
use crate::usecases::sessions::SignedInSession;
use crate::usecases::user_account::{
    ResetLinkOutcome, UserAccount, UserAccountError, send_password_reset_link, sign_out_everywhere,
    user_account,
};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::flash;
use crate::web::local_time::LocalTimes;
use crate::web::session::{IdPath, ManageUsers, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::{Permission, PersonalMessage, UserId, UserStatus};

/// Where a user's page is.
pub fn user_page_path(user_id: &UserId) -> String {
    format!("/setup/users/{user_id}")
}

/// A time in the reader's zone, with its abbreviation.
fn time(times: &LocalTimes, millis: i64) -> String {
    times.at(millis).text().to_owned()
}

fn person(first: Option<&str>, last: Option<&str>) -> String {
    last.map_or_else(|| "—".to_owned(), |last| full_name(first, last))
}

/// One invitation, as its table row reads.
pub struct InvitationLine {
    pub sent: String,
    pub sent_by: String,
    pub expires: String,
    pub outcome: String,
    pub recipient: String,
    pub delivery: EmailLine,
}

/// The delivery of one email.
pub struct EmailLine {
    pub queued: String,
    pub state: String,
    pub attempts: String,
    pub last_error: String,
    pub sent: String,
}

fn delivery_state(state: &str) -> String {
    match state {
        "queued" | "sending" => "Queued",
        "sent" => "Sent",
        "retrying" => "Retrying",
        "failed" => "Could not be delivered",
        other => other,
    }
    .to_owned()
}

fn email_line(row: &EmailHistoryRow, times: &LocalTimes) -> EmailLine {
    EmailLine {
        queued: time(times, row.created_at),
        state: delivery_state(&row.state),
        attempts: row.attempts.to_string(),
        last_error: row.last_error.clone().unwrap_or_default(),
        sent: row.sent_at.map(|at| time(times, at)).unwrap_or_default(),
    }
}

fn invitation_line(row: InvitationHistoryRow, times: &LocalTimes) -> InvitationLine {
    let outcome = if let Some(at) = row.consumed_at {
        format!("Accepted {}", time(times, at))
    } else if let Some(at) = row.superseded_at {
        format!("Replaced by a newer invitation {}", time(times, at))
    } else if let Some(at) = row.revoked_at {
        format!("Revoked {} (deactivated)", time(times, at))
    } else if times.at(row.expires_at).is_past() {
        "Expired".to_owned()
    } else {
        "Waiting to be accepted".to_owned()
    };
    let delivery = match &row.email_state {
        Some(state) => EmailLine {
            queued: time(times, row.created_at),
            state: delivery_state(state),
            attempts: row.email_attempts.unwrap_or_default().to_string(),
            last_error: row.email_last_error.clone().unwrap_or_default(),
            sent: row
                .email_sent_at
                .map(|at| time(times, at))
                .unwrap_or_default(),
        },
        None => EmailLine {
            queued: time(times, row.created_at),
            state: "Withdrawn before it was sent".to_owned(),
            attempts: String::new(),
            last_error: String::new(),
            sent: String::new(),
        },
    };
    InvitationLine {
        sent: time(times, row.created_at),
        sent_by: person(
            row.sender_first_name.as_deref(),
            row.sender_last_name.as_deref(),
        ),
        expires: time(times, row.expires_at),
        outcome,
        recipient: row.email_recipient.unwrap_or_default(),
        delivery,
    }
}

/// One session, as its table row reads.
pub struct SessionLine {
    pub started: String,
    pub last_seen: String,
    pub address: String,
    /// The session the administrator is using now.
    pub this_browser: bool,
    /// Signed in with the password, the second step still owed.
    pub second_step_pending: bool,
}

fn session_line(
    session: SessionSummary,
    admin: &SignedInSession,
    times: &LocalTimes,
) -> SessionLine {
    SessionLine {
        started: time(times, session.created_at),
        last_seen: time(times, session.last_seen_at),
        address: session.ip.unwrap_or_else(|| "not recorded".to_owned()),
        this_browser: session.id_hash == admin.id_hash.as_str(),
        second_step_pending: session.second_step_pending != 0,
    }
}

/// Which buttons the page offers: those that fit the user's status, when the administrator may
/// manage them.
#[derive(Default)]
pub struct Actions {
    pub edit: bool,
    pub reinvite: bool,
    pub password_reset: bool,
    pub deactivate: bool,
    pub activate: bool,
    pub delete: bool,
    pub sign_out_everywhere: bool,
}

fn actions(account: &UserAccount, is_self: bool) -> Actions {
    if !account.manageable {
        return Actions::default();
    }
    let status = account.status;
    Actions {
        edit: true,
        reinvite: status == UserStatus::Unconfirmed,
        password_reset: status == UserStatus::Active,
        deactivate: status != UserStatus::Deactivated && !is_self,
        activate: status == UserStatus::Deactivated,
        delete: status == UserStatus::Unconfirmed,
        sign_out_everywhere: !account.sessions.is_empty(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "user.html")]
pub struct UserPage {
    shell: Option<Shell>,
    title: String,
    csrf_token: String,
    user_id: String,
    full_name: String,
    initials: String,
    avatar_class: String,
    status: &'static str,
    status_class: &'static str,
    is_self: bool,
    notices: Vec<String>,
    /// (label, value) in the order the page lists them.
    details: Vec<(&'static str, String)>,
    manageable: bool,
    actions: Actions,
    invitations: Vec<InvitationLine>,
    reset_emails: Vec<EmailLine>,
    sessions: Vec<SessionLine>,
    /// `None` when the administrator may not view the Audit Log.
    events: Option<Vec<LogLine>>,
    /// Their picture (or initials), with the forms to change it when `manageable`.
    pub(super) picture: PictureView,
    personal_message_limit: usize,
    /// How many live API tokens they made; `None` when the reader may not manage API tokens.
    live_api_tokens: Option<i64>,
    /// Their two-step verification, when the administrator may manage them.
    two_step: Option<TwoStepSection>,
}

fn user_page(
    admin: &SignedInSession,
    account: UserAccount,
    picture: PictureView,
    notices: Vec<String>,
    times: &LocalTimes,
) -> UserPage {
    let record = &account.record;
    let name = full_name(record.first_name.as_deref(), &record.last_name);
    let is_self = record.id == admin.user_id;
    // Someone nobody invited (the first administrator, a user the operator added) was added.
    let invited = match record.inviter_last_name.as_deref() {
        Some(last) => (
            "Invited",
            format!(
                "{} by {}",
                time(times, record.created_at),
                full_name(record.inviter_first_name.as_deref(), last)
            ),
        ),
        None => ("Added", time(times, record.created_at)),
    };
    let last_sign_in = match (record.last_sign_in_at, &record.last_sign_in_ip) {
        (Some(at), Some(ip)) => format!("{} from {ip}", time(times, at)),
        (Some(at), None) => time(times, at),
        (None, _) => "Never".to_owned(),
    };
    let details = vec![
        ("Status", account.status.label().to_owned()),
        ("Profile", record.profile_name.clone()),
        ("Role", record.role_name.clone()),
        ("Email", record.email.clone()),
        (
            "Username",
            record
                .username
                .clone()
                .unwrap_or_else(|| "Not chosen yet".to_owned()),
        ),
        invited,
        (
            "Joined",
            record
                .joined_at
                .map_or_else(|| "Not yet".to_owned(), |at| time(times, at)),
        ),
        ("Last sign-in", last_sign_in),
    ];
    UserPage {
        shell: Some(Shell::of(admin)),
        title: name.clone(),
        csrf_token: admin.csrf_token.clone(),
        user_id: record.id.to_string(),
        initials: initials(record.first_name.as_deref(), &record.last_name),
        avatar_class: avatar_class(record.id.as_str()),
        status: account.status.label(),
        status_class: account.status.as_str(),
        is_self,
        notices,
        details,
        manageable: account.manageable,
        actions: actions(&account, is_self),
        reset_emails: account
            .reset_emails
            .iter()
            .map(|row| email_line(row, times))
            .collect(),
        sessions: account
            .sessions
            .into_iter()
            .map(|session| session_line(session, admin, times))
            .collect(),
        events: account
            .audit_events
            .map(|events| events.into_iter().map(|entry| line(entry, times)).collect()),
        invitations: account
            .invitations
            .into_iter()
            .map(|row| invitation_line(row, times))
            .collect(),
        full_name: name,
        picture,
        personal_message_limit: PersonalMessage::MAX_LENGTH,
        live_api_tokens: None,
        two_step: None,
    }
}

fn account_error(error: UserAccountError) -> WebError {
    match error {
        UserAccountError::NotFound => WebError::NotFound,
        UserAccountError::Store(error) => error.into(),
        UserAccountError::Internal(error) => WebError::Internal(error),
    }
}

/// The page of `user_id` as `admin` sees it, saying `notices`.
pub(super) async fn load_user_page(
    state: &AppState,
    admin: &SignedInSession,
    user_id: &UserId,
    notices: Vec<String>,
) -> Result<UserPage, WebError> {
    let account = user_account(&state.services, admin, user_id)
        .await
        .map_err(account_error)?;
    let record = &account.record;
    let times = LocalTimes::for_reader(admin, &state.services);
    let two_step = if account.manageable {
        Some(two_step_section(state, admin, user_id, &record.profile_id, &times).await?)
    } else {
        None
    };
    let picture = PictureView::load(
        state,
        admin,
        user_id,
        (record.first_name.as_deref(), &record.last_name),
        Whose::Managed(user_id),
    )
    .await?;
    let mut page = user_page(admin, account, picture, notices, &times);
    page.two_step = two_step;
    if admin.permissions.contains(Permission::ManageApiTokens) {
        page.live_api_tokens =
            Some(live_api_token_count(&state.services, &admin.scope, user_id).await?);
    }
    Ok(page)
}

/// `GET /setup/users/{id}`. Another organization's user, an unknown or a malformed id: 404.
pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    jar: CookieJar,
    IdPath(user_id): IdPath<UserId>,
    Query(query): Query<PictureQuery>,
) -> Result<Response, WebError> {
    let (jar, notices) = flash::take(jar, state.settings.https, &user_page_path(&user_id));
    let mut page = load_user_page(&state, &user, &user_id, notices).await?;
    page.picture.notice = query.notice();
    Ok((jar, page).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct UserActionForm {
    #[serde(default)]
    csrf_token: String,
    /// "reinvite", "delete", "deactivate", "activate", "password_reset",
    /// "sign_out_everywhere" or "two_step_reset".
    #[serde(default)]
    action: String,
    /// Sent with Reinvite.
    #[serde(default)]
    personal_message: String,
    /// Set by the confirmation page that Delete, Deactivate and Reset two-step verification
    /// show first.
    #[serde(default)]
    confirmed: Option<String>,
}

impl CarriesCsrfToken for UserActionForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The buttons of the user's page and of Edit User. A user of another organization, an unknown
/// id, or someone this administrator may not manage is not found, whichever button was pressed
/// (as on Edit User).
pub async fn act(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    jar: CookieJar,
    IdPath(user_id): IdPath<UserId>,
    CsrfForm(form): CsrfForm<UserActionForm>,
) -> Result<Response, WebError> {
    let services = &state.services;
    let https = state.settings.https;
    let page = user_page_path(&user_id);
    let ids = [user_id.to_string()];
    let ip = client.ip.as_str();
    let internal = |error| WebError::Internal(anyhow::anyhow!("{error}"));
    let lines = match form.action.as_str() {
        action @ ("reinvite" | "delete" | "deactivate" | "activate") => {
            user_to_edit(services, &user, &user_id)
                .await
                .map_err(not_found)?;
            // Delete and Deactivate name who they change and wait for Confirm, as on the list.
            if let Some(bulk) = BulkAction::parse(action)
                && bulk.needs_confirmation()
                && form.confirmed.is_none()
            {
                let affected = bulk_preview(services, &user, bulk, &Selection::Ids(ids.to_vec()))
                    .await
                    .map_err(internal)?;
                if !affected.is_empty() {
                    let from = ConfirmFrom {
                        post_to: format!("{page}/actions"),
                        back: String::new(),
                        cancel: page.clone(),
                    };
                    return Ok(confirm_page(&user, bulk, affected, from).into_response());
                }
            }
            let message = &form.personal_message;
            let outcome = match action {
                "reinvite" => reinvite_users(services, &user, &ids, message, Some(ip)).await,
                "delete" => delete_users(services, &user, &ids, Some(ip)).await,
                "deactivate" => set_users_status(services, &user, &ids, true, Some(ip)).await,
                _ => set_users_status(services, &user, &ids, false, Some(ip)).await,
            };
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(error @ ManageUsersError::InvalidPersonalMessage(_)) => BulkOutcome {
                    summary: error.to_string(),
                    skipped: Vec::new(),
                },
                Err(error) => return Err(internal(error)),
            };
            if action == "delete" && outcome.skipped.is_empty() {
                // Their page is gone with them: the Users page says what happened.
                let jar = flash::leave(jar, https, "/setup/users", &outcome.lines());
                return Ok((jar, Redirect::to("/setup/users")).into_response());
            }
            outcome.lines()
        }
        "sign_out_everywhere" => {
            let ended = sign_out_everywhere(services, &user, &user_id, ip)
                .await
                .map_err(account_error)?;
            let sessions = if ended == 1 {
                "1 session".to_owned()
            } else {
                format!("{ended} sessions")
            };
            let mut line = format!("Signed out everywhere: {sessions} ended.");
            if user_id == user.user_id {
                line.push_str(" This browser stays signed in.");
            }
            vec![line]
        }
        "two_step_reset" => {
            match user_two_step::reset(&state, &user, &user_id, form.confirmed.is_some(), ip)
                .await?
            {
                ResetAnswer::Confirm(page) => return Ok(page),
                ResetAnswer::Done(lines) => lines,
            }
        }
        "password_reset" => vec![
            match send_password_reset_link(services, &user, &user_id, ip)
                .await
                .map_err(account_error)?
            {
                ResetLinkOutcome::Queued { email } => format!(
                    "A password reset link is on its way to {email}. It works for one hour, and any earlier reset link stops working."
                ),
                ResetLinkOutcome::NotActive { name } => format!(
                    "{name} is not active: only active users can be sent a password reset link."
                ),
                ResetLinkOutcome::Throttled { name } => format!(
                    "{name} has been sent {} password reset emails in the last hour, the most allowed; try again later.",
                    ACCOUNT_LIMIT.attempts
                ),
            },
        ],
        _ => {
            return Err(WebError::BadRequest(
                "Choose one of the buttons on the page.".to_owned(),
            ));
        }
    };
    let jar = flash::leave(jar, https, &page, &lines);
    Ok((jar, Redirect::to(&page)).into_response())
}
