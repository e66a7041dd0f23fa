//! Two-step verification as administrators see it: a user's methods (never their secrets), how
//! many of their recovery codes are unused, how many Active users have none, and "Reset two-step
//! verification".

use super::audit::insert_audit_event;
use super::{Actor, LockOrganization, Store, StoreError, in_transaction, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{AuditAction, UserId};

/// One method as the user's page lists it. The secret, the credential and its JSON are not read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoStepMethodSummary {
    /// 'totp' or 'passkey'.
    pub kind: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Active users without any method, and how many of them have a profile that requires one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TwoStepCoverage {
    pub without: i64,
    pub without_but_required: i64,
}

/// What a reset removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TwoStepResetCounts {
    pub methods: u64,
    pub recovery_codes: u64,
    pub sessions: u64,
}

// The tables without an `org_id` of their own are reached through the user's row, so another
// company's user is never touched.
const UNUSED_RECOVERY_CODES: &str = "SELECT COUNT(*) FROM recovery_codes \
  WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2) AND used_at IS NULL";
const DELETE_UNUSED_RECOVERY_CODES: &str = "DELETE FROM recovery_codes \
  WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2) AND used_at IS NULL";
const DELETE_USED_RECOVERY_CODES: &str = "DELETE FROM recovery_codes \
  WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2)";
const DELETE_REMEMBERED_BROWSERS: &str = "DELETE FROM remembered_browsers \
  WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2)";
const DELETE_WEBAUTHN_CEREMONIES: &str = "DELETE FROM webauthn_ceremonies \
  WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2)";

impl Store {
    /// The user's methods, oldest first.
    pub async fn two_step_methods_of(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
    ) -> Result<Vec<TwoStepMethodSummary>, StoreError> {
        let methods = on_pool!(self, |pool| {
            sqlx::query_as::<_, TwoStepMethodSummary>(
                "SELECT kind, name, created_at, last_used_at FROM two_step_methods \
                  WHERE org_id = $1 AND user_id = $2 ORDER BY created_at, id",
            )
            .bind(scope.id())
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(methods)
    }

    /// How many of the user's recovery codes are still unused.
    pub async fn unused_recovery_codes_of(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
    ) -> Result<i64, StoreError> {
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(UNUSED_RECOVERY_CODES)
                .bind(user_id)
                .bind(scope.id())
                .fetch_one(pool)
                .await
        })?;
        Ok(count)
    }

    /// Company Details' line: Active users without a method (deactivated and unconfirmed users
    /// are left out), and those of them whose profile requires one.
    pub async fn two_step_coverage(
        &self,
        scope: &OrganizationScope,
    ) -> Result<TwoStepCoverage, StoreError> {
        let (without, without_but_required): (i64, i64) = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN p.require_two_step <> 0 THEN 1 ELSE 0 END), 0) \
                   FROM users u JOIN profiles p ON p.id = u.profile_id \
                  WHERE u.org_id = $1 AND u.status = 'active' \
                    AND NOT EXISTS (SELECT 1 FROM two_step_methods m WHERE m.user_id = u.id)",
            )
            .bind(scope.id())
            .fetch_one(pool)
            .await
        })?;
        Ok(TwoStepCoverage {
            without,
            without_but_required,
        })
    }

    /// "Reset two-step verification": forgets the user's methods, recovery codes, remembered
    /// browsers and WebAuthn ceremonies in flight, ends all their sessions, and records it, in
    /// one transaction.
    pub async fn reset_two_step(
        &self,
        actor: Actor<'_>,
        user_id: &UserId,
    ) -> Result<TwoStepResetCounts, StoreError> {
        in_transaction!(self, |transaction| {
            // In turn with enrolments, which decide "first method" under the same lock.
            transaction.lock_organization(actor.scope.id()).await?;
            let methods =
                sqlx::query("DELETE FROM two_step_methods WHERE user_id = $1 AND org_id = $2")
                    .bind(user_id)
                    .bind(actor.scope.id())
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
            let recovery_codes = sqlx::query(DELETE_UNUSED_RECOVERY_CODES)
                .bind(user_id)
                .bind(actor.scope.id())
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            for statement in [
                DELETE_USED_RECOVERY_CODES,
                DELETE_REMEMBERED_BROWSERS,
                DELETE_WEBAUTHN_CEREMONIES,
            ] {
                sqlx::query(statement)
                    .bind(user_id)
                    .bind(actor.scope.id())
                    .execute(&mut *transaction)
                    .await?;
            }
            let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND org_id = $2")
                .bind(user_id)
                .bind(actor.scope.id())
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            let counts = TwoStepResetCounts {
                methods,
                recovery_codes,
                sessions,
            };
            let details = format!(
                "{} and {} removed; {} ended",
                counted(methods, "method", "methods"),
                counted(
                    recovery_codes,
                    "unused recovery code",
                    "unused recovery codes"
                ),
                counted(sessions, "session", "sessions"),
            );
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::TwoStepReset, user_id.as_str(), &details)
            )?;
            Ok::<_, StoreError>(counts)
        })
    }
}

fn counted(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}
