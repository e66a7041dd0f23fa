//! Setup > Profiles: clone, edit and delete custom profiles. A user may put into a profile only
//! permissions they hold themselves.

use super::sessions::SignedInSession;
use super::{FieldErrors, Services};
use crate::store::{Actor, ProfileStoreError, StoreError};
use onestop_domain::ProfileId;
use onestop_domain::{Permission, PermissionSet};

/// The profile form as typed: permission keys that were ticked.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    /// "Require two-step verification".
    pub require_two_step: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error("not found or built in")]
    NotEditable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

const MAX_NAME: usize = 60;
const MAX_DESCRIPTION: usize = 300;

fn parse(
    input: &ProfileInput,
    holder: PermissionSet,
) -> Result<(String, String, PermissionSet), FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim();
    if name.is_empty() {
        errors.add("name", "Enter the profile name.");
    } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        errors.add(
            "name",
            format!("Use at most {MAX_NAME} characters, on one line."),
        );
    }
    let description = input.description.trim();
    if description.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "description",
            format!("Use at most {MAX_DESCRIPTION} characters."),
        );
    }
    let mut permissions = PermissionSet::empty();
    for key in &input.permissions {
        match key.parse::<Permission>() {
            Ok(permission) if holder.contains(permission) => {
                permissions = permissions.with(permission)
            }
            Ok(permission) => errors.add(
                "permissions",
                format!(
                    "You cannot grant \"{}\": your own profile does not have it.",
                    permission.label()
                ),
            ),
            Err(_) => errors.add("permissions", "Choose permissions from the list."),
        }
    }
    if errors.is_empty() {
        Ok((name.to_owned(), description.to_owned(), permissions))
    } else {
        Err(errors)
    }
}

/// A profile may be changed or deleted only by someone who holds every permission it has: others
/// could otherwise strip permissions they cannot even see.
async fn editable(
    services: &Services,
    user: &SignedInSession,
    profile_id: &ProfileId,
) -> Result<(), ProfileError> {
    let profile = services
        .store
        .profile(&user.scope, profile_id)
        .await?
        .ok_or(ProfileError::NotEditable)?;
    if profile.builtin.is_some() || !profile.permissions()?.is_subset_of(user.permissions) {
        return Err(ProfileError::NotEditable);
    }
    Ok(())
}

fn actor<'a>(services: &Services, user: &'a SignedInSession, ip: Option<&'a str>) -> Actor<'a> {
    Actor {
        scope: &user.scope,
        user_id: user.user_id.as_str(),
        ip,
        now: services.clock.now(),
    }
}

fn name_taken() -> ProfileError {
    let mut errors = FieldErrors::default();
    errors.add(
        "name",
        "A profile with this name already exists; choose another name.",
    );
    ProfileError::Invalid(errors)
}

fn from_store(error: ProfileStoreError) -> ProfileError {
    match error {
        ProfileStoreError::NameTaken => name_taken(),
        ProfileStoreError::NotEditable => ProfileError::NotEditable,
        ProfileStoreError::Store(error) => ProfileError::Store(error),
    }
}

pub async fn create_profile(
    services: &Services,
    user: &SignedInSession,
    input: &ProfileInput,
    ip: Option<&str>,
) -> Result<String, ProfileError> {
    let (name, description, permissions) =
        parse(input, user.permissions).map_err(ProfileError::Invalid)?;
    services
        .store
        .create_profile(
            actor(services, user, ip),
            &name,
            &description,
            permissions,
            input.require_two_step,
        )
        .await
        .map_err(from_store)
}

pub async fn update_profile(
    services: &Services,
    user: &SignedInSession,
    profile_id: &ProfileId,
    input: &ProfileInput,
    ip: Option<&str>,
) -> Result<(), ProfileError> {
    editable(services, user, profile_id).await?;
    let (name, description, permissions) =
        parse(input, user.permissions).map_err(ProfileError::Invalid)?;
    services
        .store
        .update_profile(
            actor(services, user, ip),
            profile_id,
            &name,
            &description,
            permissions,
            input.require_two_step,
        )
        .await
        .map_err(from_store)
}

/// "Require two-step verification" on its own: the one change the built-in profiles accept, so
/// that the Administrator profile can require it too. Whoever may change a custom profile may do
/// this; for a built-in one, whoever holds all its permissions.
pub async fn set_profile_two_step(
    services: &Services,
    user: &SignedInSession,
    profile_id: &ProfileId,
    require_two_step: bool,
    ip: Option<&str>,
) -> Result<String, ProfileError> {
    let profile = services
        .store
        .profile(&user.scope, profile_id)
        .await?
        .ok_or(ProfileError::NotEditable)?;
    if !profile.permissions()?.is_subset_of(user.permissions) {
        return Err(ProfileError::NotEditable);
    }
    services
        .store
        .set_profile_two_step(actor(services, user, ip), profile_id, require_two_step)
        .await
        .map_err(from_store)?;
    Ok(profile.name)
}

pub async fn delete_profile(
    services: &Services,
    user: &SignedInSession,
    profile_id: &ProfileId,
    move_to: &str,
    ip: Option<&str>,
) -> Result<(), ProfileError> {
    editable(services, user, profile_id).await?;
    // Moving people onto a profile with more than the deleter holds would be a grant.
    let move_to = ProfileId::parse(move_to).ok_or(ProfileError::NotEditable)?;
    let target = services
        .store
        .profile(&user.scope, &move_to)
        .await?
        .ok_or(ProfileError::NotEditable)?;
    if !user.grantor().may_grant_profile(target.grant()?) {
        let mut errors = FieldErrors::default();
        errors.add(
            "move_to",
            "You cannot move users to a profile you may not grant: it has permissions you do not have, or it is the built-in Administrator profile.",
        );
        return Err(ProfileError::Invalid(errors));
    }
    services
        .store
        .delete_profile(actor(services, user, ip), profile_id, &move_to)
        .await
        .map_err(from_store)
}
