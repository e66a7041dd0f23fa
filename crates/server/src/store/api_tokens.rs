//! API and SCIM tokens (`api_tokens`, migration 0012): creating and revoking one with its audit
//! event, listing a company's, and finding the token a request presents, with its creator.

use super::audit::insert_audit_event;
use super::user_admin::Actor;
use super::{AuditEvent, Store, StoreError, in_transaction, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{
    ApiTokenId, ApiTokenKind, AuditAction, OrganizationId, PermissionSet, RoleId, Timestamp,
    TokenHash, UserId, UserStatus,
};

/// A token to store: only the hash of its secret.
#[derive(Debug)]
pub struct NewApiToken<'a> {
    pub id: &'a ApiTokenId,
    pub name: &'a str,
    pub kind: ApiTokenKind,
    pub token_hash: &'a TokenHash,
    pub permissions: PermissionSet,
    pub expires_at: Timestamp,
}

/// One row of Setup > API Tokens.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub id: ApiTokenId,
    pub name: String,
    kind: String,
    permissions: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    pub created_by: UserId,
    pub creator_first_name: Option<String>,
    pub creator_last_name: String,
    /// The creator's status now: a token of a creator who is not Active does not work.
    creator_status: String,
}

impl ApiTokenRow {
    pub fn creator_status(&self) -> Result<UserStatus, StoreError> {
        self.creator_status
            .parse()
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }

    pub fn kind(&self) -> Result<ApiTokenKind, StoreError> {
        ApiTokenKind::parse(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("token kind {:?}", self.kind)))
    }

    pub fn permissions(&self) -> Result<PermissionSet, StoreError> {
        PermissionSet::parse_stored(&self.permissions)
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }

    /// "Ada Lovelace", or the last name alone.
    pub fn creator_name(&self) -> String {
        match &self.creator_first_name {
            Some(first) => format!("{first} {}", self.creator_last_name),
            None => self.creator_last_name.clone(),
        }
    }
}

/// The token a request presented, with everything about its creator that acting for them needs,
/// read in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRecord {
    pub token_id: ApiTokenId,
    pub token_name: String,
    kind: String,
    token_permissions: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub user_id: UserId,
    pub org_id: OrganizationId,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    status: String,
    profile_permissions: String,
    pub profile_name: String,
    pub profile_builtin: Option<String>,
    pub role_id: RoleId,
    pub role_name: String,
    pub role_headline: String,
    pub role_introduction: String,
    pub account_name: String,
    pub company_name: String,
    pub time_zone: Option<String>,
    pub company_time_zone: String,
}

impl ApiTokenRecord {
    pub fn kind(&self) -> Result<ApiTokenKind, StoreError> {
        ApiTokenKind::parse(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("token kind {:?}", self.kind)))
    }

    /// The creator's status now.
    pub fn creator_status(&self) -> Result<UserStatus, StoreError> {
        self.status
            .parse()
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }

    /// The permissions chosen for the token.
    pub fn token_permissions(&self) -> Result<PermissionSet, StoreError> {
        PermissionSet::parse_stored(&self.token_permissions)
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }

    /// The permissions of the creator's profile now.
    pub fn creator_permissions(&self) -> Result<PermissionSet, StoreError> {
        PermissionSet::parse_stored(&self.profile_permissions)
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }
}

/// The rows of Setup > API Tokens with their creators (the caller adds WHERE and ORDER BY).
const TOKEN_ROWS: &str = "SELECT t.id, t.name, t.kind, t.permissions, t.created_at, t.expires_at, \
            t.revoked_at, t.last_used_at, t.last_used_ip, t.created_by, \
            u.first_name AS creator_first_name, u.last_name AS creator_last_name, \
            u.status AS creator_status \
       FROM api_tokens t JOIN users u ON u.id = t.created_by AND u.org_id = t.org_id";

/// A token by the hash of its secret, with its creator, their profile, role and organization;
/// runs on every API and SCIM request.
pub const FIND_API_TOKEN: &str = "SELECT t.id AS token_id, t.name AS token_name, t.kind, \
              t.permissions AS token_permissions, t.expires_at, t.revoked_at, t.last_used_at, \
              u.id AS user_id, u.org_id, u.first_name, u.last_name, u.email, u.status, \
              p.permissions AS profile_permissions, p.name AS profile_name, \
              p.builtin AS profile_builtin, u.role_id, r.name AS role_name, \
              r.headline AS role_headline, r.introduction AS role_introduction, \
              o.account_name, o.company_name, u.time_zone, o.time_zone AS company_time_zone \
         FROM api_tokens t \
         JOIN users u ON u.id = t.created_by AND u.org_id = t.org_id \
         JOIN profiles p ON p.id = u.profile_id \
         JOIN roles r ON r.id = u.role_id \
         JOIN organizations o ON o.id = u.org_id \
        WHERE t.token_hash = $1";

