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
    EmailAddress, FirstName, LastName, PersonalMessage, ProfileId, RoleId, SecretToken,
    TimeZoneName, Timestamp,
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
    /// Optional; see [`PersonalMessage`].
    pub personal_message: String,
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
    grant_options_of(services, &inviter.scope, inviter.grantor()).await
}

/// [`grant_options`] of any grantor: a session's, or the command line's, which acts with the
/// built-in Administrator's rights.
pub async fn grant_options_of(
    services: &Services,
    scope: &OrganizationScope,
    grantor: onestop_domain::Grantor<'_>,
) -> Result<GrantOptions, StoreError> {
    let mut profiles = Vec::new();
    for profile in services.store.profiles(scope).await? {
        if grantor.may_grant_profile(profile.grant()?) {
            profiles.push(profile);
        }
    }
    let roles = services.store.roles(scope).await?;
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

/// The profile that hands over the fewest permissions: the safest suggestion, whatever order
/// the profiles were made in (a fresh clone of Administrator is not it). Among equals, the
/// built-in Standard profile, then the first by name. New User suggests it; an import gives it
/// to rows that name no profile unless the administrator chose another.
pub fn least_powerful(profiles: &[ProfileRow]) -> Option<&ProfileRow> {
    profiles.iter().min_by_key(|profile| {
        let permissions = profile
            .permissions()
            .map_or(usize::MAX, |permissions| permissions.iter().count());
        (
            permissions,
            profile.builtin.as_deref() != Some("standard"),
            profile.name.clone(),
        )
    })
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

/// A New User form that passed every check: what Save writes and Preview email shows.
struct ValidInvite<'a> {
    first_name: FirstName,
    last_name: LastName,
    email: EmailAddress,
    profile_id: ProfileId,
    role_id: RoleId,
    personal_message: Option<PersonalMessage>,
    letter_from: &'a SignedInSession,
}

impl ValidInvite<'_> {
    /// The email, exactly as Save queues it, for a given link and expiry.
    fn email(&self, join_url: String, expires_at: Timestamp) -> InvitationEmail {
        InvitationLetter::from_session(self.letter_from, self.personal_message.as_ref()).email(
            self.first_name.as_option(),
            join_url,
            expires_at,
        )
    }
}

/// Checks every field of New User (the same checks for Save and for Preview email).
async fn validate<'a>(
    services: &Services,
    inviter: &'a SignedInSession,
    input: &InviteInput,
) -> Result<ValidInvite<'a>, InviteError> {
    let mut errors = FieldErrors::default();
    let first_name = errors.check("first_name", FirstName::parse(&input.first_name));
    let last_name = errors.check("last_name", LastName::parse(&input.last_name));
    let email = errors.check("email", EmailAddress::parse(&input.email));
    let personal_message = errors.check(
        "personal_message",
        PersonalMessage::parse(&input.personal_message),
    );
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
    let (
        Some(first_name),
        Some(last_name),
        Some(email),
        Some(profile),
        Some(role),
        Some(personal_message),
        true,
    ) = (
        first_name,
        last_name,
        email,
        profile,
        role,
        personal_message,
        errors.is_empty(),
    )
    else {
        return Err(InviteError::Invalid(errors));
    };
    Ok(ValidInvite {
        first_name,
        last_name,
        email,
        profile_id: profile.id.clone(),
        role_id: role.id.clone(),
        personal_message,
        letter_from: inviter,
    })
}

/// Stands in for the token in a preview: the real link is made only when Save creates the
/// invitation, so a preview never holds a link that works.
pub const PREVIEW_TOKEN: &str = "PREVIEW-ONLY-the-real-link-is-made-on-Save";

/// The email New User's Save would queue for this form, rendered by the same template from the
/// same values, with [`PREVIEW_TOKEN`] in place of the link's token. Writes nothing.
pub async fn preview_invitation(
    services: &Services,
    inviter: &SignedInSession,
    input: &InviteInput,
) -> Result<crate::store::NewEmail, InviteError> {
    let valid = validate(services, inviter, input).await?;
    // What Save would answer: no preview of an email that would not be sent.
    if services.store.email_is_taken(&valid.email).await? {
        let mut errors = FieldErrors::default();
        errors.add("email", EMAIL_TAKEN);
        return Err(InviteError::EmailTaken(errors));
    }
    let lifetime = invitation_lifetime(services, &inviter.scope).await?;
    let expires_at = services.clock.now().plus(lifetime);
    let join_url = format!("{}join/{PREVIEW_TOKEN}", services.public_url);
    Ok(valid
        .email(join_url, expires_at)
        .render(valid.email.as_str())
        .map_err(anyhow::Error::from)?)
}

