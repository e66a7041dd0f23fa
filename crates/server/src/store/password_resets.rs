//! "Forgot password?": reset links and choosing a new password through one.

use super::audit::insert_audit_event;
use super::outbox::insert_outbox_message;
use super::{AuditEvent, SealedEmail, Store, StoreError, in_transaction, new_id, on_pool};
use onestop_domain::{AuditAction, OrganizationId, Timestamp, TokenHash, UserId};

/// What a reset link leads to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasswordResetRecord {
    pub id: String,
    pub org_id: OrganizationId,
    pub user_id: String,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    pub user_status: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub username: Option<String>,
    pub company_name: String,
    pub account_name: String,
}

/// Whom a reset email goes to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResetRecipient {
    pub first_name: Option<String>,
    pub email: String,
    pub username: Option<String>,
    pub account_name: String,
    /// The zone the user reads times in: their own, or the company's.
    pub time_zone: String,
}

impl Store {
    pub async fn user_for_reset_email(
        &self,
        user_id: &UserId,
    ) -> Result<Option<ResetRecipient>, StoreError> {
        let recipient = on_pool!(self, |pool| {
            sqlx::query_as::<_, ResetRecipient>(
                "SELECT u.first_name, u.email, u.username, o.account_name, \
                        COALESCE(u.time_zone, o.time_zone) AS time_zone FROM users u \
                   JOIN organizations o ON o.id = u.org_id WHERE u.id = $1",
            )
            .bind(user_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(recipient)
    }

    /// Replaces any earlier unused link of the user with a new one and queues its email.
    /// `administrator`: who sent it from the user's page; `None` when the user asked ("Forgot
    /// password?").
    #[allow(clippy::too_many_arguments)]
    pub async fn create_password_reset(
        &self,
        org_id: &OrganizationId,
        user_id: &UserId,
        token_hash: &TokenHash,
        expires_at: Timestamp,
        message: &SealedEmail,
        ip: &str,
        now: Timestamp,
        administrator: Option<&UserId>,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("UPDATE password_resets SET consumed_at = $1 WHERE user_id = $2 AND consumed_at IS NULL")
                .bind(now.unix_millis())
                .bind(user_id)
                .execute(&mut *transaction)
                .await?;
            sqlx::query(
                "INSERT INTO password_resets (id, org_id, user_id, token_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_id())
            .bind(org_id)
            .bind(user_id)
            .bind(token_hash.as_str())
            .bind(now.unix_millis())
            .bind(expires_at.unix_millis())
            .execute(&mut *transaction)
            .await?;
            insert_outbox_message!(&mut *transaction, org_id, None::<&str>, message, now)?;
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id,
                    actor_user_id: administrator.map(UserId::as_str),
                    action: AuditAction::PasswordResetRequested,
                    target_user_id: Some(user_id.as_str()),
                    details: if administrator.is_some() {
                        "sent by an administrator"
                    } else {
                        ""
                    },
                    ip: Some(ip),
                    at: now,
                }
            )?;
            Ok::<_, StoreError>(())
        })
    }

    pub async fn find_password_reset(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<PasswordResetRecord>, StoreError> {
        let record = on_pool!(self, |pool| {
            sqlx::query_as::<_, PasswordResetRecord>(
                "SELECT r.id, r.org_id, r.user_id, r.expires_at, r.consumed_at, u.status AS user_status, \
                        u.first_name, u.last_name, u.email, u.username, o.company_name, o.account_name \
                   FROM password_resets r JOIN users u ON u.id = r.user_id AND u.org_id = r.org_id \
                   JOIN organizations o ON o.id = r.org_id WHERE r.token_hash = $1",
            )
            .bind(token_hash.as_str())
            .fetch_optional(pool)
            .await
        })?;
        Ok(record)
    }

    /// Uses the link once: sets the new password and ends every session of the user. `false`
    /// when the link was used, replaced or expired meanwhile, or the user is no longer Active.
    pub async fn reset_password(
        &self,
        reset: &PasswordResetRecord,
        password_hash: &str,
        ip: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |transaction| {
            let consumed = sqlx::query(
                "UPDATE password_resets SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL AND expires_at > $1",
            )
            .bind(now.unix_millis())
            .bind(&reset.id)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            let updated = if consumed == 1 {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND org_id = $3 AND status = 'active'")
                    .bind(password_hash)
                    .bind(&reset.user_id)
                    .bind(&reset.org_id)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
            } else {
                0
            };
            if updated != 1 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(&reset.user_id)
                .execute(&mut *transaction)
                .await?;
            // A browser remembered after a second step is asked again: the reset may follow a
            // stolen password.
            sqlx::query("DELETE FROM remembered_browsers WHERE user_id = $1")
                .bind(&reset.user_id)
                .execute(&mut *transaction)
                .await?;
            // The sign-in count of the account starts again with its new password.
            sqlx::query("DELETE FROM throttle_counters WHERE key_hash = $1")
                .bind(&super::ThrottleKey::sign_in_account(&reset.user_id).0)
                .execute(&mut *transaction)
                .await?;
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id: &reset.org_id,
                    actor_user_id: Some(&reset.user_id),
                    action: AuditAction::PasswordReset,
                    target_user_id: Some(&reset.user_id),
                    details: "",
                    ip: Some(ip),
                    at: now,
                }
            )?;
            Ok::<_, StoreError>(true)
        })
    }
}
