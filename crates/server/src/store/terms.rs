//! Terms of Service versions and their acceptance.

use super::LockOrganization;
use super::audit::insert_audit_event;
use super::{AuditEvent, Store, StoreError, in_transaction, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{AuditAction, Timestamp};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TermsVersion {
    pub id: String,
    pub version: i64,
    pub body: String,
    pub summary: String,
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
    pub async fn current_terms(
        &self,
        scope: &OrganizationScope,
    ) -> Result<Option<TermsVersion>, StoreError> {
        let terms = on_pool!(self, |pool| {
            sqlx::query_as::<_, TermsVersion>(
                "SELECT id, version, body, summary, published_at FROM terms_versions \
                  WHERE org_id = $1 ORDER BY version DESC LIMIT 1",
            )
            .bind(scope.id())
            .fetch_optional(pool)
            .await
        })?;
        Ok(terms)
    }

    /// Records that the user accepted `terms_version_id` (the version they were shown). Accepting
    /// twice keeps the first record.
    pub async fn accept_terms(
        &self,
        scope: &OrganizationScope,
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
            .bind(scope.id())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if inserted == 1 {
                insert_audit_event!(
                    &mut *transaction,
                    &AuditEvent {
                        org_id: scope.id(),
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

/// A published version with how many people accepted it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TermsHistoryEntry {
    pub id: String,
    pub version: i64,
    pub summary: String,
    pub body_sha256: String,
    pub published_at: i64,
    pub publisher_first_name: Option<String>,
    pub publisher_last_name: Option<String>,
    pub acceptances: i64,
}

/// One acceptance, for the export.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AcceptanceRecord {
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub version: i64,
    pub body_sha256: String,
    pub accepted_at: i64,
    pub ip: String,
    pub user_agent: String,
}

impl Store {
    pub async fn terms_history(
        &self,
        scope: &OrganizationScope,
    ) -> Result<Vec<TermsHistoryEntry>, StoreError> {
        let history = on_pool!(self, |pool| {
            sqlx::query_as::<_, TermsHistoryEntry>(
                "SELECT t.id, t.version, t.summary, t.body_sha256, t.published_at, \
                        u.first_name AS publisher_first_name, u.last_name AS publisher_last_name, \
                        (SELECT COUNT(*) FROM terms_acceptances a WHERE a.terms_version_id = t.id) AS acceptances \
                   FROM terms_versions t LEFT JOIN users u ON u.id = t.published_by \
                  WHERE t.org_id = $1 ORDER BY t.version DESC",
            )
            .bind(scope.id())
            .fetch_all(pool)
            .await
        })?;
        Ok(history)
    }

    /// Publishes the next version; every user meets it at their next request.
    pub async fn publish_terms(
        &self,
        scope: &OrganizationScope,
        publisher_id: &str,
        body: &str,
        summary: &str,
        ip: Option<&str>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        in_transaction!(self, |transaction| {
            transaction.lock_organization(scope.id()).await?;
            let current: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM terms_versions WHERE org_id = $1")
                    .bind(scope.id())
                    .fetch_one(&mut *transaction)
                    .await?;
            let version = current.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO terms_versions (id, org_id, version, body, body_sha256, summary, published_at, published_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(super::new_id())
            .bind(scope.id())
            .bind(version)
            .bind(body)
            .bind(onestop_domain::token::sha256_hex(body.as_bytes()))
            .bind(summary)
            .bind(now.unix_millis())
            .bind(publisher_id)
            .execute(&mut *transaction)
            .await?;
            let details = format!("version {version}");
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id: scope.id(),
                    actor_user_id: Some(publisher_id),
                    action: AuditAction::TermsPublished,
                    target_user_id: None,
                    details: &details,
                    ip,
                    at: now,
                }
            )?;
            Ok::<_, StoreError>(version)
        })
    }

    pub async fn acceptance_records(
        &self,
        scope: &OrganizationScope,
    ) -> Result<Vec<AcceptanceRecord>, StoreError> {
        let records = on_pool!(self, |pool| {
            sqlx::query_as::<_, AcceptanceRecord>(
                "SELECT u.first_name, u.last_name, u.email, t.version, t.body_sha256, a.accepted_at, a.ip, a.user_agent \
                   FROM terms_acceptances a JOIN users u ON u.id = a.user_id JOIN terms_versions t ON t.id = a.terms_version_id \
                  WHERE a.org_id = $1 ORDER BY a.accepted_at DESC, u.last_name",
            )
            .bind(scope.id())
            .fetch_all(pool)
            .await
        })?;
        Ok(records)
    }
}
