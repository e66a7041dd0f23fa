//! Server-side sessions, looked up by the SHA-256 of the cookie's token.

use super::audit::insert_audit_event;
use super::{AuditEvent, Store, StoreError, in_transaction, on_pool, on_writer};
use onestop_domain::{
    AuditAction, OrganizationId, PermissionSet, Timestamp, TokenHash, UserStatus,
};
use onestop_domain::{RoleId, UserId};

pub struct NewSession<'a> {
    pub id_hash: &'a TokenHash,
    pub user_id: &'a UserId,
    pub org_id: &'a OrganizationId,
    pub csrf_token: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    pub ip: Option<&'a str>,
    /// The password is checked but the second step is still owed: the session opens the
    /// second-step page and Sign Out only, and the sign-in is recorded once the step is done.
    pub second_step_pending: bool,
    /// Started through the company's identity provider, which answers for the second factor.
    pub single_sign_on: bool,
}

/// A session with everything a page needs about its user, read in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub csrf_token: String,
    pub expires_at: i64,
    pub last_seen_at: i64,
    pub user_id: UserId,
    pub org_id: OrganizationId,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    status: String,
    permissions: String,
    pub profile_name: String,
    pub profile_builtin: Option<String>,
    pub role_id: RoleId,
    pub role_name: String,
    pub role_headline: String,
    pub role_introduction: String,
    pub account_name: String,
    pub company_name: String,
    /// The user's own time zone; `None` follows the company's.
    pub time_zone: Option<String>,
    pub company_time_zone: String,
    /// 1 when the user has accepted the organization's current Terms of Service version.
    pub accepted_current_terms: i64,
    /// 1 while the session still owes the second step of its sign-in.
    pub second_step_pending: i64,
    /// 1 when the user's profile requires two-step verification.
    pub require_two_step: i64,
    /// How many two-step methods the user has set up (a handful at most).
    pub has_two_step_method: i64,
    /// 1 for a session started through single sign-on.
    pub single_sign_on: i64,
}

impl SessionRecord {
    pub fn status(&self) -> Result<UserStatus, StoreError> {
        self.status
            .parse()
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }

    pub fn permissions(&self) -> Result<PermissionSet, StoreError> {
        PermissionSet::parse_stored(&self.permissions)
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }
}

/// A session by the hash of its token, with its user, profile, role and organization; runs on
/// every signed-in request.
pub const FIND_SESSION: &str = "SELECT s.csrf_token, s.expires_at, s.last_seen_at, u.id AS user_id, u.org_id, \
              u.first_name, u.last_name, u.email, u.status, p.permissions, p.name AS profile_name, \
              p.builtin AS profile_builtin, u.role_id, r.name AS role_name, r.headline AS role_headline, r.introduction AS role_introduction, \
              o.account_name, o.company_name, u.time_zone, o.time_zone AS company_time_zone, \
              (SELECT COUNT(*) FROM terms_acceptances a \
                WHERE a.user_id = u.id AND a.terms_version_id = \
                      (SELECT t.id FROM terms_versions t WHERE t.org_id = u.org_id \
                        ORDER BY t.version DESC LIMIT 1)) AS accepted_current_terms, \
              CAST(s.second_step_pending AS BIGINT) AS second_step_pending, \
              CAST(p.require_two_step AS BIGINT) AS require_two_step, \
              (SELECT COUNT(*) FROM two_step_methods m WHERE m.user_id = u.id) AS has_two_step_method, \
              CAST(s.single_sign_on AS BIGINT) AS single_sign_on \
         FROM sessions s \
         JOIN users u ON u.id = s.user_id AND u.org_id = s.org_id \
         JOIN profiles p ON p.id = u.profile_id \
         JOIN roles r ON r.id = u.role_id \
         JOIN organizations o ON o.id = u.org_id \
        WHERE s.id_hash = $1";

