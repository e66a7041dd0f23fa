//! Import Users: the job, its rows, and the set-based invitation of a chunk of rows (one
//! transaction for a few hundred users: the users, invitations, emails, audit events, the rows'
//! outcomes and the job's counts together). See migration 0013 for the shapes.

use super::LockOrganization;
use super::user_admin::invitation_allowance;
use super::{
    DatabaseKind, InvitationCaps, SealedEmail, Store, StoreError, in_transaction, new_id, on_pool,
    on_writer,
};
use crate::tenancy::OrganizationScope;
use onestop_domain::{
    AuditAction, EmailAddress, FirstName, LastName, OrganizationId, ProfileId, RoleId, Timestamp,
    TokenHash,
};
use std::collections::{HashMap, HashSet};

/// Rows a multi-row statement writes at most: the widest (users) binds 11 values a row, far
/// under SQLite's and PostgreSQL's limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 500;

/// A job as its pages show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportJob {
    pub id: String,
    pub state: String,
    pub skipped_rows: i64,
    pub total_rows: i64,
    pub invited_rows: i64,
    pub failed_rows: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl ImportJob {
    /// Still to be confirmed (the file is mapped and previewed).
    pub fn is_uploaded(&self) -> bool {
        self.state == "uploaded"
    }

    pub fn is_done(&self) -> bool {
        self.state == "done"
    }

    /// Rows imported so far, whatever their outcome.
    pub fn processed_rows(&self) -> i64 {
        self.invited_rows + self.failed_rows
    }
}

/// A row of the file as the preview left it: to import (`profile_id` and `role_id` set), or
/// skipped with its errors.
#[derive(Debug, Clone)]
pub struct NewImportRow<'a> {
    pub row_number: i64,
    pub email: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: &'a str,
    /// `Some` for a row to import.
    pub target: Option<(&'a ProfileId, &'a RoleId)>,
    /// Why a skipped row is skipped.
    pub message: &'a str,
}

/// A job a runner holds under `claim` until `lease_until`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedImport {
    pub id: String,
    pub org_id: OrganizationId,
    pub created_by: Option<String>,
    pub claim: String,
    pub ip: Option<String>,
    pub emails_from: Option<i64>,
    pub first_hour_emails: i64,
    pub hourly_emails: i64,
}

/// A row waiting to be invited.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingImportRow {
    pub row_number: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub profile_id: Option<ProfileId>,
    pub role_id: Option<RoleId>,
    pub ordinal: Option<i64>,
}

/// One row's invitation, ready to write: its email rendered and sealed, due when the caps allow.
pub struct ImportInvitation<'a> {
    pub row_number: i64,
    pub first_name: &'a FirstName,
    pub last_name: &'a LastName,
    pub email: &'a EmailAddress,
    pub profile_id: &'a ProfileId,
    pub role_id: &'a RoleId,
    pub token_hash: TokenHash,
    /// When the email may go out; the invitation counts for the hourly caps from then.
    pub due_at: Timestamp,
    pub expires_at: Timestamp,
    pub message: SealedEmail,
}

/// What a chunk came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkOutcome {
    pub invited: usize,
    pub failed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportChunkError {
    /// Another runner holds the job now (this one's lease ran out): nothing was written.
    #[error("the import's lease was lost")]
    LeaseLost,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportChunkError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

/// One row of the result file.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRowResult {
    pub row_number: i64,
    pub email: String,
    pub outcome: String,
    pub message: String,
}

/// The names an imported user's invitation email is written with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportLetterNames {
    pub company_name: String,
    pub account_name: String,
    pub time_zone: String,
    pub inviter_first_name: Option<String>,
    pub inviter_last_name: Option<String>,
}

/// Claims the oldest job that is queued, or running under a lease that ran out: `$1` the claim,
/// `$2` the end of the lease, `$3` now, `$4` a job id to claim only that one (or NULL).
fn claim_import_sql(kind: DatabaseKind) -> String {
    let locking = match kind {
        DatabaseKind::Postgres => " FOR UPDATE SKIP LOCKED",
        DatabaseKind::Sqlite => "",
    };
    format!(
        "UPDATE user_imports SET state = 'running', claim = $1, lease_until = $2, \
                started_at = COALESCE(started_at, $3) \
          WHERE id = (SELECT id FROM user_imports \
                       WHERE state IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < $3) \
                         AND ($4 IS NULL OR id = $4) \
                       ORDER BY created_at LIMIT 1{locking}) \
            AND state IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < $3) \
         RETURNING id, org_id, created_by, claim, ip, emails_from, first_hour_emails, hourly_emails"
    )
}

