//! One user as their page shows them (Setup > Users > a name): their details, their invitations
//! with the delivery of each email, their password reset emails, their sessions and their recent
//! audit events; and ending every session of theirs ("Sign out everywhere"). Nothing here reads a
//! link or a token: the outbox's bodies and links stay where they are.

use super::audit::insert_audit_event;
use super::{AuditEvent, AuditLogEntry, Store, StoreError, in_transaction, on_pool};
use crate::store::Actor;
use crate::tenancy::OrganizationScope;
use onestop_domain::{AuditAction, TokenHash, UserId, UserStatus};

/// The user's details.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: UserId,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub username: Option<String>,
    status: String,
    pub profile_id: String,
    pub profile_name: String,
    pub role_id: String,
    pub role_name: String,
    /// When they were invited (the user row was created).
    pub created_at: i64,
    pub joined_at: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    /// The client address of their last sign-in (since migration 0008).
    pub last_sign_in_ip: Option<String>,
    pub inviter_first_name: Option<String>,
    pub inviter_last_name: Option<String>,
}

impl UserRecord {
    pub fn status(&self) -> Result<UserStatus, StoreError> {
        self.status
            .parse()
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }
}

/// One invitation of the user, with the email that carried it (none when it was withdrawn
/// before it was sent, by a Reinvite or a deactivation).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationHistoryRow {
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    pub superseded_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub sender_first_name: Option<String>,
    pub sender_last_name: Option<String>,
    pub email_recipient: Option<String>,
    pub email_state: Option<String>,
    pub email_attempts: Option<i64>,
    pub email_last_error: Option<String>,
    pub email_sent_at: Option<i64>,
}

/// One email of the outbox, as its delivery history shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailHistoryRow {
    pub created_at: i64,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

/// One session of the user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionSummary {
    pub id_hash: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    /// The password was given but the second step is still owed: somebody knows the password.
    pub second_step_pending: i64,
}

/// The user with their profile, role and inviter: `$1` organization, `$2` user.
pub const USER_RECORD: &str = "SELECT u.id, u.first_name, u.last_name, u.email, u.username, u.status, \
     u.profile_id, p.name AS profile_name, u.role_id, r.name AS role_name, u.created_at, u.joined_at, \
     u.last_sign_in_at, u.last_sign_in_ip, \
     inviter.first_name AS inviter_first_name, inviter.last_name AS inviter_last_name \
     FROM users u JOIN profiles p ON p.id = u.profile_id JOIN roles r ON r.id = u.role_id \
     LEFT JOIN users inviter ON inviter.id = u.invited_by \
     WHERE u.org_id = $1 AND u.id = $2";

/// The user's invitations with their emails, newest first: `$1` organization, `$2` user, `$3` limit.
pub const INVITATION_HISTORY: &str = "SELECT i.created_at, i.expires_at, i.consumed_at, i.superseded_at, i.revoked_at, \
     sender.first_name AS sender_first_name, sender.last_name AS sender_last_name, \
     o.recipient AS email_recipient, o.state AS email_state, o.attempts AS email_attempts, \
     o.last_error AS email_last_error, o.sent_at AS email_sent_at \
     FROM invitations i \
     LEFT JOIN users sender ON sender.id = i.sent_by \
     LEFT JOIN outbox o ON o.invitation_id = i.id \
     WHERE i.org_id = $1 AND i.user_id = $2 \
     ORDER BY i.created_at DESC, i.id DESC LIMIT $3";

/// Password reset emails by recipient, newest first: `$1` organization, `$2` address, `$3` limit.
pub const RESET_EMAIL_HISTORY: &str = "SELECT created_at, state, attempts, last_error, sent_at FROM outbox \
     WHERE recipient = $2 AND org_id = $1 AND kind = 'password_reset' \
     ORDER BY created_at DESC, id DESC LIMIT $3";

/// The user's sessions: `$1` organization, `$2` user.
pub const USER_SESSIONS: &str = "SELECT id_hash, created_at, last_seen_at, expires_at, ip, \
     CAST(second_step_pending AS BIGINT) AS second_step_pending FROM sessions \
     WHERE user_id = $2 AND org_id = $1 ORDER BY last_seen_at DESC, id_hash";