impl Store {
    /// Stores a new token made by the actor, and records it.
    pub async fn create_api_token(
        &self,
        actor: Actor<'_>,
        token: &NewApiToken<'_>,
    ) -> Result<(), StoreError> {
        let details = format!("{} token \"{}\"", token.kind.label(), token.name);
        in_transaction!(self, |transaction| {
            sqlx::query(
                "INSERT INTO api_tokens (id, org_id, created_by, name, kind, token_hash, \
                   permissions, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(token.id)
            .bind(actor.scope.id())
            .bind(actor.user_id)
            .bind(token.name)
            .bind(token.kind.as_str())
            .bind(token.token_hash.as_str())
            .bind(token.permissions.to_stored())
            .bind(actor.now.unix_millis())
            .bind(token.expires_at.unix_millis())
            .execute(&mut *transaction)
            .await?;
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::ApiTokenCreated, actor.user_id, &details)
            )?;
            Ok::<_, StoreError>(())
        })
    }

    /// The organization's tokens, newest first, revoked ones included.
    pub async fn api_tokens(
        &self,
        scope: &OrganizationScope,
    ) -> Result<Vec<ApiTokenRow>, StoreError> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, ApiTokenRow>(sqlx::AssertSqlSafe(format!(
                "{TOKEN_ROWS} WHERE t.org_id = $1 ORDER BY t.created_at DESC, t.id DESC"
            )))
            .bind(scope.id())
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// One of the organization's tokens, as its row on Setup > API Tokens reads; `None` for
    /// another organization's or an unknown id.
    pub async fn api_token(
        &self,
        scope: &OrganizationScope,
        id: &ApiTokenId,
    ) -> Result<Option<ApiTokenRow>, StoreError> {
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, ApiTokenRow>(sqlx::AssertSqlSafe(format!(
                "{TOKEN_ROWS} WHERE t.id = $1 AND t.org_id = $2"
            )))
            .bind(id)
            .bind(scope.id())
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// How many of the organization's tokens made by `user_id` are live at `now` (neither
    /// revoked nor expired), for the line on the user's page.
    pub async fn live_api_token_count(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM api_tokens \
                  WHERE created_by = $1 AND org_id = $2 AND revoked_at IS NULL \
                    AND expires_at > $3",
            )
            .bind(user_id)
            .bind(scope.id())
            .bind(now.unix_millis())
            .fetch_one(pool)
            .await
        })?;
        Ok(count)
    }

    /// Revokes one of the organization's tokens and records it. Whether there was such a token
    /// that was not revoked already.
    pub async fn revoke_api_token(
        &self,
        actor: Actor<'_>,
        id: &ApiTokenId,
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |transaction| {
            let name: Option<(String, String)> = sqlx::query_as(
                "UPDATE api_tokens SET revoked_at = $3 \
                  WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL \
                  RETURNING name, kind",
            )
            .bind(id)
            .bind(actor.scope.id())
            .bind(actor.now.unix_millis())
            .fetch_optional(&mut *transaction)
            .await?;
            let Some((name, kind)) = name else {
                return Ok(false);
            };
            let label = ApiTokenKind::parse(&kind).map_or("API", ApiTokenKind::label);
            let details = format!("{label} token \"{name}\"");
            insert_audit_event!(
                &mut *transaction,
                &actor.event(AuditAction::ApiTokenRevoked, actor.user_id, &details)
            )?;
            Ok::<_, StoreError>(true)
        })
    }

    /// The token whose secret hashes to `hash`, revoked and expired ones included (the caller
    /// decides).
    pub async fn find_api_token(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<ApiTokenRecord>, StoreError> {
        let record = on_pool!(self, |pool| {
            sqlx::query_as::<_, ApiTokenRecord>(FIND_API_TOKEN)
                .bind(hash.as_str())
                .fetch_optional(pool)
                .await
        })?;
        Ok(record)
    }

    /// Records one use of a token: its last use and address, and an audit event naming the
    /// request (`details`), in one transaction.
    pub async fn record_api_token_use(
        &self,
        actor: Actor<'_>,
        id: &ApiTokenId,
        details: &str,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2, last_used_ip = $3 WHERE id = $1")
                .bind(id)
                .bind(actor.now.unix_millis())
                .bind(actor.ip)
                .execute(&mut *transaction)
                .await?;
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id: actor.scope.id(),
                    actor_user_id: Some(actor.user_id),
                    action: AuditAction::ApiTokenUsed,
                    target_user_id: None,
                    details,
                    ip: actor.ip,
                    at: actor.now,
                }
            )?;
            Ok::<_, StoreError>(())
        })
    }

    /// Who a token made on the command line acts for: the Active user with this email address
    /// (normalized), or else the company's first Active built-in Administrator; with their
    /// permissions.
    pub async fn token_creator(
        &self,
        scope: &OrganizationScope,
        email_normalized: Option<&str>,
    ) -> Result<Option<(UserId, PermissionSet)>, StoreError> {
        let row: Option<(UserId, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.id, p.permissions FROM users u JOIN profiles p ON p.id = u.profile_id \
                  WHERE u.org_id = $1 AND u.status = 'active' \
                    AND (u.email_normalized = $2 OR ($2 IS NULL AND p.builtin = $3)) \
                  ORDER BY u.created_at, u.id LIMIT 1",
            )
            .bind(scope.id())
            .bind(email_normalized)
            .bind(super::ADMINISTRATOR_PROFILE)
            .fetch_optional(pool)
            .await
        })?;
        row.map(|(id, permissions)| {
            PermissionSet::parse_stored(&permissions)
                .map(|permissions| (id, permissions))
                .map_err(|error| StoreError::Corrupt(format!("{error}")))
        })
        .transpose()
    }
}
