//! The outbox worker: claims due messages with a lease, sends them, and records the outcome.
//! Transient failures are retried with exponential backoff and jitter; permanent ones (5xx, or
//! too many attempts) are marked failed with the reason.

use super::transport::{Mailer, build_message};
use crate::store::{AuditEvent, ClaimedEmail, StoreError};
use crate::usecases::Services;
use lettre::message::Mailbox;
use onestop_domain::AuditAction;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long a claimed message is reserved for one worker before another may take it over. Each
/// message's lease is renewed just before it is sent, and one send is bounded by
/// [`super::transport::SMTP_TIMEOUT`] (30 s), well inside it.
const LEASE: Duration = Duration::from_secs(120);
/// How many messages one pass claims.
const BATCH: i64 = 50;
/// The first retry waits this long; each next one twice as long, up to `MAX_RETRY_DELAY`.
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(30);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);
/// After this many attempts a message is given up on.
pub const MAX_ATTEMPTS: i64 = 10;
/// How often an idle worker looks for due messages (it is also woken when one is queued).
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How often the worker also deletes throttle counters whose window has ended.
const PURGE_INTERVAL: Duration = Duration::from_secs(10 * 60);

#[derive(Clone, Debug)]
pub struct OutboxWorker {
    services: Services,
    mailer: Arc<Mailer>,
    from: Mailbox,
}

impl OutboxWorker {
    pub fn new(services: Services, mailer: Arc<Mailer>, from: Mailbox) -> Self {
        Self {
            services,
            mailer,
            from,
        }
    }

    /// Runs until `shutdown` turns true; a message being sent then is finished first.
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
            .claim_due_emails(now, LEASE, BATCH)
            .await?;
        for email in &claimed {
            self.deliver(email).await?;
        }
        Ok(claimed.len())
    }

    async fn deliver(&self, email: &ClaimedEmail) -> Result<(), StoreError> {
        let store = &self.services.store;
        let renewed_until = self.services.clock.now().plus(LEASE);
        if !store.renew_email_lease(email, renewed_until).await? {
            tracing::info!(recipient = %email.recipient, "another worker took this email over");
            return Ok(());
        }
        let opened = match email.open(&self.services.sealer) {
            Ok(opened) => opened,
            Err(error) => {
                // Not the message's fault either: keep it until the right key is configured.
                tracing::error!(%error, "an outbox message does not open with this key");
                let next_attempt_at = self.services.clock.now().plus(retry_delay(4));
                store
                    .mark_email_blocked(email, &error.to_string(), next_attempt_at)
                    .await?;
                return Ok(());
            }
        };
        let outcome = match build_message(
            &self.from,
            &email.recipient,
            &email.subject,
            opened.body_text,
            opened.body_html,
        ) {
            Ok(message) => self.mailer.send(message).await,
            Err(failure) => Err(failure),
        };
        let now = self.services.clock.now();
        match outcome {
            Ok(answer) => {
                self.services.mail_health.healthy();
                if !store.mark_email_sent(email, now).await? {
                    tracing::warn!(recipient = %email.recipient, "email sent after its lease ran out; another worker owns it now");
                    return Ok(());
                }
                if self.mailer.writes_files() {
                    // The file, never its link: the log stream may be shipped elsewhere, and a
                    // link is a key to an account.
                    tracing::info!(recipient = %email.recipient, file = %answer, "email written; no SMTP server is configured, so open the file for its link");
                } else {
                    tracing::info!(recipient = %email.recipient, answer = %answer, "email sent");
                }
                self.audit(email, AuditAction::InvitationDelivered, "")
                    .await
            }
            Err(failure) if failure.configuration => {
                // Our fault, not the message's: keep it queued, however many attempts it takes.
                self.services.mail_health.degraded(&failure.reason);
                tracing::error!(reason = %failure.reason, "email is stuck until the SMTP configuration is fixed");
                let next_attempt_at = now.plus(retry_delay(4));
                store
                    .mark_email_blocked(email, &failure.reason, next_attempt_at)
                    .await
                    .map(drop)
            }
            Err(failure) if failure.permanent || email.attempts >= MAX_ATTEMPTS => {
                let reason = if failure.permanent {
                    failure.reason
                } else {
                    format!(
                        "gave up after {} attempts: {}",
                        email.attempts, failure.reason
                    )
                };
                tracing::warn!(recipient = %email.recipient, %reason, "email could not be delivered");
                if store.mark_email_failed(email, &reason).await? {
                    self.audit(email, AuditAction::InvitationFailed, &reason)
                        .await?;
                }
                Ok(())
            }
            Err(failure) => {
                let next_attempt_at = now.plus(retry_delay(email.attempts));
                tracing::info!(recipient = %email.recipient, reason = %failure.reason, retry_at = %next_attempt_at, "email will be retried");
                store
                    .mark_email_retrying(email, &failure.reason, next_attempt_at)
                    .await
                    .map(drop)
            }
        }
    }

    async fn audit(
        &self,
        email: &ClaimedEmail,
        action: AuditAction,
        details: &str,
    ) -> Result<(), StoreError> {
        let (Some(org_id), Some(_)) = (&email.org_id, &email.invitation_id) else {
            return Ok(());
        };
        self.services
            .store
            .record_audit_event(&AuditEvent {
                org_id,
                actor_user_id: None,
                action,
                target_user_id: None,
                details,
                ip: None,
                at: self.services.clock.now(),
            })
            .await
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