pub async fn invite_user(
    services: &Services,
    inviter: &SignedInSession,
    input: &InviteInput,
    ip: Option<&str>,
) -> Result<String, InviteError> {
    invite_user_with_external_id(services, inviter, input, None, ip).await
}

/// New User's Save for an identity provider (SCIM), which also names its own id for the user
/// (`externalId`), stored in the same transaction. An `externalId` another user of the company
/// has is refused like a taken email, on the `external_id` field.
pub async fn invite_user_with_external_id(
    services: &Services,
    inviter: &SignedInSession,
    input: &InviteInput,
    external_id: Option<&str>,
    ip: Option<&str>,
) -> Result<String, InviteError> {
    let valid = validate(services, inviter, input).await?;
    let now = services.clock.now();
    let lifetime = invitation_lifetime(services, &inviter.scope).await?;
    let expires_at = now.plus(lifetime);
    let token = SecretToken::generate();
    let message = valid
        .email(join_url(services, &token), expires_at)
        .render(valid.email.as_str())
        .map_err(anyhow::Error::from)?;
    let message = services.seal(message).map_err(anyhow::Error::from)?;
    let new = NewInvitedUser {
        scope: &inviter.scope,
        invited_by: Some(inviter.user_id.as_str()),
        first_name: &valid.first_name,
        last_name: &valid.last_name,
        email: &valid.email,
        profile_id: &valid.profile_id,
        role_id: &valid.role_id,
        token_hash: &token.hash(),
        expires_at,
        message: &message,
        audit_details: personal_message_audit(valid.personal_message.as_ref()),
        ip,
        now,
    };
    match services
        .store
        .create_invited_user_with_external_id(
            &new,
            &invitation_caps(services, inviter),
            external_id,
        )
        .await
    {
        Ok(user_id) => {
            services.outbox_signal.notify_one();
            Ok(user_id)
        }
        Err(InviteStoreError::Store(StoreError::Duplicate("external_id"))) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "external_id",
                "Another user of this company has this externalId already.",
            );
            Err(InviteError::EmailTaken(errors))
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

/// What the audit event of an invitation says about its personal message (not the words).
pub fn personal_message_audit(message: Option<&PersonalMessage>) -> &'static str {
    if message.is_some() {
        "with a personal message"
    } else {
        ""
    }
}

/// What every invitation email of one sending shares (New User, its preview, each Reinvite):
/// the company, the inviter, the company's time zone and the personal message.
pub struct InvitationLetter<'a> {
    pub company_name: &'a str,
    pub account_name: &'a str,
    /// `None` when the invitation comes from the command line.
    pub inviter_name: Option<String>,
    /// The company's zone (Company Details): the expiry is stated in it.
    pub time_zone: &'a TimeZoneName,
    pub personal_message: Option<&'a PersonalMessage>,
}

impl<'a> InvitationLetter<'a> {
    /// From a signed-in administrator of the company.
    pub fn from_session(
        inviter: &'a SignedInSession,
        personal_message: Option<&'a PersonalMessage>,
    ) -> Self {
        Self {
            company_name: &inviter.company_name,
            account_name: &inviter.account_name,
            inviter_name: Some(inviter.full_name()),
            time_zone: &inviter.company_time_zone,
            personal_message,
        }
    }

    /// The email to one invitee.
    pub fn email(
        &self,
        first_name: Option<&str>,
        join_url: String,
        expires_at: Timestamp,
    ) -> InvitationEmail {
        InvitationEmail {
            company_name: self.company_name.to_owned(),
            account_name: self.account_name.to_owned(),
            inviter_name: self.inviter_name.clone(),
            recipient_first_name: first_name.map(str::to_owned),
            join_url,
            expires_at: self.time_zone.format(expires_at),
            personal_message: self.personal_message.cloned(),
        }
    }
}
