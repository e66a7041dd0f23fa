//! API and SCIM tokens: making one (Setup > API Tokens, `onestop api-token create`), revoking one,
//! and finding who a request's token acts for.
//!
//! A token acts for the user who created it, in their company, with the permissions chosen for it
//! **and** still held by its creator: at every use the token's permissions are intersected with
//! the creator's profile as it is now, and a creator who is no longer Active (deactivated, say)
//! makes every token of theirs stop working. Nobody hands a token more than they hold: the
//! permissions offered are the creator's own. Every use is recorded (last use, address, and an
//! audit event naming the request).

use super::sessions::SignedInSession;
use super::{FieldErrors, Services};
use crate::store::{Actor, ApiTokenRecord, ApiTokenRow, NewApiToken, StoreError};
use crate::tenancy::OrganizationScope;
use onestop_domain::{
    ApiTokenId, ApiTokenKind, ApiTokenName, ApiTokenSecret, Permission, PermissionSet,
    TimeZoneName, Timestamp, UserId, UserStatus,
};
use std::time::Duration;

/// The longest a token may live: a year and a day, so a yearly rotation fits.
pub const MAX_LIFETIME_DAYS: u32 = 366;
/// What Setup > API Tokens offers, and the command line's default (90 days).
pub const LIFETIME_CHOICES_DAYS: [u32; 5] = [7, 30, 90, 180, 365];
pub const DEFAULT_LIFETIME_DAYS: u32 = 90;

/// What a SCIM token carries: managing users, and nothing else.
pub fn scim_permissions() -> PermissionSet {
    PermissionSet::empty().with(Permission::ManageUsers)
}

/// Who makes a token: a signed-in user, or the operator naming one of the company's users.
#[derive(Debug, Clone)]
pub struct TokenCreator {
    pub scope: OrganizationScope,
    pub user_id: UserId,
    /// The creator's permissions: the most a token of theirs may carry.
    pub permissions: PermissionSet,
}

impl From<&SignedInSession> for TokenCreator {
    fn from(session: &SignedInSession) -> Self {
        Self {
            scope: session.scope.clone(),
            user_id: session.user_id.clone(),
            permissions: session.permissions,
        }
    }
}

/// The token form as typed (the command line fills it the same way).
#[derive(Debug, Clone, Default)]
pub struct NewTokenInput {
    pub name: String,
    /// "api" or "scim".
    pub kind: String,
    /// Permission keys (`manage_users`...); for an API token, empty means all of the creator's.
    pub permissions: Vec<String>,
    /// Whole days, 1 to [`MAX_LIFETIME_DAYS`].
    pub lifetime_days: String,
}

/// A token just made: the secret is shown once and never again.
#[derive(Debug)]
pub struct CreatedToken {
    pub id: ApiTokenId,
    pub secret: ApiTokenSecret,
    pub kind: ApiTokenKind,
    pub permissions: PermissionSet,
    pub expires_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateTokenError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes a token for `creator`. Fields are checked together and every problem named.
pub async fn create_api_token(
    services: &Services,
    creator: &TokenCreator,
    input: &NewTokenInput,
    ip: Option<&str>,
) -> Result<CreatedToken, CreateTokenError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", ApiTokenName::parse(&input.name));
    let kind = match input.kind.trim() {
        "" | "api" => Some(ApiTokenKind::Api),
        "scim" => Some(ApiTokenKind::Scim),
        _ => {
            errors.add("kind", "Choose API or SCIM.");
            None
        }
    };
    let lifetime = match input.lifetime_days.trim().parse::<u32>() {
        Ok(days) if (1..=MAX_LIFETIME_DAYS).contains(&days) => Some(days),
        _ => {
            errors.add(
                "lifetime_days",
                format!("Enter how many days the token works: 1 to {MAX_LIFETIME_DAYS}."),
            );
            None
        }
    };
    let permissions = kind.and_then(|kind| token_permissions(kind, creator, input, &mut errors));
    let (Some(name), Some(kind), Some(lifetime), Some(permissions)) =
        (name, kind, lifetime, permissions)
    else {
        return Err(CreateTokenError::Invalid(errors));
    };
    let secret = ApiTokenSecret::generate();
    let id = ApiTokenId::from_trusted(uuid::Uuid::now_v7().to_string());
    let now = services.clock.now();
    let expires_at = now.plus(Duration::from_secs(u64::from(lifetime) * 24 * 60 * 60));
    services
        .store
        .create_api_token(
            Actor {
                scope: &creator.scope,
                user_id: creator.user_id.as_str(),
                ip,
                now,
            },
            &NewApiToken {
                id: &id,
                name: name.as_str(),
                kind,
                token_hash: &secret.hash(),
                permissions,
                expires_at,
            },
        )
        .await?;
    Ok(CreatedToken {
        id,
        secret,
        kind,
        permissions,
        expires_at,
    })
}

