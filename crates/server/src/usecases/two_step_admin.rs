//! Two-step verification from the administrator's side: what a user has set up (never a secret),
//! and "Reset two-step verification". The grant rule decides who may reset whom, as for every
//! other action on a user's page; an administrator resets their own methods on My Account, not
//! here.

use super::Services;
use super::edit_user::user_to_edit;
use super::sessions::SignedInSession;
use super::user_account::UserAccountError;
use crate::store::{Actor, StoreError, TwoStepMethodSummary, TwoStepResetCounts};
use onestop_domain::{ProfileId, UserId};

/// The "Two-step verification" section of a user's page.
#[derive(Debug, Clone)]
pub struct TwoStepStatus {
    pub methods: Vec<TwoStepMethodSummary>,
    pub unused_recovery_codes: i64,
    /// Their profile has "Require two-step verification".
    pub required_by_profile: bool,
}

/// What `user_id` has set up. `profile_id` is their profile's, as their record names it.
pub async fn two_step_status(
    services: &Services,
    admin: &SignedInSession,
    user_id: &UserId,
    profile_id: &str,
) -> Result<TwoStepStatus, StoreError> {
    let store = &services.store;
    let required_by_profile = match ProfileId::parse(profile_id) {
        Some(profile_id) => store
            .profile(&admin.scope, &profile_id)
            .await?
            .is_some_and(|profile| profile.requires_two_step()),
        None => false,
    };
    Ok(TwoStepStatus {
        methods: store.two_step_methods_of(&admin.scope, user_id).await?,
        unused_recovery_codes: store
            .unused_recovery_codes_of(&admin.scope, user_id)
            .await?,
        required_by_profile,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ResetTwoStepError {
    /// Not a user of the company, or one the administrator may not manage (as on Edit User).
    #[error("not found")]
    NotFound,
    /// Their own methods are managed on My Account, where they prove who they are.
    #[error("You cannot reset your own two-step verification here; use My Account.")]
    OwnAccount,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<UserAccountError> for ResetTwoStepError {
    fn from(error: UserAccountError) -> Self {
        match error {
            UserAccountError::NotFound => Self::NotFound,
            UserAccountError::Store(error) => Self::Store(error),
            UserAccountError::Internal(error) => Self::Internal(error),
        }
    }
}

/// Who was reset, and what it removed.
#[derive(Debug, Clone)]
pub struct TwoStepResetDone {
    pub name: String,
    pub counts: TwoStepResetCounts,
}

/// Removes every method, recovery code, remembered browser and WebAuthn ceremony of the user and
/// ends all their sessions, so that they sign in again and, when their profile requires it, set
/// up a method again. Audited (`two_step_reset`), in one transaction.
pub async fn reset_two_step(
    services: &Services,
    admin: &SignedInSession,
    user_id: &UserId,
    ip: &str,
) -> Result<TwoStepResetDone, ResetTwoStepError> {
    let target = user_to_edit(services, admin, user_id)
        .await
        .map_err(UserAccountError::from)?;
    if target.id == admin.user_id {
        return Err(ResetTwoStepError::OwnAccount);
    }
    let actor = Actor {
        scope: &admin.scope,
        user_id: admin.user_id.as_str(),
        ip: Some(ip),
        now: services.clock.now(),
    };
    let counts = services.store.reset_two_step(actor, &target.id).await?;
    super::two_step::second_step::lift_second_step_limits(services, target.id.as_str()).await?;
    Ok(TwoStepResetDone {
        name: target.full_name(),
        counts,
    })
}
