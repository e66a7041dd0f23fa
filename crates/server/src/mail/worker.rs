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

/// How long a claimed message is reserved for one worker before another may take it over.
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
        loop {
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
        let outcome = match build_message(
            &self.from,
            &email.recipient,
            &email.subject,
            email.body_text.clone(),
            email.body_html.clone(),
        ) {
            Ok(message) => self.mailer.send(message).await,
            Err(failure) => Err(failure),
        };
        let now = self.services.clock.now();
        match outcome {
            Ok(answer) => {
                self.services.mail_health.healthy();
                store.mark_email_sent(&email.id, now).await?;
                if self.mailer.writes_files()
                    && let Some(link) = &email.action_url
                {
                    tracing::info!(recipient = %email.recipient, file = %answer, join_now = %link, "email written; no SMTP server is configured, so here is its link");
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
                    .mark_email_blocked(&email.id, &failure.reason, next_attempt_at)
                    .await
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
                store.mark_email_failed(&email.id, &reason).await?;
                self.audit(email, AuditAction::InvitationFailed, &reason)
                    .await
            }
            Err(failure) => {
                let next_attempt_at = now.plus(retry_delay(email.attempts));
                tracing::info!(recipient = %email.recipient, reason = %failure.reason, retry_at = %next_attempt_at, "email will be retried");
                store
                    .mark_email_retrying(&email.id, &failure.reason, next_attempt_at)
                    .await
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