/// The permissions a new token carries, or the message on the permissions field.
fn token_permissions(
    kind: ApiTokenKind,
    creator: &TokenCreator,
    input: &NewTokenInput,
    errors: &mut FieldErrors,
) -> Option<PermissionSet> {
    if kind == ApiTokenKind::Scim {
        let scim = scim_permissions();
        if !scim.is_subset_of(creator.permissions) {
            errors.add(
                "kind",
                "A SCIM token manages users, and you do not hold Manage Users.",
            );
            return None;
        }
        return Some(scim);
    }
    if input.permissions.is_empty() {
        return if creator.permissions == PermissionSet::empty() {
            errors.add(
                "permissions",
                "You hold no permissions a token could carry.",
            );
            None
        } else {
            Some(creator.permissions)
        };
    }
    let mut chosen = PermissionSet::empty();
    for key in &input.permissions {
        match key.trim().parse::<Permission>() {
            Ok(permission) if creator.permissions.contains(permission) => {
                chosen = chosen.with(permission);
            }
            Ok(permission) => {
                errors.add(
                    "permissions",
                    format!(
                        "You do not hold {}, so a token of yours cannot carry it.",
                        permission.label()
                    ),
                );
                return None;
            }
            Err(_) => {
                let known: Vec<&str> = Permission::ALL.iter().map(|p| p.key()).collect();
                errors.add(
                    "permissions",
                    format!(
                        "Unknown permission {:?}; use one of {}.",
                        key.trim(),
                        known.join(", ")
                    ),
                );
                return None;
            }
        }
    }
    Some(chosen)
}

/// The company's tokens for Setup > API Tokens, newest first.
pub async fn list_api_tokens(
    services: &Services,
    scope: &OrganizationScope,
) -> Result<Vec<ApiTokenRow>, StoreError> {
    services.store.api_tokens(scope).await
}

/// One of the company's tokens (for the page that confirms revoking it); `None` for another
/// company's or an unknown id.
pub async fn api_token(
    services: &Services,
    scope: &OrganizationScope,
    id: &ApiTokenId,
) -> Result<Option<ApiTokenRow>, StoreError> {
    services.store.api_token(scope, id).await
}

/// How many tokens `user_id` made that are neither revoked nor expired.
pub async fn live_api_token_count(
    services: &Services,
    scope: &OrganizationScope,
    user_id: &UserId,
) -> Result<i64, StoreError> {
    services
        .store
        .live_api_token_count(scope, user_id, services.clock.now())
        .await
}

/// Where a token stands, as Setup > API Tokens shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Works until it expires (if its creator is Active).
    Active,
    Expired,
    Revoked,
}

impl TokenState {
    /// Revoked first (whenever it expires), then expired at `now`.
    pub fn of(row: &ApiTokenRow, now: Timestamp) -> Self {
        if row.revoked_at.is_some() {
            Self::Revoked
        } else if now < Timestamp::from_unix_millis(row.expires_at) {
            Self::Active
        } else {
            Self::Expired
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Expired => "Expired",
            Self::Revoked => "Revoked",
        }
    }
}

