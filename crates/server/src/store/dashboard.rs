//! What administrators need to see on their homepage, and invitees asking for a new invitation.

use super::LockOrganization;
use super::audit::insert_audit_event;
use super::outbox::insert_outbox_message;
use super::{AuditEvent, SealedEmail, Store, StoreError, in_transaction, new_id, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{AuditAction, OrganizationId, Timestamp, UserId};

/// A user named on a homepage card, with a detail (a reason, a time).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CardEntry {
    pub user_id: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub detail: Option<String>,
    pub at: Option<i64>,
}

impl CardEntry {
    pub fn full_name(&self) -> String {
        match &self.first_name {
            Some(first) => format!("{first} {}", self.last_name),
            None => self.last_name.clone(),
        }
    }
}

/// The administrator homepage cards.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub unconfirmed: i64,
    pub failed_deliveries: Vec<CardEntry>,
    pub expiring_soon: Vec<CardEntry>,
    pub requests: Vec<CardEntry>,
}

/// At most this many names per card; the Users page has the rest.
const CARD_LIMIT: i64 = 5;

impl Store {
    pub async fn dashboard(
        &self,
        scope: &OrganizationScope,
        now: Timestamp,
        expiring_within_ms: i64,
    ) -> Result<Dashboard, StoreError> {
        let live = "i.consumed_at IS NULL AND i.superseded_at IS NULL AND i.revoked_at IS NULL";
        let failed_sql = sqlx::AssertSqlSafe(format!(
            "SELECT u.id AS user_id, u.first_name, u.last_name, o.last_error AS detail, o.created_at AS at \
               FROM outbox o JOIN invitations i ON i.id = o.invitation_id JOIN users u ON u.id = i.user_id \
              WHERE o.org_id = $1 AND o.state = 'failed' AND u.status = 'unconfirmed' AND {live} \
              ORDER BY o.created_at DESC LIMIT {CARD_LIMIT}"
        ));
        let expiring_sql = sqlx::AssertSqlSafe(format!(
            "SELECT u.id AS user_id, u.first_name, u.last_name, NULL AS detail, i.expires_at AS at \
               FROM invitations i JOIN users u ON u.id = i.user_id \
              WHERE i.org_id = $1 AND u.status = 'unconfirmed' AND {live} AND i.expires_at > $2 AND i.expires_at <= $3 \
              ORDER BY i.expires_at LIMIT {CARD_LIMIT}"
        ));
        let requests_sql = sqlx::AssertSqlSafe(format!(
            "SELECT u.id AS user_id, u.first_name, u.last_name, NULL AS detail, MAX(q.requested_at) AS at \
               FROM invitation_requests q JOIN users u ON u.id = q.user_id \
              WHERE q.org_id = $1 AND u.status = 'unconfirmed' \
              GROUP BY u.id, u.first_name, u.last_name ORDER BY MAX(q.requested_at) DESC LIMIT {CARD_LIMIT}"
        ));
        let dashboard = on_pool!(self, |pool| {
            // Kept by triggers (migration 0006), rather than counted on every visit.
            let unconfirmed: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(unconfirmed), 0) FROM user_view_counts WHERE org_id = $1",
            )
            .bind(scope.id())
            .fetch_one(pool)
            .await?;
            let failed_deliveries = sqlx::query_as::<_, CardEntry>(failed_sql)
                .bind(scope.id())
                .fetch_all(pool)
                .await?;
            let expiring_soon = sqlx::query_as::<_, CardEntry>(expiring_sql)
                .bind(scope.id())
                .bind(now.unix_millis())
                .bind(now.unix_millis().saturating_add(expiring_within_ms))
                .fetch_all(pool)
                .await?;
            let requests = sqlx::query_as::<_, CardEntry>(requests_sql)
                .bind(scope.id())
                .fetch_all(pool)
                .await?;
            Ok::<_, sqlx::Error>(Dashboard {
                unconfirmed,
                failed_deliveries,
                expiring_soon,
                requests,
            })
        })?;
        Ok(dashboard)
    }

    /// When the user last asked for a new invitation.
    pub async fn last_invitation_request(
        &self,
        user_id: &UserId,
    ) -> Result<Option<i64>, StoreError> {
        let at = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT MAX(requested_at) FROM invitation_requests WHERE user_id = $1",
            )
            .bind(user_id)
            .fetch_one(pool)
            .await
        })?;
        Ok(at)
    }

    /// Email addresses and first names of the organization's active administrators.
    pub async fn administrator_contacts(
        &self,
        org_id: &OrganizationId,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let contacts = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.email, u.first_name FROM users u JOIN profiles p ON p.id = u.profile_id \
                  WHERE u.org_id = $1 AND u.status = 'active' AND p.builtin = 'administrator' ORDER BY u.last_name",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(contacts)
    }

    /// Records the request and queues the administrators' emails, together; unless the user
    /// already asked after `asked_after`, which is checked under the organization's lock so that
    /// parallel requests queue one batch of emails, not several. `false`: already asked.
    pub async fn record_invitation_request(
        &self,
        org_id: &OrganizationId,
        user_id: &UserId,
        ip: &str,
        now: Timestamp,
        asked_after: Timestamp,
        notifications: &[SealedEmail],
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |transaction| {
            transaction.lock_organization(org_id).await?;
            let earlier: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM invitation_requests WHERE user_id = $1 AND requested_at > $2",
            )
            .bind(user_id)
            .bind(asked_after.unix_millis())
            .fetch_one(&mut *transaction)
            .await?;
            if earlier > 0 {
                return Ok(false);
            }
            sqlx::query("INSERT INTO invitation_requests (id, org_id, user_id, requested_at, ip) VALUES ($1, $2, $3, $4, $5)")
                .bind(new_id())
                .bind(org_id)
                .bind(user_id)
                .bind(now.unix_millis())
                .bind(ip)
                .execute(&mut *transaction)
                .await?;
            for email in notifications {
                insert_outbox_message!(&mut *transaction, org_id, None::<&str>, email, now)?;
            }
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id,
                    actor_user_id: Some(user_id.as_str()),
                    action: AuditAction::InvitationRequested,
                    target_user_id: Some(user_id.as_str()),
                    details: "",
                    ip: Some(ip),
                    at: now,
                }
            )?;
            Ok::<_, StoreError>(true)
        })
    }
}
