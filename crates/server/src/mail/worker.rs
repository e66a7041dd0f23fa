//! The outbox worker: claims due messages with a lease, sends several at once, and records the
//! outcomes a group at a time. Transient failures are retried with exponential backoff and
//! jitter; permanent ones (5xx, or too many attempts) are marked failed with the reason.

use super::transport::{Mailer, PARALLEL_SENDS, SMTP_TIMEOUT, SendFailure, build_message};
use crate::store::{AuditEvent, ClaimedEmail, Delivery, DeliveryOutcome, StoreError};
use crate::usecases::Services;
use futures_util::StreamExt;
use lettre::message::Mailbox;
use onestop_domain::{AuditAction, Timestamp};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, watch};

/// How long a claimed message is reserved for one worker before another may take it over.
const LEASE: Duration = Duration::from_secs(120);
/// A send starts only while the lease has at least this long to run: the whole send, which
/// [`SMTP_TIMEOUT`] bounds, plus half a minute for the clocks of different worker hosts and for
/// the moments between the check and the send. A batch sent within `LEASE - SEND_WINDOW` (a
/// minute; a full batch takes about a third of a second on loopback) never writes its lease again.
const SEND_WINDOW: Duration = Duration::from_secs(SMTP_TIMEOUT.as_secs() + 30);
// A lease twice the window leaves a batch at least a minute of sends between renewals.
const _: () = assert!(LEASE.as_secs() >= 2 * SEND_WINDOW.as_secs());
/// How many messages one pass claims: four rounds of parallel sends, so that the connections stay
/// busy, while a claim stays small enough for several workers to share the queue.
const BATCH: usize = 4 * PARALLEL_SENDS;
/// The first retry waits this long; each next one twice as long, up to `MAX_RETRY_DELAY`.
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(30);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);
/// After this many attempts a message is given up on.
pub const MAX_ATTEMPTS: i64 = 10;
/// How often an idle worker looks for due messages (it is also woken when one is queued).
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How often the worker also deletes throttle counters whose window has ended, and invitation
/// counts no cap reads any more.
const PURGE_INTERVAL: Duration = Duration::from_secs(10 * 60);

#[derive(Clone, Debug)]
pub struct OutboxWorker {
    services: Services,
    mailer: Arc<Mailer>,
    from: Mailbox,
}

/// What one attempt to send a claimed message came to, before it is recorded.
#[derive(Debug)]
struct Attempt<'a> {
    email: &'a ClaimedEmail,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// Taken by the mail server, which answered this (or written to this file).
    Sent(String),
    /// Kept queued without counting the attempt: our configuration is at fault, not the message.
    Blocked(String),
    Retrying(String),
    Failed(String),
}

impl OutboxWorker {
    pub fn new(services: Services, mailer: Arc<Mailer>, from: Mailbox) -> Self {
        Self {
            services,
            mailer,
            from,
        }
    }

