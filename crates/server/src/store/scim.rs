//! SCIM provisioning (migration 0014): users as SCIM shows them, found by id or by a filter, their
//! identity provider's `externalId`, detaching a user from SCIM, and the company's default profile
//! and role for users SCIM creates. Every change writes its audit event in its transaction.

use super::audit::insert_audit_event;
use super::user_admin::Actor;
use super::{Store, StoreError, classify, in_transaction, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{AuditAction, EmailAddress, ProfileId, RoleId, UserId, UserStatus};

/// A user as SCIM shows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScimUserRow {
    pub id: UserId,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub username: Option<String>,
    status: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    /// The newest change to the user (created, joined, edited, deactivated, activated).
    pub last_modified: i64,
    pub profile_id: ProfileId,
    pub role_id: RoleId,
    pub profile_name: String,
    pub role_name: String,
}

impl ScimUserRow {
    pub fn status(&self) -> Result<UserStatus, StoreError> {
        self.status
            .parse()
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }
}

/// Which users a SCIM list asks for: every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct ScimUserQuery {
    pub id: Option<String>,
    /// Matches the username or the email address, case-insensitively (lower-cased here).
    pub user_name: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
    /// Compared exactly (SCIM's `externalId` is case-exact).
    pub external_id: Option<String>,
    pub active: Option<bool>,
}

/// `SELECT` of [`ScimUserRow`] for the organization's users SCIM sees ($1), where `$condition`
/// holds. `last_modified` is the newest event that changed the user (created, joined, edited,
/// deactivated, activated), else their creation.
macro_rules! select_users {
    ($condition:expr) => {
        concat!(
            "SELECT u.id, u.first_name, u.last_name, u.email, u.username, u.status, u.external_id, \
                    u.created_at, \
                    COALESCE((SELECT MAX(a.at) FROM audit_events a WHERE a.target_user_id = u.id \
                               AND a.action IN ('user_created', 'joined', 'user_updated', \
                                                'user_deactivated', 'user_activated')), \
                             u.created_at) AS last_modified, \
                    u.profile_id, u.role_id, p.name AS profile_name, r.name AS role_name \
               FROM users u JOIN profiles p ON p.id = u.profile_id JOIN roles r ON r.id = u.role_id \
              WHERE u.org_id = $1 AND u.scim_detached_at IS NULL AND ",
            $condition
        )
    };
}

/// The conditions of a [`ScimUserQuery`], bound as $2 to $6 (an unset one holds for everyone).
/// `active` is "not Deactivated".
macro_rules! query_condition {
    () => {
        "($2 IS NULL OR u.id = $2) \
         AND ($3 IS NULL OR u.username_normalized = $3 OR u.email_normalized = $3) \
         AND ($4 IS NULL OR u.email_normalized = $4) \
         AND ($5 IS NULL OR u.external_id = $5) \
         AND ($6 IS NULL OR ((u.status <> 'deactivated') = $6))"
    };
}

impl Store {
    /// One of the organization's users, unless SCIM was detached from them.
    pub async fn scim_user(
        &self,
        scope: &OrganizationScope,
        id: &UserId,
    ) -> Result<Option<ScimUserRow>, StoreError> {
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, ScimUserRow>(select_users!("u.id = $2"))
                .bind(scope.id())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }

    /// How many users match `query`, and the page of them from `offset` (oldest first).
    pub async fn scim_users(
        &self,
        scope: &OrganizationScope,
        query: &ScimUserQuery,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<ScimUserRow>), StoreError> {
        let count_sql = concat!(
            "SELECT COUNT(*) FROM users u WHERE u.org_id = $1 AND u.scim_detached_at IS NULL AND ",
            query_condition!()
        );
        let page_sql = concat!(
            select_users!(query_condition!()),
            " ORDER BY u.created_at, u.id LIMIT $7 OFFSET $8"
        );
        let total: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(count_sql)
                .bind(scope.id())
                .bind(&query.id)
                .bind(&query.user_name)
                .bind(&query.email)
                .bind(&query.external_id)
                .bind(query.active)
                .fetch_one(pool)
                .await
        })?;
        if limit <= 0 {
            return Ok((total, Vec::new()));
        }
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, ScimUserRow>(page_sql)
                .bind(scope.id())
                .bind(&query.id)
                .bind(&query.user_name)
                .bind(&query.email)
                .bind(&query.external_id)
                .bind(query.active)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
        })?;
        Ok((total, rows))
    }

    /// The user of the organization (detached or not) whose `externalId` this is, if any.
    pub async fn external_id_owner(
        &self,
        scope: &OrganizationScope,
        external_id: &str,
    ) -> Result<Option<UserId>, StoreError> {
        let owner = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, UserId>(
                "SELECT id FROM users WHERE org_id = $1 AND external_id = $2",
            )
            .bind(scope.id())
            .bind(external_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(owner)
    }

    /// Sets (or clears) a user's `externalId`, and records it. A value another user of the
    /// organization has is [`StoreError::Duplicate`]`("external_id")`.
    pub async fn set_external_id(
        &self,
        actor: Actor<'_>,
        user_id: &UserId,
        external_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let details = match external_id {
            Some(value) => format!("SCIM externalId set to \"{value}\""),
            None => "SCIM externalId removed".to_owned(),
        };
        in_transaction!(self, |transaction| {
            let changed = sqlx::query(
                "UPDATE users SET external_id = $1 WHERE id = $2 AND org_id = $3 \
                   AND scim_detached_at IS NULL",
            )
            .bind(external_id)
            .bind(user_id)
            .bind(actor.scope.id())
            .execute(&mut *transaction)
            .await
            .map_err(|error| classify(error, &["external_id"]))?
            .rows_affected();
            if changed == 1 {
                insert_audit_event!(
                    &mut *transaction,
                    &actor.event(AuditAction::UserUpdated, user_id.as_str(), &details)
                )?;
            }
            Ok::<_, StoreError>(())
        })
    }

    /// Changes the address of a Deactivated user who never joined (no invitation is sent), and
    /// records it. An address another user has is `Duplicate("email_normalized")`.
    pub async fn readdress_deactivated_user(
        &self,
        actor: Actor<'_>,
        user_id: &UserId,
        email: &EmailAddress,
    ) -> Result<(), StoreError> {
        let details = format!("Email changed to {} by SCIM", email.as_str());
        in_transaction!(self, |transaction| {
            let changed = sqlx::query(
                "UPDATE users SET email = $1, email_normalized = $2 WHERE id = $3 AND org_id = $4 \
                   AND status = 'deactivated' AND username IS NULL",
            )
            .bind(email.as_str())
            .bind(email.normalized())
            .bind(user_id)
            .bind(actor.scope.id())
            .execute(&mut *transaction)
            .await
            .map_err(|error| classify(error, &["email_normalized"]))?
            .rows_affected();
            if changed == 1 {
                insert_audit_event!(
                    &mut *transaction,
                    &actor.event(AuditAction::UserUpdated, user_id.as_str(), &details)
                )?;
            }
            Ok::<_, StoreError>(())
        })
    }

    /// Detaches a user from SCIM: their `externalId` is cleared and SCIM no longer sees them
    /// (they stay in 1Stop as they are). Recorded.
    pub async fn detach_from_scim(
        &self,
        actor: Actor<'_>,
        user_id: &UserId,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            let changed = sqlx::query(
                "UPDATE users SET external_id = NULL, scim_detached_at = $1 \
                  WHERE id = $2 AND org_id = $3 AND scim_detached_at IS NULL",
            )
            .bind(actor.now.unix_millis())
            .bind(user_id)
            .bind(actor.scope.id())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if changed == 1 {
                insert_audit_event!(
                    &mut *transaction,
                    &actor.event(
                        AuditAction::UserUpdated,
                        user_id.as_str(),
                        "Removed by SCIM (DELETE): deactivated and no longer provisioned"
                    )
                )?;
            }
            Ok::<_, StoreError>(())
        })
    }

    /// The default profile and role for users SCIM creates, as stored (either may be unset).
    pub async fn scim_defaults(
        &self,
        scope: &OrganizationScope,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let defaults = on_pool!(self, |pool| {
            sqlx::query_as::<_, (Option<String>, Option<String>)>(
                "SELECT scim_profile_id, scim_role_id FROM organizations WHERE id = $1",
            )
            .bind(scope.id())
            .fetch_optional(pool)
            .await
        })?;
        Ok(defaults.unwrap_or((None, None)))
    }

    /// Stores the default profile and role for users SCIM creates, and records it (`details`
    /// names them).
    pub async fn set_scim_defaults(
        &self,
        actor: Actor<'_>,
        profile_id: &ProfileId,
        role_id: &RoleId,
        details: &str,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query(
                "UPDATE organizations SET scim_profile_id = $1, scim_role_id = $2 WHERE id = $3",
            )
            .bind(profile_id)
            .bind(role_id)
            .bind(actor.scope.id())
            .execute(&mut *transaction)
            .await?;
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::CompanyDetailsChanged, actor.user_id, details)
            )?;
            Ok::<_, StoreError>(())
        })
    }
}
