//! Reading an organization's profiles, roles and users for pages.

use super::{Store, StoreError, classify, new_id, on_pool, on_writer};
use crate::tenancy::OrganizationScope;
use onestop_domain::{PermissionSet, ProfileGrant, ProfileId, RoleId, RoleTree, Timestamp, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub id: ProfileId,
    pub name: String,
    pub description: String,
    pub builtin: Option<String>,
    permissions: String,
    /// 1 when its users must set up two-step verification (INTEGER on both databases).
    require_two_step: i32,
}

impl ProfileRow {
    /// "Require two-step verification" (Setup > Profiles).
    pub fn requires_two_step(&self) -> bool {
        self.require_two_step != 0
    }

    pub fn permissions(&self) -> Result<PermissionSet, StoreError> {
        PermissionSet::parse_stored(&self.permissions)
            .map_err(|error| StoreError::Corrupt(error.to_string()))
    }

    /// What granting this profile hands over.
    pub fn grant(&self) -> Result<ProfileGrant, StoreError> {
        Ok(ProfileGrant {
            permissions: self.permissions()?,
            builtin_administrator: self.builtin.as_deref() == Some(ADMINISTRATOR_PROFILE),
        })
    }
}

/// The `builtin` marker of the built-in Administrator profile.
pub const ADMINISTRATOR_PROFILE: &str = "administrator";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoleRow {
    pub id: RoleId,
    pub name: String,
    pub parent_id: Option<RoleId>,
    pub description: String,
}

impl Store {
    pub async fn profiles(&self, scope: &OrganizationScope) -> Result<Vec<ProfileRow>, StoreError> {
        let profiles = on_pool!(self, |pool| {
            sqlx::query_as::<_, ProfileRow>(
                "SELECT id, name, description, builtin, permissions, require_two_step FROM profiles WHERE org_id = $1 ORDER BY created_at, name",
            )
            .bind(scope.id())
            .fetch_all(pool)
            .await
        })?;
        Ok(profiles)
    }

    /// Roles in creation order (parents before children).
    pub async fn roles(&self, scope: &OrganizationScope) -> Result<Vec<RoleRow>, StoreError> {
        let roles = on_pool!(self, |pool| {
            sqlx::query_as::<_, RoleRow>(
                "SELECT id, name, parent_id, description FROM roles WHERE org_id = $1 ORDER BY created_at, name",
            )
            .bind(scope.id())
            .fetch_all(pool)
            .await
        })?;
        Ok(roles)
    }

    pub async fn role_tree(&self, scope: &OrganizationScope) -> Result<RoleTree, StoreError> {
        Ok(RoleTree::new(
            self.roles(scope)
                .await?
                .into_iter()
                .map(|role| (role.id, role.parent_id)),
        ))
    }

    /// Adds a custom profile (Setup > Profiles builds on this).
    pub async fn add_profile(
        &self,
        scope: &OrganizationScope,
        name: &str,
        description: &str,
        permissions: PermissionSet,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        let id = new_id();
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO profiles (id, org_id, name, description, builtin, permissions, created_at) \
                 VALUES ($1, $2, $3, $4, NULL, $5, $6)",
            )
            .bind(&id)
            .bind(scope.id())
            .bind(name)
            .bind(description)
            .bind(permissions.to_stored())
            .bind(now.unix_millis())
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(|error| classify(error, &["name"]))?;
        Ok(id)
    }

    /// Adds a custom role reporting to `parent_id` (Setup > Roles builds on this).
    pub async fn add_role(
        &self,
        scope: &OrganizationScope,
        name: &str,
        parent_id: &RoleId,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        let id = new_id();
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO roles (id, org_id, name, parent_id, description, builtin, headline, introduction, created_at) \
                 SELECT $1, $2, $3, id, '', NULL, headline, introduction, $5 FROM roles WHERE id = $4 AND org_id = $2",
            )
            .bind(&id)
            .bind(scope.id())
            .bind(name)
            .bind(parent_id)
            .bind(now.unix_millis())
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(|error| classify(error, &["name"]))?;
        Ok(id)
    }

    /// The email of one of the organization's users (for the notice after New User saves).
    pub async fn user_email(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
    ) -> Result<Option<String>, StoreError> {
        let email = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT email FROM users WHERE org_id = $1 AND id = $2")
                .bind(scope.id())
                .bind(user_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(email)
    }

    /// How long invitations of the organization live, in milliseconds.
    pub async fn invitation_lifetime_ms(
        &self,
        scope: &OrganizationScope,
    ) -> Result<i64, StoreError> {
        let lifetime = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT invitation_lifetime_ms FROM organizations WHERE id = $1")
                .bind(scope.id())
                .fetch_one(pool)
                .await
        })?;
        Ok(lifetime)
    }
}