    /// Runs until `shutdown` turns true; the batch being sent then is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(mailer = ?self.mailer, "outbox worker started");
        let mut purged_at: Option<tokio::time::Instant> = None;
        loop {
            if purged_at.is_none_or(|at| at.elapsed() >= PURGE_INTERVAL) {
                purged_at = Some(tokio::time::Instant::now());
                let now = self.services.clock.now();
                match self.services.store.purge_expired_throttles(now).await {
                    Ok(purged) if purged > 0 => {
                        tracing::debug!(purged, "expired throttle counters purged")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not purge throttle counters"),
                }
                match self.services.store.purge_old_invitation_counts(now).await {
                    Ok(purged) if purged > 0 => {
                        tracing::debug!(purged, "old invitation counts purged")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not purge invitation counts"),
                }
                match self
                    .services
                    .store
                    .purge_expired_webauthn_ceremonies(now)
                    .await
                {
                    Ok(purged) if purged > 0 => {
                        tracing::debug!(purged, "expired passkey ceremonies purged")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not purge passkey ceremonies"),
                }
            }
            match self.deliver_due().await {
                Ok(count) if count > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(error = format!("{error:#}"), "outbox pass failed"),
            }
            tokio::select! {
                _ = shutdown.changed() => break,
                () = self.services.outbox_signal.notified() => {}
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!("outbox worker stopped");
    }

    /// One pass: claims what is due and tries each message once. Returns how many it tried.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let now = self.services.clock.now();
        let claimed = self
            .services
            .store
            .claim_due_emails(now, LEASE, BATCH as i64)
            .await?;
        if let Some(first) = claimed.first() {
            let lease = BatchLease::new(first.claim.clone(), now.plus(LEASE));
            self.deliver_batch(&claimed, &lease).await?;
        }
        Ok(claimed.len())
    }

    /// Sends up to [`PARALLEL_SENDS`] messages at once and, alongside, records the outcomes as
    /// they come in, each group that is ready in one transaction. When recording fails, no further
    /// message is sent (its outcome could not be kept either): the pass fails, and what it did not
    /// record is taken up again once its lease runs out.
    async fn deliver_batch(
        &self,
        claimed: &[ClaimedEmail],
        lease: &BatchLease,
    ) -> Result<(), StoreError> {
        let (finished, mut to_record) = mpsc::channel(PARALLEL_SENDS);
        let sending = async move {
            futures_util::stream::iter(claimed)
                .for_each_concurrent(PARALLEL_SENDS, |email| {
                    let finished = finished.clone();
                    async move {
                        if finished.is_closed() {
                            return;
                        }
                        if let Some(attempt) = self.attempt(email, lease).await.transpose() {
                            let _ = finished.send(attempt).await;
                        }
                    }
                })
                .await;
        };
        let recording = async move {
            let mut group = Vec::with_capacity(BATCH);
            while to_record.recv_many(&mut group, BATCH).await > 0 {
                self.record(std::mem::take(&mut group)).await?;
            }
            Ok(())
        };
        let ((), recorded) = tokio::join!(sending, recording);
        recorded
    }

    /// Opens and sends one message, if this worker still holds it. `None`: another worker took it
    /// over, and it is theirs to send.
    async fn attempt<'a>(
        &self,
        email: &'a ClaimedEmail,
        lease: &BatchLease,
    ) -> Result<Option<Attempt<'a>>, StoreError> {
        if !lease.covers_a_send_of(email, &self.services).await? {
            tracing::info!(recipient = %email.recipient, "another worker took this email over");
            return Ok(None);
        }
        let opened = match email.open(&self.services.sealer) {
            Ok(opened) => opened,
            Err(error) => {
                // Not the message's fault either: keep it until the right key is configured.
                tracing::error!(%error, "an outbox message does not open with this key");
                let outcome = Outcome::Blocked(error.to_string());
                return Ok(Some(Attempt { email, outcome }));
            }
        };
        let sent = match build_message(
            &self.from,
            &email.recipient,
            &email.subject,
            opened.body_text,
            opened.body_html,
        ) {
            Ok(message) => self.mailer.send(message).await,
            Err(failure) => Err(failure),
        };
        let outcome = self.judge(email, sent);
        Ok(Some(Attempt { email, outcome }))
    }

    /// What a send's result means for the message (and for the mail health `/readyz` reports).
    fn judge(&self, email: &ClaimedEmail, sent: Result<String, SendFailure>) -> Outcome {
        match sent {
            Ok(answer) => {
                self.services.mail_health.healthy();
                Outcome::Sent(answer)
            }
            Err(failure) if failure.configuration => {
                // Our fault, not the message's: keep it queued, however many attempts it takes.
                self.services.mail_health.degraded(&failure.reason);
                tracing::error!(reason = %failure.reason, "email is stuck until the SMTP configuration is fixed");
                Outcome::Blocked(failure.reason)
            }
            Err(failure) if failure.permanent => Outcome::Failed(failure.reason),
            Err(failure) if email.attempts >= MAX_ATTEMPTS => Outcome::Failed(format!(
                "gave up after {} attempts: {}",
                email.attempts, failure.reason
            )),
            Err(failure) => Outcome::Retrying(failure.reason),
        }
    }

    /// Records a group of outcomes (sent and failed invitations audited with them) in one
    /// transaction, then logs each. A failed lease renewal in the group ends the pass, but only
    /// after what was sent has been recorded.
    async fn record(&self, group: Vec<Result<Attempt<'_>, StoreError>>) -> Result<(), StoreError> {
        let mut attempts = Vec::with_capacity(group.len());
        let mut renewal_failed = None;
        for result in group {
            match result {
                Ok(attempt) => attempts.push(attempt),
                Err(error) => renewal_failed = Some(error),
            }
        }
        let now = self.services.clock.now();
        let deliveries: Vec<Delivery<'_>> = attempts
            .iter()
            .map(|attempt| attempt.delivery(now))
            .collect();
        let held = self
            .services
            .store
            .record_deliveries(&deliveries, now)
            .await?;
        for ((attempt, delivery), held) in attempts.iter().zip(&deliveries).zip(held) {
            self.log(attempt, delivery.outcome, held);
        }
        renewal_failed.map_or(Ok(()), Err)
    }

    fn log(&self, attempt: &Attempt<'_>, recorded: DeliveryOutcome<'_>, held: bool) {
        let recipient = &attempt.email.recipient;
        crate::metrics::record_delivery(match &attempt.outcome {
            Outcome::Sent(_) => "sent",
            Outcome::Blocked(_) => "blocked",
            Outcome::Retrying(_) => "retrying",
            Outcome::Failed(_) => "failed",
        });
        match (&attempt.outcome, recorded) {
            (Outcome::Sent(_), _) if !held => {
                tracing::warn!(%recipient, "email sent after its lease ran out; another worker owns it now")
            }
            (Outcome::Sent(answer), _) if self.mailer.writes_files() => {
                // The file, never its link: the log stream may be shipped elsewhere, and a link is
                // a key to an account.
                tracing::info!(%recipient, file = %answer, "email written; no SMTP server is configured, so open the file for its link")
            }
            (Outcome::Sent(answer), _) => tracing::info!(%recipient, %answer, "email sent"),
            (Outcome::Failed(reason), _) => {
                tracing::warn!(%recipient, %reason, "email could not be delivered")
            }
            (
                Outcome::Retrying(reason),
                DeliveryOutcome::Retrying {
                    next_attempt_at, ..
                },
            ) => {
                tracing::info!(%recipient, %reason, retry_at = %next_attempt_at, "email will be retried")
            }
            // Blocked messages were logged as errors when they were judged.
            _ => {}
        }
    }
}

impl Attempt<'_> {
    /// The row update and audit event that record this attempt at `now`.
    fn delivery(&self, now: Timestamp) -> Delivery<'_> {
        let email = self.email;
        let (outcome, audit) = match &self.outcome {
            Outcome::Sent(_) => (
                DeliveryOutcome::Sent,
                Some((AuditAction::InvitationDelivered, "")),
            ),
            Outcome::Failed(reason) => (
                DeliveryOutcome::Failed { reason },
                Some((AuditAction::InvitationFailed, reason.as_str())),
            ),
            Outcome::Retrying(reason) => (
                DeliveryOutcome::Retrying {
                    reason,
                    next_attempt_at: now.plus(retry_delay(email.attempts)),
                },
                None,
            ),
            Outcome::Blocked(reason) => (
                DeliveryOutcome::Blocked {
                    reason,
                    next_attempt_at: now.plus(retry_delay(4)),
                },
                None,
            ),
        };
        // Only invitations are audited: the Audit Log follows what happened to them.
        let audit = match (&email.org_id, &email.invitation_id, audit) {
            (Some(org_id), Some(_), Some((action, details))) => Some(AuditEvent {
                org_id,
                actor_user_id: None,
                action,
                target_user_id: None,
                details,
                ip: None,
                at: now,
            }),
            _ => None,
        };
        Delivery {
            email,
            outcome,
            audit,
        }
    }
}

