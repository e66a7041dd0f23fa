//! The outbox: emails written in the transaction of the change that causes them, then claimed
//! with a lease and sent by the worker. At-least-once: a crash between send and mark may send a
//! message twice; nothing is ever lost.

use super::{Store, StoreError, in_transaction, on_pool, on_writer};
use crate::sealing::{OpenError, SealError, Sealer};
use onestop_domain::OrganizationId;
use onestop_domain::Timestamp;
use std::time::Duration;

/// An email as rendered. `action_url` (the Join Now or reset link) is kept apart from the bodies
/// (tests read it there); it is sealed like them, never logged, and wiped with them once sent.
#[derive(Debug, Clone)]
pub struct NewEmail {
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub action_url: Option<String>,
}

/// An email whose bodies and link are sealed (see [`crate::sealing`]): the only kind the outbox
/// accepts, so no code path can write a live link into the database in clear.
#[derive(Debug, Clone)]
pub struct SealedEmail {
    pub(crate) kind: &'static str,
    pub(crate) recipient: String,
    pub(crate) subject: String,
    pub(crate) body_text: String,
    pub(crate) body_html: String,
    pub(crate) action_url: Option<String>,
}

impl NewEmail {
    pub fn seal(self, sealer: &Sealer) -> Result<SealedEmail, SealError> {
        Ok(SealedEmail {
            kind: self.kind,
            recipient: self.recipient,
            subject: self.subject,
            body_text: sealer.seal(&self.body_text)?,
            body_html: sealer.seal(&self.body_html)?,
            action_url: self
                .action_url
                .as_deref()
                .map(|url| sealer.seal(url))
                .transpose()?,
        })
    }
}

pub(crate) const INSERT_OUTBOX_MESSAGE: &str = "INSERT INTO outbox \
     (id, org_id, kind, invitation_id, recipient, subject, body_text, body_html, action_url, state, attempts, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $10)";

