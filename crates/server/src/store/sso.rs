//! Single sign-on: the company's OpenID Connect provider, the sign-ins sent to it and not yet
//! back, and what a returning sign-in writes (the user's `sub`, a join, a refusal).

use super::audit::insert_audit_event;
use super::invitations::InvitationRecord;
use super::user_admin::Actor;
use super::{AuditEvent, Store, StoreError, classify, in_transaction, on_pool, on_writer};
use onestop_domain::{AuditAction, OrganizationId, Timestamp, TokenHash, UserId};

/// A company's provider as stored; the secret stays sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SsoProviderRecord {
    pub org_id: OrganizationId,
    pub display_name: String,
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    pub sso_only: bool,
}

/// What Setup > Single Sign-On saves.
pub struct NewSsoProvider<'a> {
    pub display_name: &'a str,
    pub issuer_url: &'a str,
    pub client_id: &'a str,
    pub client_secret_sealed: &'a str,
    pub sso_only: bool,
    /// Lower case, without duplicates.
    pub domains: &'a [String],
}

/// A sign-in (or join) sent to the provider, as kept until it comes back.
pub struct SsoAttempt<'a> {
    pub state_hash: &'a TokenHash,
    pub org_id: &'a OrganizationId,
    pub browser_hash: &'a TokenHash,
    pub nonce_hash: &'a TokenHash,
    pub pkce_verifier_sealed: &'a str,
    pub invitation_token_hash: Option<&'a TokenHash>,
    pub expires_at: Timestamp,
}

/// What a callback found under its `state`.
#[derive(Debug, Clone)]
pub enum SsoAttemptLookup {
    /// The attempt, taken by the browser it was started in: it cannot be used again.
    Taken(TakenSsoAttempt),
    /// A live attempt of this company started in another browser, and left for that one;
    /// `first` for the first such callback of the attempt (the one that is audited).
    OtherBrowser { org_id: OrganizationId, first: bool },
    /// No live attempt: forged, used or expired.
    Unknown,
}

/// The attempt a callback's `state` names, taken (it cannot be used again).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TakenSsoAttempt {
    pub org_id: OrganizationId,
    pub nonce_hash: String,
    pub pkce_verifier_sealed: String,
    pub invitation_token_hash: Option<String>,
    pub expires_at: i64,
}

/// The user an email address belongs to, as single sign-on needs them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SsoUser {
    pub user_id: UserId,
    pub org_id: OrganizationId,
    pub status: String,
    pub sso_subject: Option<String>,
}

/// The columns of [`SsoProviderRecord`], of `sso_providers p`.
macro_rules! provider_columns {
    () => {
        "p.org_id, p.display_name, p.issuer_url, p.client_id, p.client_secret_sealed, \
         p.sso_only <> 0 AS sso_only"
    };
}