/// A new session row (binds: id hash, user, organization, CSRF token, now, expiry, address,
/// second step pending, single sign-on).
pub(super) const INSERT_SESSION: &str = "INSERT INTO sessions (id_hash, user_id, org_id, csrf_token, created_at, expires_at, last_seen_at, ip, second_step_pending, single_sign_on) \
     VALUES ($1, $2, $3, $4, $5, $6, $5, $7, $8, $9)";
/// A completed sign-in on the user's row (binds: now, address, user).
pub(super) const RECORD_SIGN_IN: &str =
    "UPDATE users SET last_sign_in_at = $1, last_sign_in_ip = $2 WHERE id = $3";

impl Store {
    /// Starts a session after a successful sign-in, records the sign-in (unless the second step
    /// is still owed: then its completion records it), and forgets the session that the browser
    /// presented before (`replaced`), if any.
    pub async fn start_session(
        &self,
        new: &NewSession<'_>,
        replaced: Option<&TokenHash>,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            if let Some(replaced) = replaced {
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(replaced.as_str())
                    .execute(&mut *transaction)
                    .await?;
            }
            sqlx::query(INSERT_SESSION)
                .bind(new.id_hash.as_str())
                .bind(new.user_id)
                .bind(new.org_id)
                .bind(new.csrf_token)
                .bind(new.now.unix_millis())
                .bind(new.expires_at.unix_millis())
                .bind(new.ip)
                .bind(i64::from(new.second_step_pending))
                .bind(i64::from(new.single_sign_on))
                .execute(&mut *transaction)
                .await?;
            // An owed second step records the sign-in when it is done (store/two_step.rs).
            if !new.second_step_pending {
                sqlx::query(RECORD_SIGN_IN)
                    .bind(new.now.unix_millis())
                    .bind(new.ip)
                    .bind(new.user_id)
                    .execute(&mut *transaction)
                    .await?;
                insert_audit_event!(
                    &mut *transaction,
                    &AuditEvent {
                        org_id: new.org_id,
                        actor_user_id: Some(new.user_id.as_str()),
                        action: AuditAction::SignedIn,
                        target_user_id: Some(new.user_id.as_str()),
                        details: "",
                        ip: new.ip,
                        at: new.now,
                    }
                )?;
            }
            Ok::<(), StoreError>(())
        })
    }

    pub async fn find_session(
        &self,
        id_hash: &TokenHash,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let record = on_pool!(self, |pool| {
            sqlx::query_as::<_, SessionRecord>(FIND_SESSION)
                .bind(id_hash.as_str())
                .fetch_optional(pool)
                .await
        })?;
        Ok(record)
    }

    /// Marks the session as used now (callers do this at most once a minute).
    pub async fn touch_session(
        &self,
        id_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now.unix_millis())
                .bind(id_hash.as_str())
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Ends one session; `audit` records who signed out and how.
    pub async fn end_session(
        &self,
        id_hash: &TokenHash,
        audit: Option<&AuditEvent<'_>>,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash.as_str())
                .execute(&mut *transaction)
                .await?;
            if let Some(event) = audit {
                insert_audit_event!(&mut *transaction, event)?;
            }
            Ok::<(), StoreError>(())
        })
    }

    /// How many sessions a user has (tests and operators check this).
    pub async fn session_count(&self, user_id: &str) -> Result<i64, StoreError> {
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(pool)
                .await
        })?;
        Ok(count)
    }

    /// Sessions of every organization that expire after `now` and were seen after
    /// `seen_after` (the idle cut-off), not waiting for a second step: for `/metrics`.
    pub async fn live_session_count(
        &self,
        now: Timestamp,
        seen_after: Timestamp,
    ) -> Result<i64, StoreError> {
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM sessions \
                 WHERE expires_at > $1 AND last_seen_at > $2 AND second_step_pending = 0",
            )
            .bind(now.unix_millis())
            .bind(seen_after.unix_millis())
            .fetch_one(pool)
            .await
        })?;
        Ok(count)
    }
}
