//! Starting, resolving and ending sessions.

use super::Services;
use crate::store::{AuditEvent, NewSession, SessionRecord, StoreError};
use crate::tenancy::OrganizationScope;
use onestop_domain::{
    AuditAction, Grantor, OrganizationId, PermissionSet, ProfileGrant, SecretToken, TimeZoneName,
    Timestamp, TokenHash, UserStatus,
};
use onestop_domain::{RoleId, UserId};
use std::time::Duration;

/// A session ends after this long without a request...
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);
/// ...and in any case this long after sign-in (a working day).
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);
/// A session that still owes its second step lasts this long: enough to open the authenticator
/// app, too short to be worth stealing.
pub const PENDING_SECOND_STEP_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How stale `last_seen_at` may get before a request refreshes it (saves a write per request).
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// The secret values of a new session, for the cookie and for forms.
#[derive(Debug)]
pub struct SessionTokens {
    pub session_token: SecretToken,
    pub csrf_token: SecretToken,
}

/// Whether a new session still owes the second step of its sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStep {
    /// The password was checked and the user has a two-step method: the session opens the
    /// second-step page and Sign Out only, for [`PENDING_SECOND_STEP_TIMEOUT`].
    Owed,
    /// The sign-in is complete: the second step was done, the user has no method, or the
    /// sign-in needs none (joining, the first run).
    Done,
    /// The sign-in went through the company's identity provider (single sign-on), which answers
    /// for its own second factor: the session owes neither a second step nor the two-step setup
    /// a profile requires of password sign-ins.
    Provider,
}

/// A live session of an Active user.
#[derive(Debug, Clone)]
pub struct SignedInSession {
    pub id_hash: TokenHash,
    pub csrf_token: String,
    pub user_id: UserId,
    /// The organization this session acts in: the only scope a page can get.
    pub scope: OrganizationScope,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub permissions: PermissionSet,
    pub profile_name: String,
    /// `Some("administrator")` for the built-in Administrator profile.
    pub profile_builtin: Option<String>,
    pub role_id: RoleId,
    pub role_name: String,
    pub role_headline: String,
    pub role_introduction: String,
    pub account_name: String,
    pub company_name: String,
    /// The zone this user reads times in: their own, or else the company's.
    pub time_zone: TimeZoneName,
    /// The company's zone (Company Details), which invitation emails state their expiry in.
    pub company_time_zone: TimeZoneName,
    pub accepted_current_terms: bool,
    /// The password was checked but the second step is still owed: the session counts as not
    /// signed in anywhere but the second-step page and Sign Out.
    pub second_step_pending: bool,
    /// The profile requires two-step verification and the user has no method yet: the session
    /// opens the setup pages (and Sign Out) only, like the Terms gate.
    pub must_enrol_two_step: bool,
}

impl SignedInSession {
    /// "Ada Lovelace", or the last name alone.
    pub fn full_name(&self) -> String {
        match &self.first_name {
            Some(first) => format!("{first} {}", self.last_name),
            None => self.last_name.clone(),
        }
    }

    pub fn is_administrator(&self) -> bool {
        self.profile_builtin.as_deref() == Some(crate::store::ADMINISTRATOR_PROFILE)
    }

    /// This user as a grantor, for the one grant rule ([`onestop_domain::grant`]).
    pub fn grantor(&self) -> Grantor<'_> {
        Grantor {
            profile: ProfileGrant {
                permissions: self.permissions,
                builtin_administrator: self.is_administrator(),
            },
            role_id: &self.role_id,
        }
    }

    /// For "Welcome, {first name}": the first name, or the full name when there is none.
    pub fn greeting_name(&self) -> String {
        self.first_name
            .clone()
            .unwrap_or_else(|| self.last_name.clone())
    }
}

/// Starts a fresh session for a user who has just proved who they are; the session the browser
/// presented before (possibly planted by someone else) is ended.
pub async fn start_session(
    services: &Services,
    user_id: &UserId,
    org_id: &OrganizationId,
    ip: Option<&str>,
    replaced: Option<&TokenHash>,
    second_step: SecondStep,
) -> Result<SessionTokens, StoreError> {
    let tokens = SessionTokens {
        session_token: SecretToken::generate(),
        csrf_token: SecretToken::generate(),
    };
    let now = services.clock.now();
    let pending = second_step == SecondStep::Owed;
    let lifetime = if pending {
        PENDING_SECOND_STEP_TIMEOUT
    } else {
        ABSOLUTE_TIMEOUT
    };
    services
        .store
        .start_session(
            &NewSession {
                id_hash: &tokens.session_token.hash(),
                user_id,
                org_id,
                csrf_token: tokens.csrf_token.expose(),
                now,
                expires_at: now.plus(lifetime),
                ip,
                second_step_pending: pending,
                single_sign_on: second_step == SecondStep::Provider,
            },
            replaced,
        )
        .await?;
    Ok(tokens)
}

/// The session a cookie names, if it is live and its user may sign in. Expired sessions are
/// deleted on sight.
pub async fn resolve_session(
    services: &Services,
    token: &SecretToken,
) -> Result<Option<SignedInSession>, StoreError> {
    let id_hash = token.hash();
    let Some(record) = services.store.find_session(&id_hash).await? else {
        return Ok(None);
    };
    let now = services.clock.now();
    let expired = now >= Timestamp::from_unix_millis(record.expires_at)
        || now >= Timestamp::from_unix_millis(record.last_seen_at).plus(IDLE_TIMEOUT);
    if expired || record.status()? != UserStatus::Active {
        services.store.end_session(&id_hash, None).await?;
        return Ok(None);
    }
    if now >= Timestamp::from_unix_millis(record.last_seen_at).plus(TOUCH_INTERVAL) {
        services.store.touch_session(&id_hash, now).await?;
    }
    into_signed_in(record, id_hash).map(Some)
}

fn into_signed_in(
    record: SessionRecord,
    id_hash: TokenHash,
) -> Result<SignedInSession, StoreError> {
    let company_time_zone =
        TimeZoneName::from_stored(Some(&record.company_time_zone), &TimeZoneName::utc());
    Ok(SignedInSession {
        time_zone: TimeZoneName::from_stored(record.time_zone.as_deref(), &company_time_zone),
        company_time_zone,
        permissions: record.permissions()?,
        id_hash,
        csrf_token: record.csrf_token,
        user_id: record.user_id,
        scope: OrganizationScope::of_session(record.org_id),
        first_name: record.first_name,
        last_name: record.last_name,
        email: record.email,
        profile_name: record.profile_name,
        profile_builtin: record.profile_builtin,
        role_id: record.role_id,
        role_name: record.role_name,
        role_headline: record.role_headline,
        role_introduction: record.role_introduction,
        account_name: record.account_name,
        company_name: record.company_name,
        accepted_current_terms: record.accepted_current_terms > 0,
        second_step_pending: record.second_step_pending != 0,
        must_enrol_two_step: record.require_two_step != 0
            && record.has_two_step_method == 0
            && record.single_sign_on == 0,
    })
}

/// Ends the session and records why (`SignedOut`, or `TermsDeclined`).
pub async fn end_session(
    services: &Services,
    session: &SignedInSession,
    action: AuditAction,
    ip: Option<&str>,
) -> Result<(), StoreError> {
    services
        .store
        .end_session(
            &session.id_hash,
            Some(&AuditEvent {
                org_id: session.scope.id(),
                actor_user_id: Some(session.user_id.as_str()),
                action,
                target_user_id: Some(session.user_id.as_str()),
                details: "",
                ip,
                at: services.clock.now(),
            }),
        )
        .await
}
