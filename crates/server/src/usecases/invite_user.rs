//! Inviting a user: New User's Save. One transaction writes the Unconfirmed user, the invitation
//! (only its token's hash), the email in the outbox and the audit events; the worker sends it.

use super::sessions::SignedInSession;
use super::{FieldErrors, Services};
use crate::mail::templates::InvitationEmail;
use crate::store::{
    CapReached, InvitationCaps, InviteStoreError, NewInvitedUser, ProfileRow, RoleRow, StoreError,
};
use crate::tenancy::OrganizationScope;
use onestop_domain::{
    EmailAddress, FirstName, LastName, ProfileId, RoleId, SecretToken, Timestamp,
};
use std::time::Duration;

/// The New User form as typed.
#[derive(Debug, Default, Clone)]
pub struct InviteInput {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub profile_id: String,
    pub role_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    /// The email address already belongs to a user (perhaps one saved a moment ago by another
    /// administrator): the form, with that message on the email field.
    #[error("a user with this email address already exists")]
    EmailTaken(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What New User and Edit User say when the address is taken.
pub const EMAIL_TAKEN: &str = "A user with this email address already exists; use another address.";

impl From<StoreError> for InviteError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// What this administrator may hand out under the grant rule ([`onestop_domain::grant`]): every
/// path that assigns a profile or role checks against these options.
#[derive(Debug, Clone)]
pub struct GrantOptions {
    pub profiles: Vec<ProfileRow>,
    pub roles: Vec<RoleRow>,
}

impl GrantOptions {
    /// The profile a form named, if it is one this grantor may hand out.
    pub fn profile(&self, typed_id: &str) -> Option<&ProfileRow> {
        let id = ProfileId::parse(typed_id)?;
        self.profiles.iter().find(|profile| profile.id == id)
    }

    /// The role a form named, if it is one this grantor may hand out.
    pub fn role(&self, typed_id: &str) -> Option<&RoleRow> {
        let id = RoleId::parse(typed_id)?;
        self.roles.iter().find(|role| role.id == id)
    }
}

pub async fn grant_options(
    services: &Services,
    inviter: &SignedInSession,
) -> Result<GrantOptions, StoreError> {
    let grantor = inviter.grantor();
    let mut profiles = Vec::new();
    for profile in services.store.profiles(&inviter.scope).await? {
        if grantor.may_grant_profile(profile.grant()?) {
            profiles.push(profile);
        }
    }
    let roles = services.store.roles(&inviter.scope).await?;
    let tree = onestop_domain::RoleTree::new(
        roles
            .iter()
            .map(|role| (role.id.clone(), role.parent_id.clone())),
    );
    let roles = roles
        .into_iter()
        .filter(|role| grantor.may_grant_role(&tree, &role.id))
        .collect();
    Ok(GrantOptions { profiles, roles })
}

/// Invitations one organization may send in an hour, all administrators together.
pub const INVITATIONS_PER_ORGANIZATION_PER_HOUR: i64 = 5000;
/// Invitations one administrator may send in an hour, by default.
pub const INVITATIONS_PER_ADMINISTRATOR_PER_HOUR: i64 = 2000;

/// The hourly caps for invitations sent by `sender` (New User and Reinvite share them); the
/// store counts against them inside the transaction that writes the invitations.
pub fn invitation_caps<'a>(services: &Services, sender: &'a SignedInSession) -> InvitationCaps<'a> {
    InvitationCaps {
        sender_id: sender.user_id.as_str(),
        per_sender: services.reinvite_limits.per_administrator_per_hour,
        per_organization: services.reinvite_limits.per_organization_per_hour,
        since: services.clock.now().minus(Duration::from_secs(60 * 60)),
    }
}

/// Says which hourly cap was reached, and what to do.
pub fn cap_message(services: &Services, cap: CapReached) -> String {
    match cap {
        CapReached::Sender => format!(
            "You have sent {} invitations in the last hour, the most allowed; try again later.",
            services.reinvite_limits.per_administrator_per_hour
        ),
        CapReached::Organization => format!(
            "Your company has sent {} invitations in the last hour, the most allowed; try again later.",
            services.reinvite_limits.per_organization_per_hour
        ),
    }
}

