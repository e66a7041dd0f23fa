//! The outbox: emails written in the transaction of the change that causes them, then claimed
//! with a lease and sent by the worker. At-least-once: a crash between send and mark may send a
//! message twice; nothing is ever lost.

use super::{Store, StoreError, in_transaction, on_pool};
use onestop_domain::Timestamp;
use std::time::Duration;

/// An email to queue. `action_url` (the Join Now link) is kept apart so the file transport can
/// log it; it is wiped with the bodies once sent.
#[derive(Debug, Clone)]
pub struct NewEmail {
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub action_url: Option<String>,
}

pub(crate) const INSERT_OUTBOX_MESSAGE: &str = "INSERT INTO outbox \
     (id, org_id, kind, invitation_id, recipient, subject, body_text, body_html, action_url, state, attempts, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $10)";

/// Queues `$email` (a [`NewEmail`]) on `$executor`.
macro_rules! insert_outbox_message {
    ($executor:expr, $org_id:expr, $invitation_id:expr, $email:expr, $now:expr) => {{
        let email: &$crate::store::NewEmail = $email;
        sqlx::query($crate::store::outbox::INSERT_OUTBOX_MESSAGE)
            .bind($crate::store::new_id())
            .bind($org_id)
            .bind(email.kind)
            .bind($invitation_id)
            .bind(&email.recipient)
            .bind(&email.subject)
            .bind(&email.body_text)
            .bind(&email.body_html)
            .bind(email.action_url.as_deref())
            .bind($now.unix_millis())
            .execute($executor)
            .await
            .map(|_| ())
    }};
}
pub(crate) use insert_outbox_message;

/// A message claimed for sending.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedEmail {
    pub id: String,
    pub org_id: Option<String>,
    pub invitation_id: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub action_url: Option<String>,
    pub attempts: i64,
}

/// The delivery state of one message, for pages and tests.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxStatus {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub body_text: String,
    pub body_html: String,
    pub action_url: Option<String>,
}

const CLAIMABLE: &str = "(state IN ('queued', 'retrying') AND next_attempt_at <= $1) \
                          OR (state = 'sending' AND lease_until < $1)";

impl Store {
    /// Leases up to `limit` due messages (and any whose lease ran out) for `lease`. On PostgreSQL
    /// rows locked by another worker are skipped; SQLite serializes claims with BEGIN IMMEDIATE.
    pub async fn claim_due_emails(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedEmail>, StoreError> {
        let lease_until = now.plus(lease).unix_millis();
        let locking = match self {
            Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Store::Sqlite(_) => "",
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET state = 'sending', lease_until = $2, attempts = attempts + 1 \
              WHERE id IN (SELECT id FROM outbox WHERE {CLAIMABLE} ORDER BY next_attempt_at LIMIT $3{locking}) \
             RETURNING id, org_id, invitation_id, recipient, subject, body_text, body_html, action_url, attempts"
        ));
        in_transaction!(self, |transaction| {
            let claimed = sqlx::query_as::<_, ClaimedEmail>(sql)
                .bind(now.unix_millis())
                .bind(lease_until)
                .bind(limit)
                .fetch_all(&mut *transaction)
                .await?;
            Ok::<_, StoreError>(claimed)
        })
    }

    /// Sent: wipe everything that carried the token.
    pub async fn mark_email_sent(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL, \
                        body_text = '', body_html = '', action_url = NULL WHERE id = $2",
            )
            .bind(now.unix_millis())
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// A transient failure: try again at `next_attempt_at`.
    pub async fn mark_email_retrying(
        &self,
        id: &str,
        reason: &str,
        next_attempt_at: Timestamp,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE outbox SET state = 'retrying', lease_until = NULL, last_error = $1, next_attempt_at = $2 WHERE id = $3",
            )
            .bind(reason)
            .bind(next_attempt_at.unix_millis())
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Our configuration's fault (the SMTP server refuses our credentials): retry later without
    /// counting the attempt against the message.
    pub async fn mark_email_blocked(
        &self,
        id: &str,
        reason: &str,
        next_attempt_at: Timestamp,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE outbox SET state = 'retrying', lease_until = NULL, last_error = $1, next_attempt_at = $2, \
                        attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = $3",
            )
            .bind(reason)
            .bind(next_attempt_at.unix_millis())
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// A permanent failure: never retried; the token-bearing parts are wiped like a sent message's.
    pub async fn mark_email_failed(&self, id: &str, reason: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE outbox SET state = 'failed', lease_until = NULL, last_error = $1, \
                    body_text = '', body_html = '', action_url = NULL WHERE id = $2",
            )
            .bind(reason)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Every message to `recipient`, oldest first.
    pub async fn emails_to(&self, recipient: &str) -> Result<Vec<OutboxStatus>, StoreError> {
        let emails = on_pool!(self, |pool| {
            sqlx::query_as::<_, OutboxStatus>(
                "SELECT id, recipient, subject, state, attempts, last_error, next_attempt_at, body_text, body_html, action_url \
                   FROM outbox WHERE recipient = $1 ORDER BY created_at, id",
            )
            .bind(recipient)
            .fetch_all(pool)
            .await
        })?;
        Ok(emails)
    }
}
