//! Inviting users, finding an invitation by its token's hash, and joining.

use super::LockOrganization;
use super::audit::insert_audit_event;
use super::{
    AuditEvent, SealedEmail, Store, StoreError, classify, in_transaction, on_pool, on_writer,
};
use crate::tenancy::OrganizationScope;
use onestop_domain::{
    AuditAction, EmailAddress, FirstName, InvitationId, LastName, OrganizationId, ProfileId,
    RoleId, TimeZoneName, Timestamp, TokenHash, UserId, Username,
};

/// An Unconfirmed user, their invitation and its email, written together.
pub struct NewInvitedUser<'a> {
    pub scope: &'a OrganizationScope,
    pub invited_by: Option<&'a str>,
    pub first_name: &'a FirstName,
    pub last_name: &'a LastName,
    pub email: &'a EmailAddress,
    pub profile_id: &'a ProfileId,
    pub role_id: &'a RoleId,
    pub token_hash: &'a TokenHash,
    pub expires_at: Timestamp,
    pub message: &'a SealedEmail,
    /// For the "Invitation queued" event ("with a personal message", or empty).
    pub audit_details: &'a str,
    pub ip: Option<&'a str>,
    pub now: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum InviteStoreError {
    /// The profile or role is not one of the organization's.
    #[error("the profile or role does not belong to the organization")]
    ForeignProfileOrRole,
    /// An hourly invitation cap is reached.
    #[error("an hourly invitation cap is reached")]
    CapReached(super::CapReached),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for InviteStoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(classify(error, &["email_normalized"]))
    }
}

/// Inserts the user, the invitation, its email and the audit events on `$transaction`; yields the
/// user's id. Shared by inviting and by `org create` without a username.
macro_rules! insert_invited_user {
    ($transaction:expr, $new:expr) => {{
        let new: &$crate::store::NewInvitedUser<'_> = $new;
        let user_id = $crate::store::new_id();
        let invitation_id = $crate::store::new_id();
        let now = new.now.unix_millis();
        sqlx::query(
            "INSERT INTO users (id, org_id, first_name, last_name, email, email_normalized, profile_id, role_id, \
             status, invited_by, created_at, name_search) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'unconfirmed', $9, $10, $11)",
        )
        .bind(&user_id)
        .bind(new.scope.id())
        .bind(new.first_name.as_option())
        .bind(new.last_name.as_str())
        .bind(new.email.as_str())
        .bind(new.email.normalized())
        .bind(new.profile_id)
        .bind(new.role_id)
        .bind(new.invited_by)
        .bind(now)
        .bind(onestop_domain::names::search_key(new.first_name, new.last_name))
        .execute(&mut *$transaction)
        .await?;
        sqlx::query(
            "INSERT INTO invitations (id, org_id, user_id, token_hash, created_at, expires_at, sent_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&invitation_id)
        .bind(new.scope.id())
        .bind(&user_id)
        .bind(new.token_hash.as_str())
        .bind(now)
        .bind(new.expires_at.unix_millis())
        .bind(new.invited_by)
        .execute(&mut *$transaction)
        .await?;
        $crate::store::outbox::insert_outbox_message!(&mut *$transaction, new.scope.id(), Some(&invitation_id), new.message, new.now)?;
        for action in [onestop_domain::AuditAction::UserCreated, onestop_domain::AuditAction::InvitationQueued] {
            $crate::store::audit::insert_audit_event!(
                &mut *$transaction,
                &$crate::store::AuditEvent {
                    org_id: new.scope.id(),
                    actor_user_id: new.invited_by,
                    action,
                    target_user_id: Some(&user_id),
                    details: if action == onestop_domain::AuditAction::InvitationQueued { new.audit_details } else { "" },
                    ip: new.ip,
                    at: new.now,
                }
            )?;
        }
        user_id
    }};
}
pub(crate) use insert_invited_user;

/// What the join pages need to know about an invitation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRecord {
    pub id: InvitationId,
    pub org_id: OrganizationId,
    pub user_id: UserId,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    pub superseded_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub user_status: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub company_name: String,
    pub account_name: String,
    /// Preselected on the join page when the browser does not say its own.
    pub company_time_zone: String,
    pub inviter_first_name: Option<String>,
    pub inviter_last_name: Option<String>,
}

/// The new account's credentials, chosen on the join page or given by the provider.
pub struct JoinCredentials<'a> {
    pub username: &'a Username,
    pub proof: JoinProof<'a>,
    pub time_zone: &'a TimeZoneName,
}

/// How the new account signs in from now on.
pub enum JoinProof<'a> {
    /// With the password chosen on the join page (its hash).
    Password(String),
    /// Through the company's identity provider, which knows the person by this `sub`; the
    /// account has no password.
    Provider { subject: &'a str },
}

#[derive(Debug, thiserror::Error)]
pub enum JoinStoreError {
    /// Consumed, superseded, revoked, expired, or the user is no longer Unconfirmed.
    #[error("the invitation is no longer live")]
    NotLive,
    #[error("the username is taken")]
    UsernameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for JoinStoreError {
    fn from(error: sqlx::Error) -> Self {
        match classify(error, &["username_normalized", "sso_subject"]) {
            StoreError::Duplicate("username_normalized") => Self::UsernameTaken,
            other => Self::Store(other),
        }
    }
}

/// An invitation by the hash of its token (Join Now), with its user, organization and inviter.
pub const FIND_INVITATION: &str = "SELECT i.id, i.org_id, i.user_id, i.expires_at, i.consumed_at, i.superseded_at, i.revoked_at, \
              u.status AS user_status, u.email, u.first_name, u.last_name, \
              o.company_name, o.account_name, o.time_zone AS company_time_zone, \
              inviter.first_name AS inviter_first_name, inviter.last_name AS inviter_last_name \
         FROM invitations i \
         JOIN users u ON u.id = i.user_id AND u.org_id = i.org_id \
         JOIN organizations o ON o.id = i.org_id \
         LEFT JOIN users inviter ON inviter.id = i.sent_by \
        WHERE i.token_hash = $1";

impl Store {
    pub async fn create_invited_user(
        &self,
        new: &NewInvitedUser<'_>,
        caps: &super::InvitationCaps<'_>,
    ) -> Result<String, InviteStoreError> {
        self.create_invited_user_with_external_id(new, caps, None)
            .await
    }

