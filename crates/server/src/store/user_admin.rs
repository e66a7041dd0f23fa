//! Administering users: reinvite, delete, deactivate and activate, edit, and company details.
//! Each method is one transaction; every change writes its audit event inside it.

use super::LockOrganization;
use super::audit::insert_audit_event;
use super::{
    AuditEvent, SealedEmail, Store, StoreError, classify, in_transaction, new_id, on_pool,
    on_writer,
};
use crate::tenancy::OrganizationScope;
use onestop_domain::{
    AccountName, AuditAction, CompanyName, EmailAddress, FirstName, LastName, Timestamp, TokenHash,
    UserId, UserStatus,
};
use onestop_domain::{ProfileId, RoleId, TimeZoneName};

/// A selected user, as the bulk actions need to see them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BulkTarget {
    pub id: UserId,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub status: String,
    pub profile_id: ProfileId,
    pub role_id: RoleId,
    /// 1 when the user has the Administrator profile.
    pub is_administrator: i64,
    /// 1 when the user has ever chosen a password (joined).
    pub has_password: i64,
    /// When their newest invitation was created.
    pub last_invited_at: Option<i64>,
}

impl BulkTarget {
    pub fn full_name(&self) -> String {
        match &self.first_name {
            Some(first) => format!("{first} {}", self.last_name),
            None => self.last_name.clone(),
        }
    }

    pub fn status(&self) -> Result<UserStatus, StoreError> {
        self.status
            .parse()
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }
}

/// A fresh invitation for an existing user.
#[derive(Debug, Clone)]
pub struct Reinvitation {
    pub user_id: UserId,
    pub token_hash: TokenHash,
    pub expires_at: Timestamp,
    pub message: SealedEmail,
}

/// Who did it, from where, when.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub scope: &'a OrganizationScope,
    pub user_id: &'a str,
    pub ip: Option<&'a str>,
    pub now: Timestamp,
}

