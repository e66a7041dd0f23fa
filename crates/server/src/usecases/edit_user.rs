//! Edit User: an administrator changes a user's names, profile and role, and, while they are
//! Unconfirmed, their email (which sends a new invitation). The grant rule decides whom they may
//! edit and what they may assign, as for every other action on users.

use super::invite_user::{InvitationLetter, grant_options, invitation_lifetime};
use super::manage_users::{actor, fresh_invitation, selection_of};
use super::sessions::SignedInSession;
use super::{FieldErrors, Services};
use crate::store::{BulkTarget, StoreError, UserAdminError};
use onestop_domain::{EmailAddress, FirstName, LastName, UserId, UserStatus};

/// The Edit User form as typed.
#[derive(Debug, Clone, Default)]
pub struct EditInput {
    pub first_name: String,
    pub last_name: String,
    /// Only read for Unconfirmed users.
    pub email: String,
    pub profile_id: String,
    pub role_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("not found")]
    NotFound,
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    /// The new email address already belongs to another user: the form, with that message.
    #[error("a user with this email address already exists")]
    EmailTaken(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for EditError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// The user as Edit User shows them, if the administrator may manage them.
pub async fn user_to_edit(
    services: &Services,
    admin: &SignedInSession,
    user_id: &UserId,
) -> Result<BulkTarget, EditError> {
    let (mut targets, _) = selection_of(services, admin, &[user_id.to_string()])
        .await
        .map_err(|error| EditError::Internal(anyhow::anyhow!("{error}")))?;
    targets.pop().ok_or(EditError::NotFound)
}

pub async fn edit_user(
    services: &Services,
    admin: &SignedInSession,
    user_id: &UserId,
    input: &EditInput,
    ip: Option<&str>,
) -> Result<(), EditError> {
    let target = user_to_edit(services, admin, user_id).await?;
    let mut errors = FieldErrors::default();
    let first_name = errors.check("first_name", FirstName::parse(&input.first_name));
    let last_name = errors.check("last_name", LastName::parse(&input.last_name));
    let status = target.status()?;
    let new_email = if status == UserStatus::Unconfirmed {
        errors
            .check("email", EmailAddress::parse(&input.email))
            .filter(|email| email.normalized() != target.email.trim().to_lowercase())
    } else {
        None
    };
    let options = grant_options(services, admin).await?;
    let profile = options.profile(&input.profile_id);
    if profile.is_none() {
        errors.add("profile_id", "Choose a profile from the list.");
    }
    let role = options.role(&input.role_id);
    if role.is_none() {
        errors.add("role_id", "Choose a role from the list.");
    }
    let (Some(first_name), Some(last_name), Some(profile), Some(role), true) =
        (first_name, last_name, profile, role, errors.is_empty())
    else {
        return Err(EditError::Invalid(errors));
    };
    let reinvitation = match &new_email {
        Some(email) => {
            let expires_at = services
                .clock
                .now()
                .plus(invitation_lifetime(services, &admin.scope).await?);
            Some(fresh_invitation(
                services,
                &InvitationLetter::from_session(admin, None),
                &target.id,
                first_name.as_option(),
                email.as_str(),
                expires_at,
            )?)
        }
        None => None,
    };
    let email_change = new_email.as_ref().zip(reinvitation.as_ref());
    match services
        .store
        .update_user(
            actor(services, admin, ip),
            &target.id,
            &first_name,
            &last_name,
            &profile.id,
            &role.id,
            email_change,
        )
        .await
    {
        Ok(()) => {
            if email_change.is_some() {
                services.outbox_signal.notify_one();
            }
            Ok(())
        }
        Err(UserAdminError::LastAdministrator) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "profile_id",
                "This is the last active administrator; make someone else an administrator first.",
            );
            Err(EditError::Invalid(errors))
        }
        Err(UserAdminError::Store(StoreError::Duplicate(_))) => {
            let mut errors = FieldErrors::default();
            errors.add("email", super::invite_user::EMAIL_TAKEN);
            Err(EditError::EmailTaken(errors))
        }
        Err(UserAdminError::Store(error)) => Err(error.into()),
    }
}
