//! Setup > Profiles: custom profiles made by cloning, edited, and deleted once their users have
//! moved. The built-in profiles cannot be changed.

use super::audit::insert_audit_event;
use super::{Actor, ProfileRow, Store, StoreError, classify, in_transaction, new_id, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{AuditAction, PermissionSet, ProfileId};

/// A profile with how many users hold it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileWithCount {
    #[sqlx(flatten)]
    pub profile: ProfileRow,
    pub user_count: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileStoreError {
    #[error("a profile with this name already exists")]
    NameTaken,
    /// Built-in, or not one of the organization's.
    #[error("this profile cannot be changed")]
    NotEditable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ProfileStoreError {
    fn from(error: sqlx::Error) -> Self {
        match classify(error, &["name"]) {
            StoreError::Duplicate(_) => Self::NameTaken,
            other => Self::Store(other),
        }
    }
}

impl Store {
    pub async fn profiles_with_counts(
        &self,
        scope: &OrganizationScope,
    ) -> Result<Vec<ProfileWithCount>, StoreError> {
        let profiles = on_pool!(self, |pool| {
            sqlx::query_as::<_, ProfileWithCount>(
                "SELECT p.id, p.name, p.description, p.builtin, p.permissions, p.require_two_step, \
                        (SELECT COUNT(*) FROM users u WHERE u.profile_id = p.id) AS user_count \
                   FROM profiles p WHERE p.org_id = $1 ORDER BY p.created_at, p.name",
            )
            .bind(scope.id())
            .fetch_all(pool)
            .await
        })?;
        Ok(profiles)
    }

    pub async fn profile(
        &self,
        scope: &OrganizationScope,
        profile_id: &ProfileId,
    ) -> Result<Option<ProfileRow>, StoreError> {
        let profile = on_pool!(self, |pool| {
            sqlx::query_as::<_, ProfileRow>(
                "SELECT id, name, description, builtin, permissions, require_two_step FROM profiles WHERE org_id = $1 AND id = $2",
            )
            .bind(scope.id())
            .bind(profile_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(profile)
    }

    pub async fn create_profile(
        &self,
        actor: Actor<'_>,
        name: &str,
        description: &str,
        permissions: PermissionSet,
        require_two_step: bool,
    ) -> Result<String, ProfileStoreError> {
        let id = new_id();
        in_transaction!(self, |transaction| {
            sqlx::query(
                "INSERT INTO profiles (id, org_id, name, description, builtin, permissions, created_at, require_two_step) \
                 VALUES ($1, $2, $3, $4, NULL, $5, $6, $7)",
            )
            .bind(&id)
            .bind(actor.scope.id())
            .bind(name)
            .bind(description)
            .bind(permissions.to_stored())
            .bind(actor.now.unix_millis())
            .bind(i32::from(require_two_step))
            .execute(&mut *transaction)
            .await?;
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::ProfileCreated, actor.user_id, name)
            )?;
            Ok::<_, ProfileStoreError>(())
        })?;
        Ok(id)
    }

    pub async fn update_profile(
        &self,
        actor: Actor<'_>,
        profile_id: &ProfileId,
        name: &str,
        description: &str,
        permissions: PermissionSet,
        require_two_step: bool,
    ) -> Result<(), ProfileStoreError> {
        in_transaction!(self, |transaction| {
            let rows = sqlx::query(
                "UPDATE profiles SET name = $1, description = $2, permissions = $3, require_two_step = $6 \
                  WHERE id = $4 AND org_id = $5 AND builtin IS NULL",
            )
            .bind(name)
            .bind(description)
            .bind(permissions.to_stored())
            .bind(profile_id)
            .bind(actor.scope.id())
            .bind(i32::from(require_two_step))
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if rows != 1 {
                return Err(ProfileStoreError::NotEditable);
            }
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::ProfileUpdated, actor.user_id, name)
            )?;
            Ok(())
        })
    }

    /// "Require two-step verification" alone, for any profile of the company, the built-in ones
    /// included (their permissions stay fixed; requiring a second step takes nothing away).
    pub async fn set_profile_two_step(
        &self,
        actor: Actor<'_>,
        profile_id: &ProfileId,
        require_two_step: bool,
    ) -> Result<(), ProfileStoreError> {
        in_transaction!(self, |transaction| {
            let name: Option<String> = sqlx::query_scalar(
                "UPDATE profiles SET require_two_step = $1 WHERE id = $2 AND org_id = $3 RETURNING name",
            )
            .bind(i32::from(require_two_step))
            .bind(profile_id)
            .bind(actor.scope.id())
            .fetch_optional(&mut *transaction)
            .await?;
            let Some(name) = name else {
                return Err(ProfileStoreError::NotEditable);
            };
            let details = if require_two_step {
                format!("{name}: two-step verification required")
            } else {
                format!("{name}: two-step verification no longer required")
            };
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::ProfileUpdated, actor.user_id, &details)
            )?;
            Ok(())
        })
    }

    /// Moves the profile's users to `move_to`, then deletes it.
    pub async fn delete_profile(
        &self,
        actor: Actor<'_>,
        profile_id: &ProfileId,
        move_to: &ProfileId,
    ) -> Result<(), ProfileStoreError> {
        in_transaction!(self, |transaction| {
            let target_exists: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM profiles WHERE id = $1 AND org_id = $2 AND id <> $3",
            )
            .bind(move_to)
            .bind(actor.scope.id())
            .bind(profile_id)
            .fetch_one(&mut *transaction)
            .await?;
            if target_exists != 1 {
                return Err(ProfileStoreError::NotEditable);
            }
            sqlx::query("UPDATE users SET profile_id = $1 WHERE profile_id = $2 AND org_id = $3")
                .bind(move_to)
                .bind(profile_id)
                .bind(actor.scope.id())
                .execute(&mut *transaction)
                .await?;
            let rows = sqlx::query(
                "DELETE FROM profiles WHERE id = $1 AND org_id = $2 AND builtin IS NULL",
            )
            .bind(profile_id)
            .bind(actor.scope.id())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if rows != 1 {
                return Err(ProfileStoreError::NotEditable);
            }
            insert_audit_event!(
                &mut *transaction,
                &actor.event(
                    AuditAction::ProfileDeleted,
                    actor.user_id,
                    profile_id.as_str()
                )
            )?;
            Ok(())
        })
    }
}