impl<'a> Actor<'a> {
    pub(crate) fn event(
        &self,
        action: AuditAction,
        target: &'a str,
        details: &'a str,
    ) -> AuditEvent<'a> {
        AuditEvent {
            org_id: self.scope.id(),
            actor_user_id: Some(self.user_id),
            action,
            target_user_id: Some(target),
            details,
            ip: self.ip,
            at: self.now,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserAdminError {
    /// The change would leave the organization without an active administrator.
    #[error("the last active administrator must stay")]
    LastAdministrator,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for UserAdminError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(classify(error, &["email_normalized"]))
    }
}

const COUNT_ACTIVE_ADMINISTRATORS: &str = "SELECT COUNT(*) FROM users u JOIN profiles p ON p.id = u.profile_id \
     WHERE u.org_id = $1 AND u.status = 'active' AND p.builtin = 'administrator'";

/// Users a bulk statement names at most: each row of the INSERTs below binds up to 10 values, so
/// a statement stays well under SQLite's and PostgreSQL's limits on bound parameters.
const USERS_PER_STATEMENT: usize = 400;

/// Appends `(id, id, ...)` with each id bound.
macro_rules! push_id_list {
    ($builder:expr, $ids:expr) => {{
        $builder.push("(");
        let mut list = $builder.separated(", ");
        for id in $ids {
            list.push_bind(id.as_str());
        }
        $builder.push(")");
    }};
}

/// Records `$action` against each of `$user_ids` (at most [`USERS_PER_STATEMENT`]) in one
/// statement, with `$details`.
macro_rules! insert_audit_events {
    ($transaction:expr, $actor:expr, $action:expr, $user_ids:expr, $details:expr) => {{
        let actor: &Actor<'_> = $actor;
        let action: AuditAction = $action;
        let details: &str = $details;
        let mut events = sqlx::QueryBuilder::new(
            "INSERT INTO audit_events (id, org_id, actor_user_id, action, target_user_id, details, ip, at) ",
        );
        events.push_values($user_ids, |mut row, user_id| {
            row.push_bind(new_id())
                .push_bind(actor.scope.id())
                .push_bind(actor.user_id)
                .push_bind(action.as_str())
                .push_bind(user_id.as_str())
                .push_bind(details)
                .push_bind(actor.ip)
                .push_bind(actor.now.unix_millis());
        });
        events.build().execute(&mut *$transaction).await?;
    }};
}

/// Runs `$prefix (id, ...)$suffix` for `$user_ids`, the ids bound, on `$transaction`.
macro_rules! execute_for_users {
    ($transaction:expr, $prefix:expr, $user_ids:expr, $suffix:expr) => {{
        let mut statement = sqlx::QueryBuilder::new($prefix);
        push_id_list!(statement, $user_ids);
        statement.push($suffix);
        statement.build().execute(&mut *$transaction).await?;
    }};
}

/// Withdraws the emails not yet handed to the mail server for the invitations of `$user_ids`.
macro_rules! cancel_pending_emails {
    ($transaction:expr, $user_ids:expr) => {
        execute_for_users!(
            $transaction,
            "DELETE FROM outbox WHERE state IN ('queued', 'retrying') \
             AND invitation_id IN (SELECT id FROM invitations WHERE user_id IN ",
            $user_ids,
            ")"
        )
    };
}

/// The ids of `$reinvitations` whose users are still Unconfirmed and were not invited after
/// `$cooldown_start`, a statement for every 400 users. The no-op write locks each such row while
/// it is still Unconfirmed (on PostgreSQL), so a join racing the reinvite waits, and no Active
/// user is left with a live link.
macro_rules! still_unconfirmed {
    ($transaction:expr, $actor:expr, $reinvitations:expr, $cooldown_start:expr) => {{
        let actor: &Actor<'_> = $actor;
        let reinvitations: &[Reinvitation] = $reinvitations;
        let mut eligible = std::collections::HashSet::new();
        for chunk in reinvitations.chunks(USERS_PER_STATEMENT) {
            let mut touch = sqlx::QueryBuilder::new(
                "UPDATE users SET status = status WHERE status = 'unconfirmed' AND org_id = ",
            );
            touch
                .push_bind(actor.scope.id())
                .push(" AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = users.id AND i.created_at > ")
                .push_bind($cooldown_start.unix_millis())
                .push(") AND id IN ");
            push_id_list!(touch, chunk.iter().map(|reinvitation| &reinvitation.user_id));
            touch.push(" RETURNING id");
            let ids: Vec<String> = touch
                .build_query_scalar()
                .fetch_all(&mut *$transaction)
                .await?;
            eligible.extend(ids);
        }
        eligible
    }};
}

/// Replaces the live invitation of each of `$reinvitations` (users the caller has checked are
/// still Unconfirmed) on `$transaction`, a few hundred users a statement: supersedes the old
/// invitations, withdraws their unsent emails, inserts the new invitations and their emails,
/// clears any "asked for a new invitation", and records the audit events. Six statements for
/// every 400 users, whatever the selection.
macro_rules! rotate_invitations {
    ($transaction:expr, $actor:expr, $reinvitations:expr, $details:expr) => {{
        let actor: &Actor<'_> = $actor;
        let reinvitations: &[&Reinvitation] = $reinvitations;
        let details: &str = $details;
        let now = actor.now.unix_millis();
        for chunk in reinvitations.chunks(USERS_PER_STATEMENT) {
            let user_ids: Vec<&UserId> = chunk.iter().map(|reinvitation| &reinvitation.user_id).collect();
            let invitation_ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();

            let mut supersede = sqlx::QueryBuilder::new("UPDATE invitations SET superseded_at = ");
            supersede.push_bind(now).push(
                " WHERE consumed_at IS NULL AND superseded_at IS NULL AND revoked_at IS NULL AND user_id IN ",
            );
            push_id_list!(supersede, &user_ids);
            supersede.build().execute(&mut *$transaction).await?;

            cancel_pending_emails!($transaction, &user_ids);

            let mut invitations = sqlx::QueryBuilder::new(
                "INSERT INTO invitations (id, org_id, user_id, token_hash, created_at, expires_at, sent_by) ",
            );
            invitations.push_values(chunk.iter().zip(&invitation_ids), |mut row, (reinvitation, id)| {
                row.push_bind(id.as_str())
                    .push_bind(actor.scope.id())
                    .push_bind(&reinvitation.user_id)
                    .push_bind(reinvitation.token_hash.as_str())
                    .push_bind(now)
                    .push_bind(reinvitation.expires_at.unix_millis())
                    .push_bind(actor.user_id);
            });
            invitations.build().execute(&mut *$transaction).await?;

            let mut emails = sqlx::QueryBuilder::new(
                "INSERT INTO outbox (id, org_id, kind, invitation_id, recipient, subject, body_text, \
                 body_html, action_url, state, attempts, next_attempt_at, created_at) ",
            );
            emails.push_values(chunk.iter().zip(&invitation_ids), |mut row, (reinvitation, id)| {
                let email: &SealedEmail = &reinvitation.message;
                row.push_bind(new_id())
                    .push_bind(actor.scope.id())
                    .push_bind(email.kind)
                    .push_bind(id.as_str())
                    .push_bind(email.recipient.as_str())
                    .push_bind(email.subject.as_str())
                    .push_bind(email.body_text.as_str())
                    .push_bind(email.body_html.as_str())
                    .push_bind(email.action_url.as_deref())
                    .push("'queued', 0, ")
                    .push_bind_unseparated(now)
                    .push_bind(now);
            });
            emails.build().execute(&mut *$transaction).await?;

            execute_for_users!($transaction, "DELETE FROM invitation_requests WHERE user_id IN ", &user_ids, "");

            insert_audit_events!($transaction, actor, AuditAction::InvitationResent, &user_ids, details);
        }
    }};
}

/// The hourly caps on invitations (New User and Reinvite together), counted inside the writing
/// transaction after the organization's lock, so parallel requests cannot all pass them.
#[derive(Debug, Clone, Copy)]
pub struct InvitationCaps<'a> {
    pub sender_id: &'a str,
    pub per_sender: i64,
    pub per_organization: i64,
    /// Invitations created after this count (an hour ago).
    pub since: Timestamp,
}

