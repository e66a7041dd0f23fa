//! My Account: what a user sees of their own account, and their own time zone.

use super::audit::insert_audit_event;
use super::{Actor, Store, StoreError, in_transaction, on_pool};
use onestop_domain::{AuditAction, TimeZoneName};

/// The parts of a user's own account that the session does not carry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub username: Option<String>,
    /// `None`: the company's zone.
    pub time_zone: Option<String>,
}

impl Store {
    /// The actor's own account.
    pub async fn account(&self, actor: &Actor<'_>) -> Result<Option<AccountRow>, StoreError> {
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, AccountRow>(
                "SELECT username, time_zone FROM users WHERE org_id = $1 AND id = $2",
            )
            .bind(actor.scope.id())
            .bind(actor.user_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// Sets the actor's own time zone, and records it.
    pub async fn set_own_time_zone(
        &self,
        actor: Actor<'_>,
        time_zone: &TimeZoneName,
    ) -> Result<(), StoreError> {
        let details = format!("time zone set to {time_zone}");
        in_transaction!(self, |transaction| {
            sqlx::query("UPDATE users SET time_zone = $1 WHERE org_id = $2 AND id = $3")
                .bind(time_zone.as_str())
                .bind(actor.scope.id())
                .bind(actor.user_id)
                .execute(&mut *transaction)
                .await?;
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::UserUpdated, actor.user_id, &details)
            )?;
            Ok::<_, StoreError>(())
        })
    }
}