/// Queues `$email` (a [`NewEmail`]) on `$executor`.
macro_rules! insert_outbox_message {
    ($executor:expr, $org_id:expr, $invitation_id:expr, $email:expr, $now:expr) => {{
        let email: &$crate::store::SealedEmail = $email;
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

/// A message claimed for sending; its bodies and link are still sealed. `claim` fences every later
/// update: a worker whose lease ran out (and whose message another worker took over) can no longer
/// change the row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedEmail {
    pub id: String,
    pub claim: String,
    pub org_id: Option<OrganizationId>,
    pub invitation_id: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub action_url: Option<String>,
    pub attempts: i64,
}

/// A claimed message opened for sending.
#[derive(Debug, Clone)]
pub struct OpenedEmail {
    pub body_text: String,
    pub body_html: String,
    pub action_url: Option<String>,
}

impl ClaimedEmail {
    pub fn open(&self, sealer: &Sealer) -> Result<OpenedEmail, OpenError> {
        Ok(OpenedEmail {
            body_text: sealer.open(&self.body_text)?,
            body_html: sealer.open(&self.body_html)?,
            action_url: self
                .action_url
                .as_deref()
                .map(|url| sealer.open(url))
                .transpose()?,
        })
    }
}

/// The delivery state of one message, for pages and tests (bodies and link sealed).
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

/// Every update after a claim names the claim: when a worker's lease has run out and another
/// worker took the message over, the first worker's late update changes nothing.
const FENCE: &str = "id = $1 AND claim = $2 AND state = 'sending'";

impl Store {
    /// Leases up to `limit` due messages (and any whose lease ran out) for `lease`, each under a
    /// fresh claim token. On PostgreSQL rows locked by another worker are skipped; SQLite
    /// serializes claims with BEGIN IMMEDIATE.
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
            "UPDATE outbox SET state = 'sending', lease_until = $2, attempts = attempts + 1, claim = $4 \
              WHERE id IN (SELECT id FROM outbox WHERE {CLAIMABLE} ORDER BY next_attempt_at LIMIT $3{locking}) \
             RETURNING id, claim, org_id, invitation_id, recipient, subject, body_text, body_html, action_url, attempts"
        ));
        let claim = super::new_id();
        in_transaction!(self, |transaction| {
            let claimed = sqlx::query_as::<_, ClaimedEmail>(sql)
                .bind(now.unix_millis())
                .bind(lease_until)
                .bind(limit)
                .bind(&claim)
                .fetch_all(&mut *transaction)
                .await?;
            Ok::<_, StoreError>(claimed)
        })
    }

    /// Extends the lease of a claimed message just before it is sent, so that a slow batch never
    /// lets its later messages be taken over (and sent twice) while it works. `false`: the claim
    /// was lost, and the message must not be sent by this worker.
    pub async fn renew_email_lease(
        &self,
        email: &ClaimedEmail,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("UPDATE outbox SET lease_until = $3 WHERE {FENCE}"));
        let renewed = on_writer!(self, |pool| {
            sqlx::query(sql)
                .bind(&email.id)
                .bind(&email.claim)
                .bind(lease_until.unix_millis())
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(renewed == 1)
    }

    /// Runs one fenced update of a claimed message; `false` when the claim was lost.
    async fn update_claimed(
        &self,
        email: &ClaimedEmail,
        set: &str,
        reason: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("UPDATE outbox SET {set} WHERE {FENCE}"));
        let updated = on_writer!(self, |pool| {
            sqlx::query(sql)
                .bind(&email.id)
                .bind(&email.claim)
                .bind(reason)
                .bind(at.map(Timestamp::unix_millis))
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(updated == 1)
    }

    /// Sent: wipe everything that carried the token.
    pub async fn mark_email_sent(
        &self,
        email: &ClaimedEmail,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.update_claimed(
            email,
            "state = 'sent', sent_at = $4, lease_until = NULL, last_error = $3, \
             body_text = '', body_html = '', action_url = NULL, claim = NULL",
            None,
            Some(now),
        )
        .await
    }

    /// A transient failure: try again at `next_attempt_at`.
    pub async fn mark_email_retrying(
        &self,
        email: &ClaimedEmail,
        reason: &str,
        next_attempt_at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.update_claimed(
            email,
            "state = 'retrying', lease_until = NULL, last_error = $3, next_attempt_at = $4, claim = NULL",
            Some(reason),
            Some(next_attempt_at),
        )
        .await
    }

    /// Our configuration's fault (the SMTP server refuses our credentials): retry later without
    /// counting the attempt against the message.
    pub async fn mark_email_blocked(
        &self,
        email: &ClaimedEmail,
        reason: &str,
        next_attempt_at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.update_claimed(
            email,
            "state = 'retrying', lease_until = NULL, last_error = $3, next_attempt_at = $4, claim = NULL, \
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END",
            Some(reason),
            Some(next_attempt_at),
        )
        .await
    }

    /// A permanent failure: never retried; the token-bearing parts are wiped like a sent message's.
    pub async fn mark_email_failed(
        &self,
        email: &ClaimedEmail,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.update_claimed(
            email,
            "state = 'failed', lease_until = NULL, last_error = $3, sent_at = $4, \
             body_text = '', body_html = '', action_url = NULL, claim = NULL",
            Some(reason),
            None,
        )
        .await
    }

    /// Seals the bodies and links of unsent messages that an older version wrote in clear.
    pub async fn seal_plain_outbox_rows(&self, sealer: &Sealer) -> Result<usize, StoreError> {
        in_transaction!(self, |transaction| {
            let plain: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
                "SELECT id, body_text, body_html, action_url FROM outbox \
                  WHERE state IN ('queued', 'retrying', 'sending') AND body_text NOT LIKE 'sealed:%'",
            )
            .fetch_all(&mut *transaction)
            .await?;
            for (id, body_text, body_html, action_url) in &plain {
                let seal = |text: &str| {
                    sealer
                        .seal(text)
                        .map_err(|error| StoreError::Corrupt(error.to_string()))
                };
                sqlx::query(
                    "UPDATE outbox SET body_text = $1, body_html = $2, action_url = $3 WHERE id = $4",
                )
                .bind(seal(body_text)?)
                .bind(seal(body_html)?)
                .bind(action_url.as_deref().map(seal).transpose()?)
                .bind(id)
                .execute(&mut *transaction)
                .await?;
            }
            Ok::<_, StoreError>(plain.len())
        })
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
