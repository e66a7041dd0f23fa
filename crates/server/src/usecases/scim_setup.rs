//! Setup > SCIM provisioning: the default profile and role of users an identity provider creates
//! without naming theirs, chosen under the grant rule.

use super::Services;
use super::invite_user::{GrantOptions, grant_options};
use super::scim::actor;
use super::sessions::SignedInSession;
use crate::store::StoreError;

/// Setup > SCIM provisioning as shown: the defaults for users SCIM creates without naming their
/// profile and role, and what this administrator may choose from.
#[derive(Debug, Clone)]
pub struct ScimSetup {
    /// Stored ids, or the ones used when none is stored (Standard, the highest grantable role).
    pub profile_id: String,
    pub role_id: String,
    pub options: GrantOptions,
}

/// The defaults as Setup > SCIM provisioning shows them.
pub async fn scim_setup(
    services: &Services,
    admin: &SignedInSession,
) -> Result<ScimSetup, StoreError> {
    let options = grant_options(services, admin).await?;
    let (profile, role) = services.store.scim_defaults(&admin.scope).await?;
    let profile_id = match profile {
        Some(id) => id,
        None => options
            .profiles
            .iter()
            .find(|profile| profile.builtin.as_deref() == Some("standard"))
            .map(|profile| profile.id.to_string())
            .unwrap_or_default(),
    };
    let role_id = match role {
        Some(id) => id,
        None => options
            .roles
            .iter()
            .find(|role| {
                role.parent_id
                    .as_ref()
                    .is_none_or(|parent| options.roles.iter().all(|other| &other.id != parent))
            })
            .map(|role| role.id.to_string())
            .unwrap_or_default(),
    };
    Ok(ScimSetup {
        profile_id,
        role_id,
        options,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ScimSetupError {
    #[error("some fields need attention")]
    Invalid(super::FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Saves the defaults: only a profile and role this administrator may grant (the grant rule).
pub async fn save_scim_defaults(
    services: &Services,
    admin: &SignedInSession,
    profile_id: &str,
    role_id: &str,
    ip: Option<&str>,
) -> Result<(), ScimSetupError> {
    let options = grant_options(services, admin).await?;
    let mut errors = super::FieldErrors::default();
    let profile = options.profile(profile_id);
    if profile.is_none() {
        errors.add("profile_id", "Choose a profile from the list.");
    }
    let role = options.role(role_id);
    if role.is_none() {
        errors.add("role_id", "Choose a role from the list.");
    }
    let (Some(profile), Some(role)) = (profile, role) else {
        return Err(ScimSetupError::Invalid(errors));
    };
    let details = format!(
        "SCIM defaults: profile {}, role {}",
        profile.name, role.name
    );
    services
        .store
        .set_scim_defaults(actor(services, admin, ip), &profile.id, &role.id, &details)
        .await?;
    Ok(())
}
