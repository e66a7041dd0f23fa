//! One user, as an administrator looks after them from their page: everything stored about
//! them, ending all their sessions ("Sign out everywhere"), and sending them a password reset
//! link. The grant rule decides, as everywhere: a user the administrator may not manage is shown,
//! but nothing is done to them.

use super::Services;
use super::edit_user::{EditError, user_to_edit};
use super::password_reset::{ResetEmail, queue_reset_email};
use super::sessions::{IDLE_TIMEOUT, SignedInSession};
use crate::store::{
    Actor, AuditLogEntry, EmailHistoryRow, InvitationHistoryRow, SessionSummary, StoreError,
    UserRecord,
};
use onestop_domain::{Permission, Timestamp, UserId, UserStatus};

/// How many of the user's audit events the page shows (the Audit Log has the rest).
pub const RECENT_EVENTS: i64 = 10;

/// Everything the user's page shows.
#[derive(Debug, Clone)]
pub struct UserAccount {
    pub record: UserRecord,
    pub status: UserStatus,
    /// Whether the administrator may manage this user (the grant rule); if not, no action.
    pub manageable: bool,
    pub invitations: Vec<InvitationHistoryRow>,
    pub reset_emails: Vec<EmailHistoryRow>,
    /// Their live sessions, when the administrator may manage them; otherwise none.
    pub sessions: Vec<SessionSummary>,
    /// Their recent events, when the administrator may view the Audit Log.
    pub audit_events: Option<Vec<AuditLogEntry>>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserAccountError {
    /// Not a user of the administrator's organization, or (for an action) not one they may
    /// manage: the same answer as Edit User's.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<EditError> for UserAccountError {
    fn from(error: EditError) -> Self {
        match error {
            EditError::Internal(error) => Self::Internal(error),
            EditError::NotFound | EditError::Invalid(_) | EditError::EmailTaken(_) => {
                Self::NotFound
            }
        }
    }
}

pub async fn user_account(
    services: &Services,
    admin: &SignedInSession,
    user_id: &UserId,
) -> Result<UserAccount, UserAccountError> {
    let store = &services.store;
    let record = store
        .user_record(&admin.scope, user_id)
        .await?
        .ok_or(UserAccountError::NotFound)?;
    let manageable = match user_to_edit(services, admin, user_id).await {
        Ok(_) => true,
        Err(EditError::Internal(error)) => return Err(error.into()),
        Err(_) => false,
    };
    let now = services.clock.now();
    let sessions = if manageable {
        store
            .user_sessions(&admin.scope, user_id)
            .await?
            .into_iter()
            .filter(|session| is_live(session, now))
            .collect()
    } else {
        Vec::new()
    };
    let audit_events = if admin.permissions.contains(Permission::ViewAuditLog) {
        Some(
            store
                .user_audit_events(&admin.scope, user_id, RECENT_EVENTS)
                .await?,
        )
    } else {
        None
    };
    Ok(UserAccount {
        status: record.status()?,
        manageable,
        invitations: store.invitation_history(&admin.scope, user_id).await?,
        reset_emails: store
            .reset_email_history(&admin.scope, &record.email)
            .await?,
        sessions,
        audit_events,
        record,
    })
}

/// A session that a request could still use (the expired ones are deleted when next presented).
fn is_live(session: &SessionSummary, now: Timestamp) -> bool {
    now < Timestamp::from_unix_millis(session.expires_at)
        && now < Timestamp::from_unix_millis(session.last_seen_at).plus(IDLE_TIMEOUT)
}

fn actor<'a>(services: &Services, admin: &'a SignedInSession, ip: &'a str) -> Actor<'a> {
    Actor {
        scope: &admin.scope,
        user_id: admin.user_id.as_str(),
        ip: Some(ip),
        now: services.clock.now(),
    }
}

/// "Sign out everywhere": ends every session of the user, except the one the administrator is
/// using (when they sign themselves out elsewhere). Audited; returns how many sessions ended.
pub async fn sign_out_everywhere(
    services: &Services,
    admin: &SignedInSession,
    user_id: &UserId,
    ip: &str,
) -> Result<u64, UserAccountError> {
    let target = user_to_edit(services, admin, user_id).await?;
    let ended = services
        .store
        .end_user_sessions(actor(services, admin, ip), &target.id, &admin.id_hash)
        .await?;
    Ok(ended)
}

/// What "Send password reset link" did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetLinkOutcome {
    /// The link is on its way to this address.
    Queued { email: String },
    /// Only Active users get a link (as with "Forgot password?").
    NotActive { name: String },
    /// The account has had its reset emails for the hour (shared with "Forgot password?").
    Throttled { name: String },
}

/// An administrator-started password reset: the same one-hour link, email and limits as
/// "Forgot password?", recorded with the administrator as its actor. The link goes only to the
/// user; nothing returns it.
pub async fn send_password_reset_link(
    services: &Services,
    admin: &SignedInSession,
    user_id: &UserId,
    ip: &str,
) -> Result<ResetLinkOutcome, UserAccountError> {
    let target = user_to_edit(services, admin, user_id).await?;
    let name = target.full_name();
    if target.status()? != UserStatus::Active {
        return Ok(ResetLinkOutcome::NotActive { name });
    }
    match queue_reset_email(
        services,
        admin.scope.id(),
        &target.id,
        ip,
        Some((&admin.user_id, admin.full_name())),
    )
    .await?
    {
        ResetEmail::Queued => Ok(ResetLinkOutcome::Queued {
            email: target.email,
        }),
        ResetEmail::Throttled => Ok(ResetLinkOutcome::Throttled { name }),
        ResetEmail::NoSuchUser => Err(UserAccountError::NotFound),
    }
}