/// Which cap stopped an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapReached {
    Sender,
    Organization,
}

/// How many invitations a sender (`$1`) and an organization (`$2`) created in the minutes after
/// minute `$3`: at most 61 rows of `invitation_counts` each, read through its primary key,
/// however many invitations the hour held. Trigger-kept since migration 0007; see there.
pub const INVITATIONS_SENT_SINCE: &str = "SELECT \
        (SELECT CAST(COALESCE(SUM(sent), 0) AS BIGINT) FROM invitation_counts \
          WHERE scope = 'sender:' || $1 AND minute > $3), \
        (SELECT CAST(COALESCE(SUM(sent), 0) AS BIGINT) FROM invitation_counts \
          WHERE scope = 'org:' || $2 AND minute > $3)";

/// The minute (of `invitation_counts`) that `at` falls in.
pub fn minute_of(at: Timestamp) -> i64 {
    at.unix_millis().div_euclid(60_000)
}

/// How long rows of `invitation_counts` are kept: the hour the caps look at, and another as margin.
pub const INVITATION_COUNTS_KEPT: std::time::Duration = std::time::Duration::from_secs(2 * 60 * 60);

/// How many more invitations may be created now, and which cap binds first. Run after
/// [`super::LockOrganization::lock_organization`] in the same transaction.
///
/// Precision: the counts are kept per whole minute, and only the minutes strictly after the one
/// `since` falls in are summed. The window therefore starts at the first whole minute after
/// `since`: shorter than the hour by under a minute (an invitation stops counting up to a minute
/// early), never longer, so nothing older than the hour counts.
macro_rules! invitation_allowance {
    ($transaction:expr, $org_id:expr, $caps:expr) => {{
        let caps: &$crate::store::InvitationCaps<'_> = $caps;
        let (by_sender, by_organization): (i64, i64) =
            sqlx::query_as($crate::store::user_admin::INVITATIONS_SENT_SINCE)
                .bind(caps.sender_id)
                .bind($org_id)
                .bind($crate::store::user_admin::minute_of(caps.since))
                .fetch_one(&mut *$transaction)
                .await?;
        let sender_left = (caps.per_sender - by_sender).max(0);
        let organization_left = (caps.per_organization - by_organization).max(0);
        if sender_left <= organization_left {
            (sender_left, $crate::store::CapReached::Sender)
        } else {
            (organization_left, $crate::store::CapReached::Organization)
        }
    }};
}
pub(crate) use invitation_allowance;