    /// Like [`Store::create_invited_user`], also storing the identity provider's id for the user
    /// (SCIM `externalId`) in the same transaction; one another user of the organization has is
    /// `Duplicate("external_id")`.
    pub async fn create_invited_user_with_external_id(
        &self,
        new: &NewInvitedUser<'_>,
        caps: &super::InvitationCaps<'_>,
        external_id: Option<&str>,
    ) -> Result<String, InviteStoreError> {
        in_transaction!(self, |transaction| {
            transaction.lock_organization(new.scope.id()).await?;
            let (allowance, binding_cap) =
                super::user_admin::invitation_allowance!(transaction, new.scope.id(), caps);
            if allowance == 0 {
                return Err(InviteStoreError::CapReached(binding_cap));
            }
            let owned: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM profiles WHERE id = $1 AND org_id = $3) \
                      + (SELECT COUNT(*) FROM roles WHERE id = $2 AND org_id = $3)",
            )
            .bind(new.profile_id)
            .bind(new.role_id)
            .bind(new.scope.id())
            .fetch_one(&mut *transaction)
            .await?;
            if owned != 2 {
                return Err(InviteStoreError::ForeignProfileOrRole);
            }
            let user_id = insert_invited_user!(transaction, new);
            if let Some(external_id) = external_id {
                sqlx::query("UPDATE users SET external_id = $1 WHERE id = $2")
                    .bind(external_id)
                    .bind(&user_id)
                    .execute(&mut *transaction)
                    .await
                    .map_err(|error| super::classify(error, &["external_id"]))?;
            }
            Ok(user_id)
        })
    }

    pub async fn find_invitation(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<InvitationRecord>, StoreError> {
        let record = on_pool!(self, |pool| {
            sqlx::query_as::<_, InvitationRecord>(FIND_INVITATION)
                .bind(token_hash.as_str())
                .fetch_optional(pool)
                .await
        })?;
        Ok(record)
    }

    /// Consumes the invitation and activates its user, atomically: of many concurrent attempts
    /// exactly one succeeds. A taken username rolls everything back, so the invitation stays live.
    /// Joining through the provider stores its `sub` and no password, and is audited as such.
    pub async fn join(
        &self,
        invitation: &InvitationRecord,
        credentials: &JoinCredentials<'_>,
        ip: &str,
        now: Timestamp,
    ) -> Result<(), JoinStoreError> {
        in_transaction!(self, |transaction| {
            // The organization lock first, as every change to its users takes it: then join,
            // reinvite and deactivate lock organization, user, invitation in the same order.
            transaction.lock_organization(&invitation.org_id).await?;
            let consumed = sqlx::query(
                "UPDATE invitations SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL \
                    AND superseded_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
            )
            .bind(now.unix_millis())
            .bind(&invitation.id)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if consumed != 1 {
                return Err(JoinStoreError::NotLive);
            }
            let (password_hash, subject, action) = match &credentials.proof {
                JoinProof::Password(hash) => (Some(hash.as_str()), None, AuditAction::Joined),
                JoinProof::Provider { subject } => (None, Some(*subject), AuditAction::SsoJoined),
            };
            let activated = sqlx::query(
                "UPDATE users SET status = 'active', username = $1, username_normalized = $2, password_hash = $3, \
                        sso_subject = $8, joined_at = $4, time_zone = $7 \
                 WHERE id = $5 AND org_id = $6 AND status = 'unconfirmed'",
            )
            .bind(credentials.username.as_str())
            .bind(credentials.username.normalized())
            .bind(password_hash)
            .bind(now.unix_millis())
            .bind(&invitation.user_id)
            .bind(&invitation.org_id)
            .bind(credentials.time_zone.as_str())
            .bind(subject)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if activated != 1 {
                return Err(JoinStoreError::NotLive);
            }
            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id: &invitation.org_id,
                    actor_user_id: Some(invitation.user_id.as_str()),
                    action,
                    target_user_id: Some(invitation.user_id.as_str()),
                    details: "",
                    ip: Some(ip),
                    at: now,
                }
            )?;
            Ok(())
        })
    }

    /// Whether an email address belongs to a user already (Preview email says so before Save;
    /// the unique index is what decides on Save).
    pub async fn email_is_taken(&self, email: &EmailAddress) -> Result<bool, StoreError> {
        let count: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email_normalized = $1")
                .bind(email.normalized())
                .fetch_one(pool)
                .await
        })?;
        Ok(count > 0)
    }

    /// Whether a username is free (for a friendly message before hashing; the unique index is
    /// what actually decides).
    pub async fn username_is_taken(&self, username: &Username) -> Result<bool, StoreError> {
        let count: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username_normalized = $1")
                .bind(username.normalized())
                .fetch_one(pool)
                .await
        })?;
        Ok(count > 0)
    }

    /// Sets when an invitation expires (tests move invitations to their edges with this).
    pub async fn set_invitation_expiry(
        &self,
        invitation_id: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE invitations SET expires_at = $1 WHERE id = $2")
                .bind(expires_at.unix_millis())
                .bind(invitation_id)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}
