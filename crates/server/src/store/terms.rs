//! Terms of Service versions and their acceptance.

use super::audit::insert_audit_event;
use super::{AuditEvent, Store, StoreError, in_transaction, on_pool};
use onestop_domain::{AuditAction, Timestamp};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TermsVersion {
    pub id: String,
    pub version: i64,
    pub body: String,
    pub published_at: i64,
}

/// One recorded acceptance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TermsAcceptance {
    pub version: i64,
    pub accepted_at: i64,
    pub ip: String,
    pub user_agent: String,
}

impl Store {
    /// The organization's current (highest) version.
    pub async fn current_terms(&self, org_id: &str) -> Result<Option<TermsVersion>, StoreError> {
        let terms = on_pool!(self, |pool| {
            sqlx::query_as::<_, TermsVersion>(
                "SELECT id, version, body, published_at FROM terms_versions \
                  WHERE org_id = $1 ORDER BY version DESC LIMIT 1",
            )
            .bind(org_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(terms)
    }

    /// Records that the user accepted `terms_version_id` (the version they were shown). Accepting
    /// twice keeps the first record.
    pub async fn accept_terms(
        &self,
        org_id: &str,
        user_id: &str,
        terms_version_id: &str,
        ip: &str,
        user_agent: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            let inserted = sqlx::query(
                "INSERT INTO terms_acceptances (user_id, terms_version_id, org_id, accepted_at, ip, user_agent) \
                 SELECT $1, id, org_id, $3, $4, $5 FROM terms_versions WHERE id = $2 AND org_id = $6 \
                 ON CONFLICT (user_id, terms_version_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(terms_version_id)
            .bind(now.unix_millis())
            .bind(ip)
            .bind(user_agent)
            .bind(org_id)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if inserted == 1 {
                insert_audit_event!(
                    &mut *transaction,
                    &AuditEvent {
                        org_id,
                        actor_user_id: Some(user_id),
                        action: AuditAction::TermsAccepted,
                        target_user_id: Some(user_id),
                        details: terms_version_id,
                        ip: Some(ip),
                        at: now,
                    }
                )?;
            }
            Ok::<(), StoreError>(())
        })
    }

    pub async fn terms_acceptances(
        &self,
        user_id: &str,
    ) -> Result<Vec<TermsAcceptance>, StoreError> {
        let acceptances = on_pool!(self, |pool| {
            sqlx::query_as::<_, TermsAcceptance>(
                "SELECT t.version, a.accepted_at, a.ip, a.user_agent FROM terms_acceptances a \
                   JOIN terms_versions t ON t.id = a.terms_version_id \
                  WHERE a.user_id = $1 ORDER BY t.version",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(acceptances)
    }
}
