//! The import runner: claims a queued job with a lease (so two instances never run one job),
//! invites its rows a chunk at a time, and ends it with its `users_imported` event. `serve`
//! starts one; the command line drives one for its own job. A runner that stops (a restart, a
//! crash) leaves its job `running` under a lease that runs out; the next runner then claims it
//! and carries on from the rows still pending. Each chunk commits with the rows' outcomes, so
//! no row is invited twice.

use crate::store::{
    ClaimedImport, ImportChunkError, ImportInvitation, ImportLetterNames, PendingImportRow,
    StoreError,
};
use crate::tenancy::OrganizationScope;
use crate::usecases::Services;
use crate::usecases::invite_user::{InvitationLetter, invitation_lifetime, join_url};
use onestop_domain::{EmailAddress, FirstName, LastName, SecretToken, TimeZoneName, Timestamp};
use std::time::Duration;
use tokio::sync::watch;

/// Rows invited in one transaction.
pub const CHUNK_ROWS: i64 = 500;
/// How long a claim holds a job between chunks (a chunk takes well under a second).
pub const LEASE: Duration = Duration::from_secs(60);
/// How often an idle runner looks for queued jobs (it is also woken when one is queued).
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// An uploaded file not confirmed within this long is deleted (it may hold 10 MB of personal
/// data nobody is going to import).
pub const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// How often the runner looks for abandoned uploads.
const PURGE_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// The caps' window, and a minute more: the counts are kept per whole minute.
const EMAIL_HOUR: Duration = Duration::from_secs(61 * 60);

/// What one [`ImportRunner::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Invited a chunk of the job's rows.
    Chunk {
        import_id: String,
        invited: usize,
        failed: usize,
    },
    /// Ended the job: every row has its outcome.
    Finished { import_id: String },
    /// Another runner took the job over (this one's lease ran out); nothing was written.
    LeaseLost { import_id: String },
    /// No job to run.
    Idle,
}

/// The job a runner holds, with what its emails need.
struct Held {
    job: ClaimedImport,
    names: ImportLetterNames,
    lifetime: Duration,
}

pub struct ImportRunner {
    services: Services,
    held: Option<Held>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not render or seal an invitation email: {0}")]
    Email(String),
}

impl ImportRunner {
    pub fn new(services: Services) -> Self {
        Self {
            services,
            held: None,
        }
    }