impl Store {
    /// The company's provider and its domains, if it has one.
    pub async fn sso_provider(
        &self,
        org_id: &OrganizationId,
    ) -> Result<Option<(SsoProviderRecord, Vec<String>)>, StoreError> {
        let provider = on_pool!(self, |pool| {
            sqlx::query_as::<_, SsoProviderRecord>(concat!(
                "SELECT ",
                provider_columns!(),
                " FROM sso_providers p WHERE p.org_id = $1"
            ))
            .bind(org_id)
            .fetch_optional(pool)
            .await
        })?;
        let Some(provider) = provider else {
            return Ok(None);
        };
        let domains = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, String>(
                "SELECT domain FROM sso_domains WHERE org_id = $1 ORDER BY domain",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(Some((provider, domains)))
    }

    /// Every provider of the server, up to `limit` (the sign-in page shows a button when there
    /// is exactly one).
    pub async fn sso_providers(&self, limit: i64) -> Result<Vec<SsoProviderRecord>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, SsoProviderRecord>(concat!(
                "SELECT ",
                provider_columns!(),
                " FROM sso_providers p ORDER BY p.org_id LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// The provider that covers an email domain (lower case).
    pub async fn sso_provider_for_domain(
        &self,
        domain: &str,
    ) -> Result<Option<SsoProviderRecord>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, SsoProviderRecord>(concat!(
                "SELECT ",
                provider_columns!(),
                " FROM sso_providers p JOIN sso_domains d ON d.org_id = p.org_id \
                 WHERE d.domain = $1"
            ))
            .bind(domain)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Saves the company's provider and the domains it covers, and records it. A domain another
    /// company covers already is [`StoreError::Duplicate`]`("domain")`.
    pub async fn save_sso_provider(
        &self,
        actor: Actor<'_>,
        provider: &NewSsoProvider<'_>,
        details: &str,
    ) -> Result<(), StoreError> {
        let org_id = actor.scope.id();
        in_transaction!(self, |transaction| {
            sqlx::query(
                "INSERT INTO sso_providers (org_id, display_name, issuer_url, client_id, \
                     client_secret_sealed, sso_only, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (org_id) DO UPDATE SET display_name = $2, issuer_url = $3, \
                     client_id = $4, client_secret_sealed = $5, sso_only = $6, updated_at = $7",
            )
            .bind(org_id)
            .bind(provider.display_name)
            .bind(provider.issuer_url)
            .bind(provider.client_id)
            .bind(provider.client_secret_sealed)
            .bind(i32::from(provider.sso_only))
            .bind(actor.now.unix_millis())
            .execute(&mut *transaction)
            .await?;
            sqlx::query("DELETE FROM sso_domains WHERE org_id = $1")
                .bind(org_id)
                .execute(&mut *transaction)
                .await?;
            for domain in provider.domains {
                sqlx::query("INSERT INTO sso_domains (domain, org_id) VALUES ($1, $2)")
                    .bind(domain)
                    .bind(org_id)
                    .execute(&mut *transaction)
                    .await
                    .map_err(|error| classify(error, &["domain"]))?;
            }
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::SsoConfigured, actor.user_id, details)
            )?;
            Ok::<_, StoreError>(())
        })
    }

    /// Keeps a sign-in sent to the provider; expired ones are deleted on the way.
    pub async fn insert_sso_attempt(
        &self,
        attempt: &SsoAttempt<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("DELETE FROM sso_attempts WHERE expires_at <= $1")
                .bind(now.unix_millis())
                .execute(&mut *transaction)
                .await?;
            sqlx::query(
                "INSERT INTO sso_attempts (state_hash, org_id, browser_hash, nonce_hash, \
                     pkce_verifier_sealed, invitation_token_hash, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(attempt.state_hash.as_str())
            .bind(attempt.org_id)
            .bind(attempt.browser_hash.as_str())
            .bind(attempt.nonce_hash.as_str())
            .bind(attempt.pkce_verifier_sealed)
            .bind(attempt.invitation_token_hash.map(TokenHash::as_str))
            .bind(attempt.expires_at.unix_millis())
            .execute(&mut *transaction)
            .await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Takes the attempt `state` names if `browser_hash` is the browser's it was started in: of
    /// two callbacks with one `state`, one gets it. From another browser a live attempt is left
    /// as it is, so that whoever learns a `state` cannot spoil the sign-in it belongs to, and
    /// marked, so that only the first such callback is audited.
    pub async fn take_sso_attempt(
        &self,
        state_hash: &TokenHash,
        browser_hash: Option<&TokenHash>,
        now: Timestamp,
    ) -> Result<SsoAttemptLookup, StoreError> {
        let taken = match browser_hash {
            Some(browser_hash) => on_writer!(self, |pool| {
                sqlx::query_as::<_, TakenSsoAttempt>(
                    "DELETE FROM sso_attempts WHERE state_hash = $1 AND browser_hash = $2 \
                     RETURNING org_id, nonce_hash, pkce_verifier_sealed, invitation_token_hash, \
                     expires_at",
                )
                .bind(state_hash.as_str())
                .bind(browser_hash.as_str())
                .fetch_optional(pool)
                .await
            })?,
            None => None,
        };
        if let Some(attempt) = taken {
            return Ok(SsoAttemptLookup::Taken(attempt));
        }
        let first: Option<OrganizationId> = on_writer!(self, |pool| {
            sqlx::query_scalar(
                "UPDATE sso_attempts SET other_browser_refused = 1 \
                 WHERE state_hash = $1 AND expires_at > $2 AND other_browser_refused = 0 \
                 RETURNING org_id",
            )
            .bind(state_hash.as_str())
            .bind(now.unix_millis())
            .fetch_optional(pool)
            .await
        })?;
        if let Some(org_id) = first {
            return Ok(SsoAttemptLookup::OtherBrowser {
                org_id,
                first: true,
            });
        }
        let again: Option<OrganizationId> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT org_id FROM sso_attempts WHERE state_hash = $1 AND expires_at > $2",
            )
            .bind(state_hash.as_str())
            .bind(now.unix_millis())
            .fetch_optional(pool)
            .await
        })?;
        Ok(again.map_or(SsoAttemptLookup::Unknown, |org_id| {
            SsoAttemptLookup::OtherBrowser {
                org_id,
                first: false,
            }
        }))
    }

    /// The invitation an attempt to join names (by its token's hash, as stored).
    pub async fn find_invitation_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<InvitationRecord>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, InvitationRecord>(super::invitations::FIND_INVITATION)
                .bind(token_hash)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// The user of a (normalized) email address.
    pub async fn sso_user_by_email(
        &self,
        email_normalized: &str,
    ) -> Result<Option<SsoUser>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, SsoUser>(
                "SELECT id AS user_id, org_id, status, sso_subject FROM users \
                 WHERE email_normalized = $1",
            )
            .bind(email_normalized)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Records a single sign-on, storing the provider's `sub` at the user's first one (only if
    /// none is stored: a different one already there is refused before this).
    pub async fn record_sso_sign_in(
        &self,
        user: &SsoUser,
        subject: &str,
        ip: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("UPDATE users SET sso_subject = $1 WHERE id = $2 AND sso_subject IS NULL")
                .bind(subject)
                .bind(&user.user_id)
                .execute(&mut *transaction)
                .await
                .map_err(|error| classify(error, &["sso_subject"]))?;
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id: &user.org_id,
                    actor_user_id: Some(user.user_id.as_str()),
                    action: AuditAction::SsoSignedIn,
                    target_user_id: Some(user.user_id.as_str()),
                    details: "",
                    ip,
                    at: now,
                }
            )?;
            Ok::<_, StoreError>(())
        })
    }
}