/// Revokes one of the company's tokens; whether there was a live one.
pub async fn revoke_api_token(
    services: &Services,
    by: &SignedInSession,
    id: &ApiTokenId,
    ip: Option<&str>,
) -> Result<bool, StoreError> {
    services
        .store
        .revoke_api_token(
            Actor {
                scope: &by.scope,
                user_id: by.user_id.as_str(),
                ip,
                now: services.clock.now(),
            },
            id,
        )
        .await
}

/// A request authorized by a token: who it acts as, and which token.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The creator, as a signed-in user whose permissions are the token's (intersected with
    /// the creator's own now): every use case takes this as its actor, so the grant rule and
    /// the company's limits apply to a token exactly as to a person.
    pub actor: SignedInSession,
    pub token_id: ApiTokenId,
    pub token_name: String,
    pub kind: ApiTokenKind,
}

/// Why a presented token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Unknown, revoked, expired, or its creator is no longer Active: one answer for all, so
    /// the answer tells a guesser nothing.
    NotValid,
    /// A valid token of the other kind (a SCIM token on the JSON API, or the reverse).
    WrongKind(ApiTokenKind),
}

/// The caller a token stands for, on the surface `surface`, recording the use (`request`, such
/// as "GET /api/v1/users", goes into the audit event).
pub async fn authenticate(
    services: &Services,
    secret: &ApiTokenSecret,
    surface: ApiTokenKind,
    ip: Option<&str>,
    request: &str,
) -> Result<Result<ApiCaller, TokenRefusal>, StoreError> {
    let Some(record) = services.store.find_api_token(&secret.hash()).await? else {
        return Ok(Err(TokenRefusal::NotValid));
    };
    let now = services.clock.now();
    let live = record.revoked_at.is_none()
        && now < Timestamp::from_unix_millis(record.expires_at)
        && record.creator_status()? == UserStatus::Active;
    if !live {
        return Ok(Err(TokenRefusal::NotValid));
    }
    let kind = record.kind()?;
    if kind != surface {
        return Ok(Err(TokenRefusal::WrongKind(kind)));
    }
    let caller = into_caller(record, secret)?;
    let details = format!(
        "{} token \"{}\": {request}",
        kind.label(),
        caller.token_name
    );
    services
        .store
        .record_api_token_use(
            Actor {
                scope: &caller.actor.scope,
                user_id: caller.actor.user_id.as_str(),
                ip,
                now,
            },
            &caller.token_id,
            &details,
        )
        .await?;
    Ok(Ok(caller))
}

fn into_caller(record: ApiTokenRecord, secret: &ApiTokenSecret) -> Result<ApiCaller, StoreError> {
    let permissions = record
        .token_permissions()?
        .intersection(record.creator_permissions()?);
    let kind = record.kind()?;
    // The built-in Administrator's powers beyond permission bits (granting the Administrator
    // profile, any role) go only with a token that carries every permission.
    let profile_builtin = record
        .profile_builtin
        .clone()
        .filter(|_| permissions == PermissionSet::all());
    let company_time_zone =
        TimeZoneName::from_stored(Some(&record.company_time_zone), &TimeZoneName::utc());
    Ok(ApiCaller {
        actor: SignedInSession {
            time_zone: TimeZoneName::from_stored(record.time_zone.as_deref(), &company_time_zone),
            company_time_zone,
            permissions,
            id_hash: secret.hash(),
            csrf_token: String::new(),
            user_id: record.user_id,
            scope: OrganizationScope::of_api_token(record.org_id),
            first_name: record.first_name,
            last_name: record.last_name,
            email: record.email,
            profile_name: record.profile_name,
            profile_builtin,
            role_id: record.role_id,
            role_name: record.role_name,
            role_headline: record.role_headline,
            role_introduction: record.role_introduction,
            account_name: record.account_name,
            company_name: record.company_name,
            accepted_current_terms: true,
            // A token is not a browser sign-in: the gates of sessions do not apply to it.
            second_step_pending: false,
            must_enrol_two_step: false,
        },
        token_id: record.token_id,
        token_name: record.token_name,
        kind,
    })
}