/// The lease on one claimed batch, as this worker knows it.
///
/// Before each send the lease must cover the whole send ([`SEND_WINDOW`]); then no other worker
/// can take the message over (which needs the lease to have run out) before the send has ended,
/// and a message is never sent by two workers at once. Right after the claim every message of the
/// batch is held until `until`, so a batch that is sent quickly (the usual case) needs no write
/// before its sends. When the lease would not cover a send, the batch's unfinished messages are
/// renewed in one fenced statement, and from then on only those the renewal found still held are
/// sent: a message another worker has taken over in the meantime is left to it.
struct BatchLease {
    claim: String,
    held: Mutex<Held>,
}

struct Held {
    until: Timestamp,
    /// `None` until the first renewal: every message of the claim.
    ids: Option<HashSet<String>>,
}

impl BatchLease {
    fn new(claim: String, until: Timestamp) -> Self {
        Self {
            claim,
            held: Mutex::new(Held { until, ids: None }),
        }
    }

    /// Whether `email` may be sent now, renewing the batch's lease first if it runs out too soon.
    /// Sends wait for each other's renewal, so there is one at a time.
    async fn covers_a_send_of(
        &self,
        email: &ClaimedEmail,
        services: &Services,
    ) -> Result<bool, StoreError> {
        let mut held = self.held.lock().await;
        let now = services.clock.now();
        if now.plus(SEND_WINDOW) > held.until {
            let until = now.plus(LEASE);
            let ids = services
                .store
                .renew_email_leases(&self.claim, until)
                .await?;
            *held = Held {
                until,
                ids: Some(ids.into_iter().collect()),
            };
        }
        Ok(held.ids.as_ref().is_none_or(|ids| ids.contains(&email.id)))
    }
}

/// 30 s, 60 s, 2 min, ... up to an hour, each stretched or shrunk by up to a fifth at random so
/// that many failed messages do not all come back at once.
pub fn retry_delay(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    let base = FIRST_RETRY_DELAY
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_RETRY_DELAY);
    let mut random = [0u8; 2];
    let _ = getrandom::fill(&mut random);
    let jitter = 0.8 + 0.4 * f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX);
    base.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_and_are_capped_with_jitter() {
        for (attempts, base) in [(1, 30.0), (2, 60.0), (3, 120.0), (10, 3600.0), (40, 3600.0)] {
            let delay = retry_delay(attempts).as_secs_f64();
            assert!(
                delay >= base * 0.8 - 0.001 && delay <= base * 1.2 + 0.001,
                "{attempts}: {delay}"
            );
        }
    }
}
