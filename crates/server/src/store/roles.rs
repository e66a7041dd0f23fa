//! Setup > Roles: the hierarchy, each role's homepage (headline, introduction, First Steps), and
//! deleting a role once its users have moved. CEO stays the root.

use super::audit::insert_audit_event;
use super::{Actor, Store, StoreError, classify, in_transaction, new_id, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::AuditAction;
use onestop_domain::RoleId;

/// A role with its homepage and how many users hold it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoleDetails {
    pub id: RoleId,
    pub name: String,
    pub parent_id: Option<RoleId>,
    pub description: String,
    pub builtin: Option<String>,
    pub headline: String,
    pub introduction: String,
    pub user_count: i64,
}

/// A First Steps item as the role editor shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepItem {
    pub id: String,
    pub title: String,
    pub href: String,
    pub description: String,
}

/// A First Steps item as typed (validated by the use case).
#[derive(Debug, Clone)]
pub struct NewStep {
    pub title: String,
    pub href: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RoleStoreError {
    #[error("a role with this name already exists")]
    NameTaken,
    #[error("this role cannot be changed that way")]
    NotAllowed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RoleStoreError {
    fn from(error: sqlx::Error) -> Self {
        match classify(error, &["name"]) {
            StoreError::Duplicate(_) => Self::NameTaken,
            other => Self::Store(other),
        }
    }
}

const ROLE_DETAILS: &str = "SELECT r.id, r.name, r.parent_id, r.description, r.builtin, r.headline, r.introduction, \
     (SELECT COUNT(*) FROM users u WHERE u.role_id = r.id) AS user_count FROM roles r";

impl Store {
    /// The organization's roles, parents before children.
    pub async fn role_details(
        &self,
        scope: &OrganizationScope,
    ) -> Result<Vec<RoleDetails>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{ROLE_DETAILS} WHERE r.org_id = $1 ORDER BY r.created_at, r.name"
        ));
        let roles = on_pool!(self, |pool| sqlx::query_as::<_, RoleDetails>(sql)
            .bind(scope.id())
            .fetch_all(pool)
            .await)?;
        Ok(roles)
    }

    pub async fn role(
        &self,
        scope: &OrganizationScope,
        role_id: &RoleId,
    ) -> Result<Option<RoleDetails>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("{ROLE_DETAILS} WHERE r.org_id = $1 AND r.id = $2"));
        let role = on_pool!(self, |pool| {
            sqlx::query_as::<_, RoleDetails>(sql)
                .bind(scope.id())
                .bind(role_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(role)
    }

    pub async fn role_steps(&self, role_id: &RoleId) -> Result<Vec<StepItem>, StoreError> {
        let steps = on_pool!(self, |pool| {
            sqlx::query_as::<_, StepItem>(
                "SELECT id, title, href, description FROM role_first_steps WHERE role_id = $1 ORDER BY position, id",
            )
            .bind(role_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(steps)
    }

    /// A new role reporting to `parent_id`; its homepage starts as a copy of its parent's.
    pub async fn create_role(
        &self,
        actor: Actor<'_>,
        name: &str,
        parent_id: &RoleId,
        description: &str,
    ) -> Result<String, RoleStoreError> {
        let id = new_id();
        in_transaction!(self, |transaction| {
            let rows = sqlx::query(
                "INSERT INTO roles (id, org_id, name, parent_id, description, builtin, headline, introduction, created_at) \
                 SELECT $1, org_id, $2, id, $3, NULL, headline, introduction, $4 FROM roles WHERE id = $5 AND org_id = $6",
            )
            .bind(&id)
            .bind(name)
            .bind(description)
            .bind(actor.now.unix_millis())
            .bind(parent_id)
            .bind(actor.scope.id())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if rows != 1 {
                return Err(RoleStoreError::NotAllowed);
            }
            let parent_steps: Vec<(i64, String, String, String)> = sqlx::query_as(
                "SELECT position, title, href, description FROM role_first_steps WHERE role_id = $1 ORDER BY position",
            )
            .bind(parent_id)
            .fetch_all(&mut *transaction)
            .await?;
            for (position, title, href, description) in parent_steps {
                sqlx::query(
                    "INSERT INTO role_first_steps (id, org_id, role_id, position, title, href, description) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new_id())
                .bind(actor.scope.id())
                .bind(&id)
                .bind(position)
                .bind(title)
                .bind(href)
                .bind(description)
                .execute(&mut *transaction)
                .await?;
            }
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::RoleCreated, actor.user_id, name)
            )?;
            Ok::<_, RoleStoreError>(())
        })?;
        Ok(id)
    }

    /// Changes a role and its homepage. `parent_id` is ignored for the root (CEO). The First Steps
    /// are replaced position by position, so ticks on items that stay keep their progress.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_role(
        &self,
        actor: Actor<'_>,
        role_id: &RoleId,
        name: &str,
        parent_id: Option<&RoleId>,
        description: &str,
        headline: &str,
        introduction: &str,
        steps: &[NewStep],
    ) -> Result<(), RoleStoreError> {
        in_transaction!(self, |transaction| {
            let rows = sqlx::query(
                "UPDATE roles SET name = $1, description = $2, headline = $3, introduction = $4, \
                        parent_id = CASE WHEN parent_id IS NULL THEN NULL ELSE $5 END \
                  WHERE id = $6 AND org_id = $7",
            )
            .bind(name)
            .bind(description)
            .bind(headline)
            .bind(introduction)
            .bind(parent_id)
            .bind(role_id)
            .bind(actor.scope.id())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if rows != 1 {
                return Err(RoleStoreError::NotAllowed);
            }
            let existing: Vec<(String,)> = sqlx::query_as(
                "SELECT id FROM role_first_steps WHERE role_id = $1 ORDER BY position, id",
            )
            .bind(role_id)
            .fetch_all(&mut *transaction)
            .await?;
            for (index, step) in steps.iter().enumerate() {
                let position = i64::try_from(index).unwrap_or(i64::MAX) + 1;
                match existing.get(index) {
                    Some((id,)) => {
                        sqlx::query(
                            "UPDATE role_first_steps SET position = $1, title = $2, href = $3, description = $4 WHERE id = $5",
                        )
                        .bind(position)
                        .bind(&step.title)
                        .bind(&step.href)
                        .bind(&step.description)
                        .bind(id)
                        .execute(&mut *transaction)
                        .await?;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO role_first_steps (id, org_id, role_id, position, title, href, description) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(new_id())
                        .bind(actor.scope.id())
                        .bind(role_id)
                        .bind(position)
                        .bind(&step.title)
                        .bind(&step.href)
                        .bind(&step.description)
                        .execute(&mut *transaction)
                        .await?;
                    }
                }
            }
            for (id,) in existing.iter().skip(steps.len()) {
                sqlx::query("DELETE FROM role_first_steps WHERE id = $1")
                    .bind(id)
                    .execute(&mut *transaction)
                    .await?;
            }
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::RoleUpdated, actor.user_id, name)
            )?;
            Ok(())
        })
    }

    /// Moves the role's users to `move_to` and its child roles to its parent, then deletes it.
    /// The root cannot be deleted.
    pub async fn delete_role(
        &self,
        actor: Actor<'_>,
        role_id: &RoleId,
        move_to: &RoleId,
    ) -> Result<(), RoleStoreError> {
        in_transaction!(self, |transaction| {
            let parent: Option<(Option<String>,)> =
                sqlx::query_as("SELECT parent_id FROM roles WHERE id = $1 AND org_id = $2")
                    .bind(role_id)
                    .bind(actor.scope.id())
                    .fetch_optional(&mut *transaction)
                    .await?;
            let Some((Some(parent_id),)) = parent else {
                return Err(RoleStoreError::NotAllowed);
            };
            let target: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM roles WHERE id = $1 AND org_id = $2 AND id <> $3",
            )
            .bind(move_to)
            .bind(actor.scope.id())
            .bind(role_id)
            .fetch_one(&mut *transaction)
            .await?;
            if target != 1 {
                return Err(RoleStoreError::NotAllowed);
            }
            sqlx::query("UPDATE users SET role_id = $1 WHERE role_id = $2 AND org_id = $3")
                .bind(move_to)
                .bind(role_id)
                .bind(actor.scope.id())
                .execute(&mut *transaction)
                .await?;
            sqlx::query("UPDATE roles SET parent_id = $1 WHERE parent_id = $2 AND org_id = $3")
                .bind(&parent_id)
                .bind(role_id)
                .bind(actor.scope.id())
                .execute(&mut *transaction)
                .await?;
            sqlx::query("DELETE FROM roles WHERE id = $1 AND org_id = $2")
                .bind(role_id)
                .bind(actor.scope.id())
                .execute(&mut *transaction)
                .await?;
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::RoleDeleted, actor.user_id, role_id.as_str())
            )?;
            Ok(())
        })
    }
}