/// What a reinvite did: how many went out, who was left out because a cap was reached, and who
/// was left alone because they had changed since the selection was read (no longer Unconfirmed,
/// deleted, or just invited by a parallel Reinvite).
#[derive(Debug, Clone, Default)]
pub struct ReinviteResult {
    pub sent: usize,
    pub over_cap: Vec<(UserId, Option<CapReached>)>,
    pub unchanged: Vec<UserId>,
}

impl Store {
    /// Deletes the invitation counts of minutes that ended more than
    /// [`INVITATION_COUNTS_KEPT`] before `now`, which no cap reads any more; returns how many.
    /// Run by the outbox worker with the throttle purge. It reads the whole table (no index
    /// leads with the minute), which holds only the two hours' rows of the senders and
    /// organizations that invited.
    pub async fn purge_old_invitation_counts(&self, now: Timestamp) -> Result<u64, StoreError> {
        let purged = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM invitation_counts WHERE minute < $1")
                .bind(minute_of(now.minus(INVITATION_COUNTS_KEPT)))
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(purged)
    }

    /// The selected users that belong to the organization; other ids are simply not returned.
    pub async fn bulk_targets(
        &self,
        scope: &OrganizationScope,
        ids: &[UserId],
    ) -> Result<Vec<BulkTarget>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..ids.len())
            .map(|index| format!("${}", index + 2))
            .collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT u.id, u.first_name, u.last_name, u.email, u.status, u.profile_id, u.role_id, \
                    CAST(CASE WHEN p.builtin = 'administrator' THEN 1 ELSE 0 END AS BIGINT) AS is_administrator, \
                    CAST(CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_password, \
                    (SELECT MAX(i.created_at) FROM invitations i WHERE i.user_id = u.id) AS last_invited_at \
               FROM users u JOIN profiles p ON p.id = u.profile_id \
              WHERE u.org_id = $1 AND u.id IN ({}) ORDER BY u.last_name, u.id",
            placeholders.join(", ")
        ));
        let targets = on_pool!(self, |pool| {
            let mut query = sqlx::query_as::<_, BulkTarget>(sql).bind(scope.id());
            for id in ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await
        })?;
        Ok(targets)
    }

    pub async fn active_administrator_count(
        &self,
        scope: &OrganizationScope,
    ) -> Result<i64, StoreError> {
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar(COUNT_ACTIVE_ADMINISTRATORS)
                .bind(scope.id())
                .fetch_one(pool)
                .await
        })?;
        Ok(count)
    }

    /// Supersedes each user's live invitation and creates a new one with its email, all in one
    /// transaction. Users no longer Unconfirmed are left alone. `audit_details` go into each
    /// "Invitation resent" event.
    /// `cooldown_start`: users invited after it are skipped (checked again here, under the lock,
    /// so a double-clicked Reinvite sends one email).
    pub async fn reinvite(
        &self,
        actor: Actor<'_>,
        reinvitations: &[Reinvitation],
        cooldown_start: Timestamp,
        caps: &InvitationCaps<'_>,
        audit_details: &str,
    ) -> Result<ReinviteResult, StoreError> {
        in_transaction!(self, |transaction| {
            transaction.lock_organization(actor.scope.id()).await?;
            let (allowance, binding_cap) =
                invitation_allowance!(transaction, actor.scope.id(), caps);
            let eligible = still_unconfirmed!(transaction, &actor, reinvitations, cooldown_start);
            let mut result = ReinviteResult::default();
            let mut chosen: Vec<&Reinvitation> = Vec::new();
            for reinvitation in reinvitations {
                if !eligible.contains(reinvitation.user_id.as_str()) {
                    result.unchanged.push(reinvitation.user_id.clone());
                } else if i64::try_from(chosen.len()).unwrap_or(i64::MAX) >= allowance {
                    result
                        .over_cap
                        .push((reinvitation.user_id.clone(), Some(binding_cap)));
                } else {
                    chosen.push(reinvitation);
                }
            }
            rotate_invitations!(transaction, &actor, &chosen, audit_details);
            result.sent = chosen.len();
            Ok::<_, StoreError>(result)
        })
    }

    /// Deletes Unconfirmed users outright, withdrawing their pending emails: a few statements
    /// for every 400 users. Users no longer Unconfirmed are left alone.
    pub async fn delete_unconfirmed_users(
        &self,
        actor: Actor<'_>,
        user_ids: &[UserId],
    ) -> Result<usize, StoreError> {
        in_transaction!(self, |transaction| {
            transaction.lock_organization(actor.scope.id()).await?;
            let mut deleted = 0;
            for chunk in user_ids.chunks(USERS_PER_STATEMENT) {
                // The emails first: deleting the users deletes their invitations, and the
                // emails' link to them with it.
                let mut unconfirmed = sqlx::QueryBuilder::new(
                    "SELECT id FROM users WHERE status = 'unconfirmed' AND org_id = ",
                );
                unconfirmed.push_bind(actor.scope.id()).push(" AND id IN ");
                push_id_list!(unconfirmed, chunk);
                let doomed: Vec<UserId> = unconfirmed
                    .build_query_scalar()
                    .fetch_all(&mut *transaction)
                    .await?;
                if doomed.is_empty() {
                    continue;
                }
                cancel_pending_emails!(transaction, &doomed);
                execute_for_users!(transaction, "DELETE FROM users WHERE id IN ", &doomed, "");
                insert_audit_events!(transaction, &actor, AuditAction::UserDeleted, &doomed, "");
                deleted += doomed.len();
            }
            Ok::<_, StoreError>(deleted)
        })
    }

    /// Sets each user's status, a few statements for every 400 users of one new status.
    /// Deactivating ends their sessions, kills their links and withdraws pending emails. Refuses
    /// (and changes nothing) if no active administrator would remain.
    pub async fn set_statuses(
        &self,
        actor: Actor<'_>,
        changes: &[(UserId, UserStatus)],
    ) -> Result<usize, UserAdminError> {
        in_transaction!(self, |transaction| {
            transaction.lock_organization(actor.scope.id()).await?;
            let now = actor.now.unix_millis();
            let mut changed = 0;
            for status in [
                UserStatus::Deactivated,
                UserStatus::Active,
                UserStatus::Unconfirmed,
            ] {
                let user_ids: Vec<&UserId> = changes
                    .iter()
                    .filter(|(_, to)| *to == status)
                    .map(|(user_id, _)| user_id)
                    .collect();
                for chunk in user_ids.chunks(USERS_PER_STATEMENT) {
                    let mut update = sqlx::QueryBuilder::new("UPDATE users SET status = ");
                    update
                        .push_bind(status.as_str())
                        .push(" WHERE status <> ")
                        .push_bind(status.as_str())
                        .push(" AND org_id = ")
                        .push_bind(actor.scope.id())
                        .push(" AND id IN ");
                    push_id_list!(update, chunk);
                    update.push(" RETURNING id");
                    let updated: Vec<UserId> = update
                        .build_query_scalar()
                        .fetch_all(&mut *transaction)
                        .await?;
                    if updated.is_empty() {
                        continue;
                    }
                    let action = if status == UserStatus::Deactivated {
                        execute_for_users!(
                            transaction,
                            "DELETE FROM sessions WHERE user_id IN ",
                            &updated,
                            ""
                        );
                        let mut resets =
                            sqlx::QueryBuilder::new("UPDATE password_resets SET consumed_at = ");
                        resets
                            .push_bind(now)
                            .push(" WHERE consumed_at IS NULL AND user_id IN ");
                        push_id_list!(resets, &updated);
                        resets.build().execute(&mut *transaction).await?;
                        let mut revoke =
                            sqlx::QueryBuilder::new("UPDATE invitations SET revoked_at = ");
                        revoke.push_bind(now).push(
                            " WHERE consumed_at IS NULL AND superseded_at IS NULL AND revoked_at IS NULL AND user_id IN ",
                        );
                        push_id_list!(revoke, &updated);
                        revoke.build().execute(&mut *transaction).await?;
                        cancel_pending_emails!(transaction, &updated);
                        AuditAction::UserDeactivated
                    } else {
                        AuditAction::UserActivated
                    };
                    insert_audit_events!(transaction, &actor, action, &updated, status.as_str());
                    changed += updated.len();
                }
            }
            let administrators: i64 = sqlx::query_scalar(COUNT_ACTIVE_ADMINISTRATORS)
                .bind(actor.scope.id())
                .fetch_one(&mut *transaction)
                .await?;
            if administrators == 0 {
                return Err(UserAdminError::LastAdministrator);
            }
            Ok(changed)
        })
    }

    /// Edits a user's names, profile and role, and, for an Unconfirmed user, their email: a new
    /// address supersedes the live invitation and `reinvitation` goes to the new address.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_user(
        &self,
        actor: Actor<'_>,
        user_id: &UserId,
        first_name: &FirstName,
        last_name: &LastName,
        profile_id: &ProfileId,
        role_id: &RoleId,
        new_email: Option<(&EmailAddress, &Reinvitation)>,
    ) -> Result<(), UserAdminError> {
        in_transaction!(self, |transaction| {
            transaction.lock_organization(actor.scope.id()).await?;
            sqlx::query(
                "UPDATE users SET first_name = $1, last_name = $2, profile_id = $3, role_id = $4, name_search = $7 \
                  WHERE id = $5 AND org_id = $6 \
                    AND EXISTS (SELECT 1 FROM profiles WHERE id = $3 AND org_id = $6) \
                    AND EXISTS (SELECT 1 FROM roles WHERE id = $4 AND org_id = $6)",
            )
            .bind(first_name.as_option())
            .bind(last_name.as_str())
            .bind(profile_id)
            .bind(role_id)
            .bind(user_id)
            .bind(actor.scope.id())
            .bind(onestop_domain::names::search_key(first_name, last_name))
            .execute(&mut *transaction)
            .await?;
            if let Some((email, reinvitation)) = new_email {
                let rows = sqlx::query(
                    "UPDATE users SET email = $1, email_normalized = $2 WHERE id = $3 AND org_id = $4 AND status = 'unconfirmed'",
                )
                .bind(email.as_str())
                .bind(email.normalized())
                .bind(user_id)
                .bind(actor.scope.id())
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                if rows == 1 {
                    rotate_invitations!(transaction, &actor, &[reinvitation], "email changed");
                }
            }
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::UserUpdated, user_id.as_str(), "")
            )?;
            let administrators: i64 = sqlx::query_scalar(COUNT_ACTIVE_ADMINISTRATORS)
                .bind(actor.scope.id())
                .fetch_one(&mut *transaction)
                .await?;
            if administrators == 0 {
                return Err(UserAdminError::LastAdministrator);
            }
            Ok(())
        })
    }

    pub async fn update_company_details(
        &self,
        actor: Actor<'_>,
        company_name: &CompanyName,
        account_name: &AccountName,
        invitation_lifetime_ms: i64,
        time_zone: &TimeZoneName,
        remember_two_step_browsers: bool,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("UPDATE organizations SET company_name = $1, account_name = $2, invitation_lifetime_ms = $3, time_zone = $4, remember_two_step_browsers = $6 WHERE id = $5")
                .bind(company_name.as_str())
                .bind(account_name.as_str())
                .bind(invitation_lifetime_ms)
                .bind(time_zone.as_str())
                .bind(actor.scope.id())
                .bind(i32::from(remember_two_step_browsers))
                .execute(&mut *transaction)
                .await?;
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::CompanyDetailsChanged, actor.user_id, "")
            )?;
            Ok::<_, StoreError>(())
        })
    }

    /// Company name, account name, invitation lifetime (ms), time zone, and whether a browser is
    /// remembered after its second step (0 or 1).
    pub async fn company_details(
        &self,
        scope: &OrganizationScope,
    ) -> Result<(String, String, i64, String, i32), StoreError> {
        let details = on_pool!(self, |pool| {
            sqlx::query_as("SELECT company_name, account_name, invitation_lifetime_ms, time_zone, remember_two_step_browsers FROM organizations WHERE id = $1")
                .bind(scope.id())
                .fetch_one(pool)
                .await
        })?;
        Ok(details)
    }
}