/// How long the organization's invitations live.
pub async fn invitation_lifetime(
    services: &Services,
    scope: &OrganizationScope,
) -> Result<Duration, StoreError> {
    let millis = services.store.invitation_lifetime_ms(scope).await?;
    Ok(Duration::from_millis(u64::try_from(millis).unwrap_or(0)))
}

/// The Join Now link for a token, always from the configured public URL.
pub fn join_url(services: &Services, token: &SecretToken) -> String {
    format!("{}join/{}", services.public_url, token.expose())
}

pub async fn invite_user(
    services: &Services,
    inviter: &SignedInSession,
    input: &InviteInput,
    ip: Option<&str>,
) -> Result<String, InviteError> {
    let mut errors = FieldErrors::default();
    let first_name = errors.check("first_name", FirstName::parse(&input.first_name));
    let last_name = errors.check("last_name", LastName::parse(&input.last_name));
    let email = errors.check("email", EmailAddress::parse(&input.email));
    // Checked against what this inviter may grant, whatever the form offered: a forged form
    // cannot hand out more.
    let options = grant_options(services, inviter).await?;
    let profile = options.profile(&input.profile_id);
    if profile.is_none() {
        errors.add("profile_id", "Choose a profile from the list.");
    }
    let role = options.role(&input.role_id);
    if role.is_none() {
        errors.add("role_id", "Choose a role from the list.");
    }
    let (Some(first_name), Some(last_name), Some(email), Some(profile), Some(role), true) = (
        first_name,
        last_name,
        email,
        profile,
        role,
        errors.is_empty(),
    ) else {
        return Err(InviteError::Invalid(errors));
    };

    let now = services.clock.now();
    let lifetime = invitation_lifetime(services, &inviter.scope).await?;
    let expires_at = now.plus(lifetime);
    let token = SecretToken::generate();
    let message = invitation_email(
        services,
        &inviter.company_name,
        &inviter.account_name,
        Some(inviter.full_name()),
        first_name.as_option(),
        &token,
        expires_at,
    )
    .render(email.as_str())
    .map_err(anyhow::Error::from)?;
    let message = services.seal(message).map_err(anyhow::Error::from)?;
    let new = NewInvitedUser {
        scope: &inviter.scope,
        invited_by: Some(inviter.user_id.as_str()),
        first_name: &first_name,
        last_name: &last_name,
        email: &email,
        profile_id: &profile.id,
        role_id: &role.id,
        token_hash: &token.hash(),
        expires_at,
        message: &message,
        ip,
        now,
    };
    match services
        .store
        .create_invited_user(&new, &invitation_caps(services, inviter))
        .await
    {
        Ok(user_id) => {
            services.outbox_signal.notify_one();
            Ok(user_id)
        }
        Err(InviteStoreError::Store(StoreError::Duplicate(_))) => {
            let mut errors = FieldErrors::default();
            errors.add("email", EMAIL_TAKEN);
            Err(InviteError::EmailTaken(errors))
        }
        Err(InviteStoreError::CapReached(cap)) => {
            let mut errors = FieldErrors::default();
            errors.add("email", cap_message(services, cap));
            Err(InviteError::Invalid(errors))
        }
        Err(InviteStoreError::ForeignProfileOrRole) => {
            let mut errors = FieldErrors::default();
            errors.add("profile_id", "Choose a profile from the list.");
            Err(InviteError::Invalid(errors))
        }
        Err(InviteStoreError::Store(other)) => Err(other.into()),
    }
}

pub fn invitation_email(
    services: &Services,
    company_name: &str,
    account_name: &str,
    inviter_name: Option<String>,
    first_name: Option<&str>,
    token: &SecretToken,
    expires_at: Timestamp,
) -> InvitationEmail {
    InvitationEmail {
        company_name: company_name.to_owned(),
        account_name: account_name.to_owned(),
        inviter_name,
        recipient_first_name: first_name.map(str::to_owned),
        join_url: join_url(services, token),
        expires_at: expires_at.to_string(),
    }
}
