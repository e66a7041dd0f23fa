//! Users: creating active ones, and finding one to sign in.

use super::audit::insert_audit_event;
use super::{AuditEvent, Store, StoreError, in_transaction, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{
    AuditAction, EmailAddress, FirstName, LastName, OrganizationId, Timestamp, UserId, UserStatus,
    Username,
};

/// An Active user with a password, as `org create --admin-username` and the first run make them.
pub struct NewActiveUser<'a> {
    pub first_name: &'a FirstName,
    pub last_name: &'a LastName,
    pub email: &'a EmailAddress,
    pub username: &'a Username,
    /// An argon2id PHC string.
    pub password_hash: String,
}

/// Inserts `$user` (a [`NewActiveUser`]) with the given profile and role; yields its id.
macro_rules! insert_active_user {
    ($executor:expr, $org_id:expr, $profile_id:expr, $role_id:expr, $user:expr, $now:expr) => {{
        let user: &$crate::store::NewActiveUser<'_> = $user;
        let user_id = $crate::store::new_id();
        sqlx::query(
            "INSERT INTO users (id, org_id, first_name, last_name, email, email_normalized, \
             username, username_normalized, password_hash, profile_id, role_id, status, created_at, joined_at, name_search) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $12, $13)",
        )
        .bind(&user_id)
        .bind($org_id)
        .bind(user.first_name.as_option())
        .bind(user.last_name.as_str())
        .bind(user.email.as_str())
        .bind(user.email.normalized())
        .bind(user.username.as_str())
        .bind(user.username.normalized())
        .bind(&user.password_hash)
        .bind($profile_id)
        .bind($role_id)
        .bind($now)
        .bind(onestop_domain::names::search_key(user.first_name, user.last_name))
        .execute($executor)
        .await
        .map(|_| user_id)
    }};
}

pub(crate) use insert_active_user;

/// What sign-in needs to know about the account a login names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignInCandidate {
    pub user_id: UserId,
    pub org_id: OrganizationId,
    status: String,
    pub password_hash: Option<String>,
    /// Its domain may be one where only single sign-on is allowed.
    pub email: String,
}

impl SignInCandidate {
    pub fn status(&self) -> Result<UserStatus, StoreError> {
        self.status
            .parse()
            .map_err(|error| StoreError::Corrupt(format!("{error}")))
    }
}

/// The user signing in with an email, by its normalized form.
pub const SIGN_IN_BY_EMAIL: &str = "SELECT id AS user_id, org_id, status, password_hash, email FROM users WHERE email_normalized = $1";
/// The user signing in with a username, by its normalized form.
pub const SIGN_IN_BY_USERNAME: &str = "SELECT id AS user_id, org_id, status, password_hash, email FROM users WHERE username_normalized = $1";

impl Store {
    /// Finds the user whose username or (when `login` holds an `@`) email is `login`, compared
    /// in normalized form.
    pub async fn find_sign_in_candidate(
        &self,
        login: &str,
    ) -> Result<Option<SignInCandidate>, StoreError> {
        let normalized = login.trim().to_lowercase();
        let sql = if normalized.contains('@') {
            SIGN_IN_BY_EMAIL
        } else {
            SIGN_IN_BY_USERNAME
        };
        let candidate = on_pool!(self, |pool| {
            sqlx::query_as::<_, SignInCandidate>(sql)
                .bind(&normalized)
                .fetch_optional(pool)
                .await
        })?;
        Ok(candidate)
    }

    /// Adds an Active user to an existing organization with one of its built-in profiles and
    /// roles (`"administrator"`/`"standard"`, `"ceo"`/`"manager"`).
    pub async fn add_active_user(
        &self,
        scope: &OrganizationScope,
        builtin_profile: &str,
        builtin_role: &str,
        user: &NewActiveUser<'_>,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        in_transaction!(self, |transaction| {
            let (profile_id,): (String,) =
                sqlx::query_as("SELECT id FROM profiles WHERE org_id = $1 AND builtin = $2")
                    .bind(scope.id())
                    .bind(builtin_profile)
                    .fetch_one(&mut *transaction)
                    .await?;
            let (role_id,): (String,) =
                sqlx::query_as("SELECT id FROM roles WHERE org_id = $1 AND builtin = $2")
                    .bind(scope.id())
                    .bind(builtin_role)
                    .fetch_one(&mut *transaction)
                    .await?;
            let user_id = insert_active_user!(
                &mut *transaction,
                scope.id(),
                &profile_id,
                &role_id,
                user,
                now.unix_millis()
            )
            .map_err(|error| {
                super::classify(error, &["email_normalized", "username_normalized"])
            })?;
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id: scope.id(),
                    actor_user_id: None,
                    action: AuditAction::UserCreated,
                    target_user_id: Some(&user_id),
                    details: "",
                    ip: None,
                    at: now,
                }
            )?;
            Ok::<String, StoreError>(user_id)
        })
    }

    /// Sets a user's status (deactivating also ends every session of the user).
    pub async fn set_user_status(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
        status: UserStatus,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("UPDATE users SET status = $1 WHERE org_id = $2 AND id = $3")
                .bind(status.as_str())
                .bind(scope.id())
                .bind(user_id)
                .execute(&mut *transaction)
                .await?;
            if status != UserStatus::Active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *transaction)
                    .await?;
            }
            Ok::<(), StoreError>(())
        })
    }
}