impl Store {
    /// Keeps an uploaded file as a job to map and preview; yields its id.
    pub async fn create_import_draft(
        &self,
        scope: &OrganizationScope,
        created_by: Option<&str>,
        file_text: &str,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        let id = new_id();
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO user_imports (id, org_id, created_by, state, file_text, created_at) \
                 VALUES ($1, $2, $3, 'uploaded', $4, $5)",
            )
            .bind(&id)
            .bind(scope.id())
            .bind(created_by)
            .bind(file_text)
            .bind(now.unix_millis())
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(id)
    }

    /// Deletes uploaded files never confirmed, kept since before `before`; returns how many.
    pub async fn purge_abandoned_imports(&self, before: Timestamp) -> Result<u64, StoreError> {
        let purged = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM user_imports WHERE state = 'uploaded' AND created_at < $1")
                .bind(before.unix_millis())
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(purged)
    }

    /// A job of the organization; another organization's is `None`, like an unknown one.
    pub async fn import_job(
        &self,
        scope: &OrganizationScope,
        import_id: &str,
    ) -> Result<Option<ImportJob>, StoreError> {
        let job = on_pool!(self, |pool| {
            sqlx::query_as::<_, ImportJob>(
                "SELECT id, state, skipped_rows, total_rows, invited_rows, failed_rows, created_at, \
                        started_at, finished_at \
                   FROM user_imports WHERE id = $1 AND org_id = $2",
            )
            .bind(import_id)
            .bind(scope.id())
            .fetch_optional(pool)
            .await
        })?;
        Ok(job)
    }

    /// The organization's newest imports that were confirmed, newest first (the upload page
    /// links them, so an administrator finds a running import again).
    pub async fn recent_imports(
        &self,
        scope: &OrganizationScope,
        limit: i64,
    ) -> Result<Vec<ImportJob>, StoreError> {
        let jobs = on_pool!(self, |pool| {
            sqlx::query_as::<_, ImportJob>(
                "SELECT id, state, skipped_rows, total_rows, invited_rows, failed_rows, created_at, \
                        started_at, finished_at \
                   FROM user_imports WHERE org_id = $1 AND state <> 'uploaded' \
                  ORDER BY created_at DESC LIMIT $2",
            )
            .bind(scope.id())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(jobs)
    }

    /// The uploaded file of a job still to be confirmed.
    pub async fn import_file(
        &self,
        scope: &OrganizationScope,
        import_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let text = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT file_text FROM user_imports WHERE id = $1 AND org_id = $2 AND state = 'uploaded'",
            )
            .bind(import_id)
            .bind(scope.id())
            .fetch_optional(pool)
            .await
        })?;
        Ok(text)
    }

    /// Which of these normalized addresses belong to a user already (any organization's: an
    /// address is one account).
    pub async fn taken_emails(&self, normalized: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut taken = HashSet::new();
        for chunk in normalized.chunks(ROWS_PER_STATEMENT) {
            let found: Vec<String> = on_pool!(self, |pool| {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT email_normalized FROM users WHERE email_normalized IN (",
                );
                let mut list = query.separated(", ");
                for email in chunk {
                    list.push_bind(*email);
                }
                query.push(")");
                query.build_query_scalar().fetch_all(pool).await
            })?;
            taken.extend(found);
        }
        Ok(taken)
    }

    /// Confirms a job: writes its rows, fixes its emails' schedule within the hourly caps, and
    /// queues it. `false` when the job is not waiting for confirmation any more (a second click
    /// of Import, or another administrator's): then nothing is written.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_import(
        &self,
        scope: &OrganizationScope,
        import_id: &str,
        started_by: Option<&str>,
        rows: &[NewImportRow<'_>],
        caps: &InvitationCaps<'_>,
        ip: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let to_import = rows.iter().filter(|row| row.target.is_some()).count();
        let skipped = rows.len() - to_import;
        in_transaction!(self, |transaction| {
            transaction.lock_organization(scope.id()).await?;
            let (allowance, _) = invitation_allowance!(transaction, scope.id(), caps);
            let hourly = caps.per_sender.min(caps.per_organization).max(1);
            let started = sqlx::query(
                "UPDATE user_imports SET state = 'queued', file_text = '', created_by = $3, ip = $4, \
                        skipped_rows = $5, total_rows = $6, emails_from = $7, first_hour_emails = $8, \
                        hourly_emails = $9 \
                  WHERE id = $1 AND org_id = $2 AND state = 'uploaded'",
            )
            .bind(import_id)
            .bind(scope.id())
            .bind(started_by)
            .bind(ip)
            .bind(i64::try_from(skipped).unwrap_or(i64::MAX))
            .bind(i64::try_from(to_import).unwrap_or(i64::MAX))
            .bind(now.unix_millis())
            .bind(allowance)
            .bind(hourly)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if started != 1 {
                return Ok(false);
            }
            let mut ordinal = 0i64;
            let ordinals: Vec<Option<i64>> = rows
                .iter()
                .map(|row| {
                    row.target.map(|_| {
                        ordinal += 1;
                        ordinal - 1
                    })
                })
                .collect();
            let numbered: Vec<_> = rows.iter().zip(ordinals).collect();
            for chunk in numbered.chunks(ROWS_PER_STATEMENT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO user_import_rows (import_id, row_number, email, first_name, last_name, \
                     profile_id, role_id, ordinal, outcome, message) ",
                );
                insert.push_values(chunk, |mut values, (row, ordinal)| {
                    values
                        .push_bind(import_id)
                        .push_bind(row.row_number)
                        .push_bind(row.email)
                        .push_bind(row.first_name)
                        .push_bind(row.last_name)
                        .push_bind(row.target.map(|(profile, _)| profile.as_str()))
                        .push_bind(row.target.map(|(_, role)| role.as_str()))
                        .push_bind(*ordinal)
                        .push_bind(if row.target.is_some() {
                            "pending"
                        } else {
                            "skipped"
                        })
                        .push_bind(row.message);
                });
                insert.build().execute(&mut *transaction).await?;
            }
            Ok::<_, StoreError>(true)
        })
    }

    /// Leases the oldest job waiting for a runner (or only `only`), under a fresh claim.
    pub async fn claim_import(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        only: Option<&str>,
    ) -> Result<Option<ClaimedImport>, StoreError> {
        let sql = sqlx::AssertSqlSafe(claim_import_sql(self.kind()));
        let claim = new_id();
        in_transaction!(self, |transaction| {
            let claimed = sqlx::query_as::<_, ClaimedImport>(sql)
                .bind(&claim)
                .bind(lease_until.unix_millis())
                .bind(now.unix_millis())
                .bind(only)
                .fetch_optional(&mut *transaction)
                .await?;
            Ok::<_, StoreError>(claimed)
        })
    }

    /// The next `limit` rows of a job still to invite, in file order.
    pub async fn pending_import_rows(
        &self,
        import_id: &str,
        limit: i64,
    ) -> Result<Vec<PendingImportRow>, StoreError> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, PendingImportRow>(
                "SELECT row_number, email, first_name, last_name, profile_id, role_id, ordinal \
                   FROM user_import_rows WHERE import_id = $1 AND outcome = 'pending' \
                  ORDER BY row_number LIMIT $2",
            )
            .bind(import_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// The company's names and the inviter's, for the invitation emails of an import.
    pub async fn import_letter_names(
        &self,
        claimed: &ClaimedImport,
    ) -> Result<ImportLetterNames, StoreError> {
        let names = on_pool!(self, |pool| {
            sqlx::query_as::<_, ImportLetterNames>(
                "SELECT o.company_name, o.account_name, o.time_zone, \
                        u.first_name AS inviter_first_name, u.last_name AS inviter_last_name \
                   FROM organizations o LEFT JOIN users u ON u.id = $2 AND u.org_id = o.id \
                  WHERE o.id = $1",
            )
            .bind(&claimed.org_id)
            .bind(claimed.created_by.as_deref())
            .fetch_one(pool)
            .await
        })?;
        Ok(names)
    }

    /// Invites a chunk of a job's rows in one transaction: users (Unconfirmed), invitations,
    /// emails (due at each row's time), the audit events, the rows' outcomes and the job's counts.
    /// A row whose address was taken since the preview, or whose profile or role was deleted,
    /// fails with that message; `failed` are rows the caller already found wanting. Fenced by the
    /// claim: a runner whose lease ran out writes nothing.
    pub async fn import_chunk(
        &self,
        claimed: &ClaimedImport,
        invitations: &[ImportInvitation<'_>],
        failed: &[(i64, String)],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<ChunkOutcome, ImportChunkError> {
        let org_id = &claimed.org_id;
        in_transaction!(self, |transaction| {
            transaction.lock_organization(org_id).await?;
            let held = sqlx::query(
                "UPDATE user_imports SET lease_until = $3 WHERE id = $1 AND claim = $2 AND state = 'running'",
            )
            .bind(&claimed.id)
            .bind(&claimed.claim)
            .bind(lease_until.unix_millis())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if held != 1 {
                return Err(ImportChunkError::LeaseLost);
            }
            let profiles: HashSet<String> =
                sqlx::query_scalar::<_, String>("SELECT id FROM profiles WHERE org_id = $1")
                    .bind(org_id)
                    .fetch_all(&mut *transaction)
                    .await?
                    .into_iter()
                    .collect();
            let roles: HashSet<String> =
                sqlx::query_scalar::<_, String>("SELECT id FROM roles WHERE org_id = $1")
                    .bind(org_id)
                    .fetch_all(&mut *transaction)
                    .await?
                    .into_iter()
                    .collect();
            let mut failures: Vec<(i64, String)> = failed.to_vec();
            let mut candidates: Vec<(&ImportInvitation<'_>, String)> = Vec::new();
            for invitation in invitations {
                if !profiles.contains(invitation.profile_id.as_str()) {
                    failures.push((
                        invitation.row_number,
                        "Its profile was deleted after the preview.".to_owned(),
                    ));
                } else if !roles.contains(invitation.role_id.as_str()) {
                    failures.push((
                        invitation.row_number,
                        "Its role was deleted after the preview.".to_owned(),
                    ));
                } else {
                    candidates.push((invitation, new_id()));
                }
            }
            let now_ms = now.unix_millis();
            // Users first; an address taken since the preview (by New User, another import,
            // another company) inserts nothing and is reported, rather than failing the chunk.
            let mut inserted: HashMap<String, String> = HashMap::new();
            for chunk in candidates.chunks(ROWS_PER_STATEMENT) {
                let mut users = sqlx::QueryBuilder::new(
                    "INSERT INTO users (id, org_id, first_name, last_name, email, email_normalized, profile_id, \
                     role_id, status, invited_by, created_at, name_search) ",
                );
                users.push_values(chunk, |mut values, (invitation, user_id)| {
                    values
                        .push_bind(user_id.as_str())
                        .push_bind(org_id)
                        .push_bind(invitation.first_name.as_option())
                        .push_bind(invitation.last_name.as_str())
                        .push_bind(invitation.email.as_str())
                        .push_bind(invitation.email.normalized())
                        .push_bind(invitation.profile_id)
                        .push_bind(invitation.role_id)
                        .push("'unconfirmed'")
                        .push_bind(claimed.created_by.as_deref())
                        .push_bind(now_ms)
                        .push_bind(onestop_domain::names::search_key(
                            invitation.first_name,
                            invitation.last_name,
                        ));
                });
                users.push(
                    " ON CONFLICT (email_normalized) DO NOTHING RETURNING id, email_normalized",
                );
                let rows: Vec<(String, String)> =
                    users.build_query_as().fetch_all(&mut *transaction).await?;
                inserted.extend(rows.into_iter().map(|(id, email)| (email, id)));
            }
            let mut created: Vec<(&ImportInvitation<'_>, &str, String)> = Vec::new();
            for (invitation, user_id) in &candidates {
                if inserted.get(invitation.email.normalized()) == Some(user_id) {
                    created.push((invitation, user_id.as_str(), new_id()));
                } else {
                    failures.push((
                        invitation.row_number,
                        crate::usecases::invite_user::EMAIL_TAKEN.to_owned(),
                    ));
                }
            }
            for chunk in created.chunks(ROWS_PER_STATEMENT) {
                let mut rows = sqlx::QueryBuilder::new(
                    "INSERT INTO invitations (id, org_id, user_id, token_hash, created_at, expires_at, sent_by) ",
                );
                rows.push_values(chunk, |mut values, (invitation, user_id, invitation_id)| {
                    values
                        .push_bind(invitation_id.as_str())
                        .push_bind(org_id)
                        .push_bind(*user_id)
                        .push_bind(invitation.token_hash.as_str())
                        .push_bind(invitation.due_at.unix_millis())
                        .push_bind(invitation.expires_at.unix_millis())
                        .push_bind(claimed.created_by.as_deref());
                });
                rows.build().execute(&mut *transaction).await?;

                let mut emails = sqlx::QueryBuilder::new(
                    "INSERT INTO outbox (id, org_id, kind, invitation_id, recipient, subject, body_text, \
                     body_html, action_url, state, attempts, next_attempt_at, created_at) ",
                );
                emails.push_values(chunk, |mut values, (invitation, _, invitation_id)| {
                    let email = &invitation.message;
                    values
                        .push_bind(new_id())
                        .push_bind(org_id)
                        .push_bind(email.kind)
                        .push_bind(invitation_id.as_str())
                        .push_bind(email.recipient.as_str())
                        .push_bind(email.subject.as_str())
                        .push_bind(email.body_text.as_str())
                        .push_bind(email.body_html.as_str())
                        .push_bind(email.action_url.as_deref())
                        .push("'queued', 0")
                        .push_bind(invitation.due_at.unix_millis())
                        .push_bind(now_ms);
                });
                emails.build().execute(&mut *transaction).await?;

                // The events New User's Save writes for each user: created, invitation queued.
                let mut events = sqlx::QueryBuilder::new(
                    "INSERT INTO audit_events (id, org_id, actor_user_id, action, target_user_id, details, ip, at) ",
                );
                let actions = [AuditAction::UserCreated, AuditAction::InvitationQueued];
                events.push_values(
                    chunk
                        .iter()
                        .flat_map(|(_, user_id, _)| actions.map(|action| (action, *user_id))),
                    |mut values, (action, user_id)| {
                        values
                            .push_bind(new_id())
                            .push_bind(org_id)
                            .push_bind(claimed.created_by.as_deref())
                            .push_bind(action.as_str())
                            .push_bind(user_id)
                            .push_bind(if action == AuditAction::InvitationQueued {
                                "by import"
                            } else {
                                ""
                            })
                            .push_bind(claimed.ip.as_deref())
                            .push_bind(now_ms);
                    },
                );
                events.build().execute(&mut *transaction).await?;

                let mut outcomes = sqlx::QueryBuilder::new(
                    "UPDATE user_import_rows SET outcome = 'invited' WHERE import_id = ",
                );
                outcomes.push_bind(&claimed.id).push(" AND row_number IN (");
                let mut list = outcomes.separated(", ");
                for (invitation, _, _) in chunk {
                    list.push_bind(invitation.row_number);
                }
                outcomes.push(")");
                outcomes.build().execute(&mut *transaction).await?;
            }
            for (row_number, message) in &failures {
                sqlx::query(
                    "UPDATE user_import_rows SET outcome = 'failed', message = $3 WHERE import_id = $1 AND row_number = $2",
                )
                .bind(&claimed.id)
                .bind(row_number)
                .bind(message)
                .execute(&mut *transaction)
                .await?;
            }
            let outcome = ChunkOutcome {
                invited: created.len(),
                failed: failures.len(),
            };
            sqlx::query(
                "UPDATE user_imports SET invited_rows = invited_rows + $2, failed_rows = failed_rows + $3 WHERE id = $1",
            )
            .bind(&claimed.id)
            .bind(i64::try_from(outcome.invited).unwrap_or(i64::MAX))
            .bind(i64::try_from(outcome.failed).unwrap_or(i64::MAX))
            .execute(&mut *transaction)
            .await?;
            Ok(outcome)
        })
    }

    /// Ends a job whose rows are all done, with its `users_imported` event; `false` when the
    /// claim was lost (another runner ends it).
    pub async fn finish_import(
        &self,
        claimed: &ClaimedImport,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |transaction| {
            let counts: Option<(i64, i64, i64)> = sqlx::query_as(
                "UPDATE user_imports SET state = 'done', finished_at = $3, claim = NULL, lease_until = NULL \
                  WHERE id = $1 AND claim = $2 AND state = 'running' \
                  RETURNING invited_rows, failed_rows, skipped_rows",
            )
            .bind(&claimed.id)
            .bind(&claimed.claim)
            .bind(now.unix_millis())
            .fetch_optional(&mut *transaction)
            .await?;
            let Some((invited, failed, skipped)) = counts else {
                return Ok(false);
            };
            let details = format!(
                "{invited} invited, {failed} failed, {skipped} skipped for errors in the preview"
            );
            super::audit::insert_audit_event!(
                &mut *transaction,
                &super::AuditEvent {
                    org_id: &claimed.org_id,
                    actor_user_id: claimed.created_by.as_deref(),
                    action: AuditAction::UsersImported,
                    target_user_id: None,
                    details: &details,
                    ip: claimed.ip.as_deref(),
                    at: now,
                }
            )?;
            Ok::<_, StoreError>(true)
        })
    }

    /// Every row of a job with its outcome, in file order (the result file).
    pub async fn import_results(
        &self,
        scope: &OrganizationScope,
        import_id: &str,
    ) -> Result<Vec<ImportRowResult>, StoreError> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, ImportRowResult>(
                "SELECT r.row_number, r.email, r.outcome, r.message FROM user_import_rows r \
                   JOIN user_imports i ON i.id = r.import_id \
                  WHERE r.import_id = $1 AND i.org_id = $2 ORDER BY r.row_number",
            )
            .bind(import_id)
            .bind(scope.id())
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }
}