/// What the user did or had done to them, newest first: `$1` organization, `$2` user, `$3` limit.
pub const USER_AUDIT_EVENTS: &str = "SELECT e.action, e.details, e.ip, e.at, \
     actor.first_name AS actor_first_name, actor.last_name AS actor_last_name, \
     target.first_name AS target_first_name, target.last_name AS target_last_name \
     FROM audit_events e \
     LEFT JOIN users actor ON actor.id = e.actor_user_id \
     LEFT JOIN users target ON target.id = e.target_user_id \
     WHERE e.org_id = $1 AND (e.actor_user_id = $2 OR e.target_user_id = $2) \
     ORDER BY e.at DESC, e.id DESC LIMIT $3";

/// How many invitations and emails the page lists at most (the newest).
const HISTORY_LIMIT: i64 = 20;

impl Store {
    /// The organization's user `user_id`, if there is one.
    pub async fn user_record(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
    ) -> Result<Option<UserRecord>, StoreError> {
        let record = on_pool!(self, |pool| {
            sqlx::query_as::<_, UserRecord>(USER_RECORD)
                .bind(scope.id())
                .bind(user_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(record)
    }

    /// The user's invitations, newest first, each with its email's delivery.
    pub async fn invitation_history(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
    ) -> Result<Vec<InvitationHistoryRow>, StoreError> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, InvitationHistoryRow>(INVITATION_HISTORY)
                .bind(scope.id())
                .bind(user_id)
                .bind(HISTORY_LIMIT)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// The password reset emails sent to `email` by the organization, newest first.
    pub async fn reset_email_history(
        &self,
        scope: &OrganizationScope,
        email: &str,
    ) -> Result<Vec<EmailHistoryRow>, StoreError> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, EmailHistoryRow>(RESET_EMAIL_HISTORY)
                .bind(scope.id())
                .bind(email)
                .bind(HISTORY_LIMIT)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// The user's sessions, most recently used first (expired ones that nobody presented since
    /// are still stored; the caller leaves them out).
    pub async fn user_sessions(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let sessions = on_pool!(self, |pool| {
            sqlx::query_as::<_, SessionSummary>(USER_SESSIONS)
                .bind(scope.id())
                .bind(user_id)
                .fetch_all(pool)
                .await
        })?;
        Ok(sessions)
    }

    /// The newest `limit` events the user did or that were done to them.
    pub async fn user_audit_events(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
        limit: i64,
    ) -> Result<Vec<AuditLogEntry>, StoreError> {
        let events = on_pool!(self, |pool| {
            sqlx::query_as::<_, AuditLogEntry>(USER_AUDIT_EVENTS)
                .bind(scope.id())
                .bind(user_id)
                .bind(limit)
                .fetch_all(pool)
                .await
        })?;
        Ok(events)
    }

    /// "Sign out everywhere": ends every session of the user except `keep` (the administrator's
    /// own, when they sign themselves out elsewhere), forgets the browsers remembered after a
    /// second step, and records it; returns how many sessions ended.
    pub async fn end_user_sessions(
        &self,
        actor: Actor<'_>,
        user_id: &UserId,
        keep: &TokenHash,
    ) -> Result<u64, StoreError> {
        in_transaction!(self, |transaction| {
            let ended = sqlx::query(
                "DELETE FROM sessions WHERE user_id = $1 AND org_id = $2 AND id_hash <> $3",
            )
            .bind(user_id)
            .bind(actor.scope.id())
            .bind(keep.as_str())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            // Every browser, remembered ones too: their next sign-in asks for the second step.
            sqlx::query(
                "DELETE FROM remembered_browsers WHERE user_id IN \
                   (SELECT id FROM users WHERE id = $1 AND org_id = $2)",
            )
            .bind(user_id)
            .bind(actor.scope.id())
            .execute(&mut *transaction)
            .await?;
            let details = match ended {
                1 => "1 session ended".to_owned(),
                count => format!("{count} sessions ended"),
            };
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id: actor.scope.id(),
                    actor_user_id: Some(actor.user_id),
                    action: AuditAction::SessionsEnded,
                    target_user_id: Some(user_id.as_str()),
                    details: &details,
                    ip: actor.ip,
                    at: actor.now,
                }
            )?;
            Ok::<_, StoreError>(ended)
        })
    }
}
