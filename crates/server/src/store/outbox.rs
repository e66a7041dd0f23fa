//! The outbox: emails written in the transaction of the change that causes them, then claimed
//! with a lease and sent by the worker, which records their outcomes a group at a time.
//! At-least-once: a crash between send and mark may send a message twice; nothing is ever lost.

use super::audit::insert_audit_event;
use super::{AuditEvent, DatabaseKind, Store, StoreError, in_transaction, on_pool, on_writer};
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

/// What became of one claimed message, with the audit event to write if the claim still holds.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub email: &'a ClaimedEmail,
    pub outcome: DeliveryOutcome<'a>,
    pub audit: Option<AuditEvent<'a>>,
}

/// The outcome of one attempt to send a claimed message.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryOutcome<'a> {
    /// The mail server took it: everything that carried the token is wiped.
    Sent,
    /// A transient failure: try again at `next_attempt_at`.
    Retrying {
        reason: &'a str,
        next_attempt_at: Timestamp,
    },
    /// Our configuration's fault (the SMTP server refuses our credentials, or the message does not
    /// open with our key): retry later without counting the attempt against the message.
    Blocked {
        reason: &'a str,
        next_attempt_at: Timestamp,
    },
    /// A permanent failure: never retried; the token-bearing parts are wiped like a sent message's.
    Failed { reason: &'a str },
}

impl<'a> DeliveryOutcome<'a> {
    /// The SET clause of the fenced update, with its `$3` (reason) and `$4` (a time).
    fn update(self, now: Timestamp) -> (&'static str, Option<&'a str>, Option<Timestamp>) {
        match self {
            Self::Sent => (
                "state = 'sent', sent_at = $4, lease_until = NULL, last_error = $3, \
                 body_text = '', body_html = '', action_url = NULL, claim = NULL",
                None,
                Some(now),
            ),
            Self::Retrying {
                reason,
                next_attempt_at,
            } => (
                "state = 'retrying', lease_until = NULL, last_error = $3, next_attempt_at = $4, claim = NULL",
                Some(reason),
                Some(next_attempt_at),
            ),
            Self::Blocked {
                reason,
                next_attempt_at,
            } => (
                "state = 'retrying', lease_until = NULL, last_error = $3, next_attempt_at = $4, claim = NULL, \
                 attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END",
                Some(reason),
                Some(next_attempt_at),
            ),
            Self::Failed { reason } => (
                "state = 'failed', lease_until = NULL, last_error = $3, sent_at = $4, \
                 body_text = '', body_html = '', action_url = NULL, claim = NULL",
                Some(reason),
                None,
            ),
        }
    }
}

const CLAIMABLE: &str = "(state IN ('queued', 'retrying') AND next_attempt_at <= $1) \
                          OR (state = 'sending' AND lease_until < $1)";

/// Every update after a claim names the claim: when a worker's lease has run out and another
/// worker took the message over, the first worker's late update changes nothing.
const FENCE: &str = "id = $1 AND claim = $2 AND state = 'sending'";

/// Leases due messages: `$1` now, `$2` the end of the lease, `$3` how many, `$4` the claim.
pub fn claim_due_emails_sql(kind: DatabaseKind) -> String {
    let locking = match kind {
        DatabaseKind::Postgres => " FOR UPDATE SKIP LOCKED",
        DatabaseKind::Sqlite => "",
    };
    format!(
        "UPDATE outbox SET state = 'sending', lease_until = $2, attempts = attempts + 1, claim = $4 \
          WHERE id IN (SELECT id FROM outbox WHERE {CLAIMABLE} ORDER BY next_attempt_at LIMIT $3{locking}) \
         RETURNING id, claim, org_id, invitation_id, recipient, subject, body_text, body_html, action_url, attempts"
    )
}

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
        let sql = sqlx::AssertSqlSafe(claim_due_emails_sql(self.kind()));
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

    /// Extends the lease of every message of one claim that is still being sent, so that a batch
    /// that runs long is not taken over (and sent twice) while it works. Returns the ids still
    /// held under `claim`: a message missing from them was taken over by another worker (its lease
    /// ran out) or already has its outcome, and must not be sent by this worker.
    pub async fn renew_email_leases(
        &self,
        claim: &str,
        lease_until: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        // Naming the state lets the lookup use the (state, next_attempt_at) index.
        let held: Vec<String> = on_writer!(self, |pool| {
            sqlx::query_scalar(
                "UPDATE outbox SET lease_until = $2 WHERE state = 'sending' AND claim = $1 RETURNING id",
            )
            .bind(claim)
            .bind(lease_until.unix_millis())
            .fetch_all(pool)
            .await
        })?;
        Ok(held)
    }

    /// Records what became of several claimed messages in one transaction (one commit, however
    /// many messages), each with its audit event. Every update is fenced by the message's claim:
    /// for each delivery, in order, `false` says the claim was lost (another worker took the
    /// message over), so nothing was changed and nothing audited for it.
    pub async fn record_deliveries(
        &self,
        deliveries: &[Delivery<'_>],
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        in_transaction!(self, |transaction| {
            let mut held = Vec::with_capacity(deliveries.len());
            for delivery in deliveries {
                let (set, reason, at) = delivery.outcome.update(now);
                let sql = sqlx::AssertSqlSafe(format!("UPDATE outbox SET {set} WHERE {FENCE}"));
                let updated = sqlx::query(sql)
                    .bind(&delivery.email.id)
                    .bind(&delivery.email.claim)
                    .bind(reason)
                    .bind(at.map(Timestamp::unix_millis))
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
                    == 1;
                if let (true, Some(event)) = (updated, &delivery.audit) {
                    insert_audit_event!(&mut *transaction, event)?;
                }
                held.push(updated);
            }
            Ok::<_, StoreError>(held)
        })
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

    /// Queues one email of the organization that belongs to no invitation (a notice to a user).
    pub async fn queue_email(
        &self,
        org_id: &OrganizationId,
        email: &SealedEmail,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| insert_outbox_message!(
            pool,
            org_id,
            None::<&str>,
            email,
            now
        ))?;
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

    /// How many emails wait to be sent (queued, retrying or being sent), and when the oldest of
    /// them was written: for `/metrics`. The `(state, next_attempt_at)` index finds them.
    pub async fn outbox_backlog(&self) -> Result<(i64, Option<i64>), StoreError> {
        let backlog = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*), MIN(created_at) FROM outbox \
                 WHERE state IN ('queued', 'retrying', 'sending')",
            )
            .fetch_one(pool)
            .await
        })?;
        Ok(backlog)
    }
}