    /// Runs jobs until `shutdown` turns true; the chunk in progress is finished first (an
    /// unfinished job is resumed by the next runner once its lease runs out).
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!("import runner started");
        let mut purged_at: Option<tokio::time::Instant> = None;
        loop {
            if purged_at.is_none_or(|at| at.elapsed() >= PURGE_INTERVAL) {
                purged_at = Some(tokio::time::Instant::now());
                self.purge_abandoned().await;
            }
            match self.step(None).await {
                Ok(Step::Idle) => {}
                Ok(Step::Finished { import_id }) => {
                    tracing::info!(%import_id, "import finished");
                    continue;
                }
                Ok(_) => {
                    if *shutdown.borrow() {
                        break;
                    }
                    continue;
                }
                Err(error) => {
                    self.held = None;
                    tracing::error!(error = format!("{error:#}"), "import step failed");
                }
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                () = self.services.import_signal.notified() => {}
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!("import runner stopped");
    }

    /// Deletes uploads never confirmed within [`ABANDONED_AFTER`].
    pub async fn purge_abandoned(&self) {
        let before = self.services.clock.now().minus(ABANDONED_AFTER);
        match self.services.store.purge_abandoned_imports(before).await {
            Ok(purged) if purged > 0 => tracing::info!(purged, "abandoned import uploads deleted"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not delete abandoned import uploads"),
        }
    }

    /// One step: claims a job if this runner holds none (any, or only `only`), then invites its
    /// next chunk of rows, or ends it when none is left.
    pub async fn step(&mut self, only: Option<&str>) -> Result<Step, RunError> {
        let now = self.services.clock.now();
        let held = match self.held.take() {
            Some(held) => held,
            None => {
                let Some(job) = self
                    .services
                    .store
                    .claim_import(now, now.plus(LEASE), only)
                    .await?
                else {
                    return Ok(Step::Idle);
                };
                let names = self.services.store.import_letter_names(&job).await?;
                let scope = OrganizationScope::operator(job.org_id.clone());
                let lifetime = invitation_lifetime(&self.services, &scope).await?;
                Held {
                    job,
                    names,
                    lifetime,
                }
            }
        };
        let import_id = held.job.id.clone();
        let pending = self
            .services
            .store
            .pending_import_rows(&held.job.id, CHUNK_ROWS)
            .await?;
        if pending.is_empty() {
            return Ok(
                if self.services.store.finish_import(&held.job, now).await? {
                    Step::Finished { import_id }
                } else {
                    Step::LeaseLost { import_id }
                },
            );
        }
        let step = self.invite_chunk(&held, &pending, now).await?;
        if matches!(step, Step::Chunk { .. }) {
            self.held = Some(held);
        }
        Ok(step)
    }

    async fn invite_chunk(
        &self,
        held: &Held,
        pending: &[PendingImportRow],
        now: Timestamp,
    ) -> Result<Step, RunError> {
        struct Parsed<'a> {
            row: &'a PendingImportRow,
            first_name: FirstName,
            last_name: LastName,
            email: EmailAddress,
        }
        let mut failed = Vec::new();
        let mut parsed = Vec::with_capacity(pending.len());
        for row in pending {
            // Checked by the preview; read again because the rows are data at rest.
            match (
                FirstName::parse(row.first_name.as_deref().unwrap_or_default()),
                LastName::parse(&row.last_name),
                EmailAddress::parse(&row.email),
            ) {
                (Ok(first_name), Ok(last_name), Ok(email)) => parsed.push(Parsed {
                    row,
                    first_name,
                    last_name,
                    email,
                }),
                _ => failed.push((
                    row.row_number,
                    "The row could not be read again.".to_owned(),
                )),
            }
        }
        let time_zone =
            TimeZoneName::from_stored(Some(&held.names.time_zone), &TimeZoneName::utc());
        let inviter_name = held.names.inviter_last_name.as_ref().map(|last| {
            match &held.names.inviter_first_name {
                Some(first) => format!("{first} {last}"),
                None => last.clone(),
            }
        });
        let letter = InvitationLetter {
            company_name: &held.names.company_name,
            account_name: &held.names.account_name,
            inviter_name,
            time_zone: &time_zone,
            personal_message: None,
        };
        let mut invitations = Vec::with_capacity(parsed.len());
        for entry in &parsed {
            let (Some(profile_id), Some(role_id)) = (&entry.row.profile_id, &entry.row.role_id)
            else {
                failed.push((
                    entry.row.row_number,
                    "The row has no profile or role.".to_owned(),
                ));
                continue;
            };
            let due_at = email_due_at(&held.job, entry.row.ordinal.unwrap_or(0), now);
            let expires_at = due_at.plus(held.lifetime);
            let token = SecretToken::generate();
            let message = letter
                .email(
                    entry.first_name.as_option(),
                    join_url(&self.services, &token),
                    expires_at,
                )
                .render(entry.email.as_str())
                .map_err(|error| RunError::Email(error.to_string()))?;
            let message = self
                .services
                .seal(message)
                .map_err(|error| RunError::Email(error.to_string()))?;
            invitations.push(ImportInvitation {
                row_number: entry.row.row_number,
                first_name: &entry.first_name,
                last_name: &entry.last_name,
                email: &entry.email,
                profile_id,
                role_id,
                token_hash: token.hash(),
                due_at,
                expires_at,
                message,
            });
        }
        let import_id = held.job.id.clone();
        match self
            .services
            .store
            .import_chunk(&held.job, &invitations, &failed, now, now.plus(LEASE))
            .await
        {
            Ok(outcome) => {
                self.services.outbox_signal.notify_one();
                Ok(Step::Chunk {
                    import_id,
                    invited: outcome.invited,
                    failed: outcome.failed,
                })
            }
            Err(ImportChunkError::LeaseLost) => Ok(Step::LeaseLost { import_id }),
            Err(ImportChunkError::Store(error)) => Err(error.into()),
        }
    }
}

/// When the email of the row at `ordinal` may go out: the first `first_hour_emails` at once,
/// then `hourly_emails` in each following hour, so the outbox sends them within the caps. Never
/// before `now` (a job resumed late sends what is overdue at once).
pub fn email_due_at(job: &ClaimedImport, ordinal: i64, now: Timestamp) -> Timestamp {
    let start = Timestamp::from_unix_millis(job.emails_from.unwrap_or(now.unix_millis()));
    let due = if ordinal < job.first_hour_emails {
        start
    } else {
        let hours = 1 + (ordinal - job.first_hour_emails) / job.hourly_emails.max(1);
        start.plus(EMAIL_HOUR * u32::try_from(hours).unwrap_or(u32::MAX))
    };
    if due < now { now } else { due }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(first_hour_emails: i64, hourly_emails: i64) -> ClaimedImport {
        ClaimedImport {
            id: String::new(),
            org_id: onestop_domain::OrganizationId::from_trusted(String::new()),
            created_by: None,
            claim: String::new(),
            ip: None,
            emails_from: Some(1_000_000),
            first_hour_emails,
            hourly_emails,
        }
    }

    #[test]
    fn emails_beyond_the_cap_are_due_in_the_following_hours() {
        let now = Timestamp::from_unix_millis(1_000_000);
        let job = job(3, 5);
        let hour = EMAIL_HOUR.as_millis() as i64;
        let due: Vec<i64> = (0..14)
            .map(|ordinal| email_due_at(&job, ordinal, now).unix_millis() - 1_000_000)
            .collect();
        assert_eq!(
            due,
            [
                0,
                0,
                0,
                hour,
                hour,
                hour,
                hour,
                hour,
                2 * hour,
                2 * hour,
                2 * hour,
                2 * hour,
                2 * hour,
                3 * hour
            ]
        );
    }

    #[test]
    fn a_job_resumed_late_sends_what_is_overdue_at_once() {
        let later = Timestamp::from_unix_millis(1_000_000 + 10 * EMAIL_HOUR.as_millis() as i64);
        assert_eq!(email_due_at(&job(0, 1), 2, later), later);
    }
}
