//! Writing audit events inside the transaction of the change they record.

use onestop_domain::{AuditAction, Timestamp};

/// One event to record; ids are those of users, kept without foreign keys.
#[derive(Debug, Clone, Copy)]
pub struct AuditEvent<'a> {
    pub org_id: &'a str,
    pub actor_user_id: Option<&'a str>,
    pub action: AuditAction,
    pub target_user_id: Option<&'a str>,
    pub details: &'a str,
    pub ip: Option<&'a str>,
    pub at: Timestamp,
}

pub(crate) const INSERT_AUDIT_EVENT: &str = "INSERT INTO audit_events \
     (id, org_id, actor_user_id, action, target_user_id, details, ip, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Executes the insert of `$event` (an [`AuditEvent`]) on `$executor`.
macro_rules! insert_audit_event {
    ($executor:expr, $event:expr) => {{
        let event: &$crate::store::AuditEvent<'_> = $event;
        sqlx::query($crate::store::audit::INSERT_AUDIT_EVENT)
            .bind($crate::store::new_id())
            .bind(event.org_id)
            .bind(event.actor_user_id)
            .bind(event.action.as_str())
            .bind(event.target_user_id)
            .bind(event.details)
            .bind(event.ip)
            .bind(event.at.unix_millis())
            .execute($executor)
            .await
            .map(|_| ())
    }};
}

pub(crate) use insert_audit_event;

impl super::Store {
    /// Records an event that changes nothing else (a failed sign-in, say).
    pub async fn record_audit_event(
        &self,
        event: &AuditEvent<'_>,
    ) -> Result<(), super::StoreError> {
        super::on_pool!(self, |pool| insert_audit_event!(pool, event))?;
        Ok(())
    }

    /// The actions recorded for an organization, oldest first (for tests and, later, the Audit Log).
    pub async fn audit_actions(&self, org_id: &str) -> Result<Vec<String>, super::StoreError> {
        let actions = super::on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT action FROM audit_events WHERE org_id = $1 ORDER BY at, id")
                .bind(org_id)
                .fetch_all(pool)
                .await
        })?;
        Ok(actions)
    }
}
