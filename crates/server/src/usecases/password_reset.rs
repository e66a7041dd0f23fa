//! "Forgot password?": a one-hour link by email to Active users only, with the same answer
//! whether or not an account matched, and choosing a new password through it.

use super::{FieldErrors, Services};
use crate::mail::templates::PasswordResetEmail;
use crate::store::{PasswordResetRecord, StoreError, ThrottleKey, ThrottleLimit};
use onestop_domain::{
    OrganizationId, Password, PasswordError, PersonalWords, SecretToken, TimeZoneName, Timestamp,
    UserId, UserStatus,
};
use std::time::Duration;

pub const RESET_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// Reset requests per client address in a window (each may send an email).
pub const REQUEST_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 10,
    window: Duration::from_secs(15 * 60),
};
/// Reset emails per account in a window, from any number of addresses: nobody can flood an inbox
/// or keep replacing the real owner's link.
pub const ACCOUNT_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 3,
    window: Duration::from_secs(60 * 60),
};

/// Sends a reset link if `login` (username or email) names an Active user. Says nothing either
/// way: the caller shows one answer for every case, and runs this in the background so that the
/// time of the answer does not tell whether an account exists.
pub async fn request_password_reset(
    services: &Services,
    login: &str,
    ip: &str,
) -> Result<(), StoreError> {
    let now = services.clock.now();
    let key = ThrottleKey::new("reset request address", ip);
    if services
        .store
        .register_attempt(&[(&key, REQUEST_LIMIT)], now)
        .await?[0]
        .is_some()
    {
        tracing::info!(ip, "password reset requests throttled");
        return Ok(());
    }
    let Some(candidate) = services.store.find_sign_in_candidate(login).await? else {
        return Ok(());
    };
    if candidate.status()? != UserStatus::Active {
        return Ok(());
    }
    // Only single sign-on for this domain: there is no password to reset (the same answer).
    if super::sso::sso_only_provider_for(services, &candidate.org_id, &candidate.email)
        .await?
        .is_some()
    {
        tracing::info!(user_id = %candidate.user_id, "password reset refused: single sign-on only");
        return Ok(());
    }
    if queue_reset_email(services, &candidate.org_id, &candidate.user_id, ip, None).await?
        == ResetEmail::Throttled
    {
        tracing::info!(user_id = %candidate.user_id, "password reset emails for this account throttled");
    }
    Ok(())
}

/// Whether a reset email was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetEmail {
    Queued,
    /// The account has had [`ACCOUNT_LIMIT`] reset emails within its window.
    Throttled,
    /// The user is gone.
    NoSuchUser,
}

/// Queues the one-hour reset link for an Active user (the caller has checked the status),
/// replacing any earlier link, within the per-account limit that "Forgot password?" and
/// administrators share. `administrator`: who sent it from the user's page (id and name), for
/// the audit trail and the email.
pub(crate) async fn queue_reset_email(
    services: &Services,
    org_id: &OrganizationId,
    user_id: &UserId,
    ip: &str,
    administrator: Option<(&UserId, String)>,
) -> Result<ResetEmail, StoreError> {
    let now = services.clock.now();
    let account_key = ThrottleKey::new("reset email account", user_id.as_str());
    if services
        .store
        .register_attempt(&[(&account_key, ACCOUNT_LIMIT)], now)
        .await?[0]
        .is_some()
    {
        return Ok(ResetEmail::Throttled);
    }
    let Some(user) = services.store.user_for_reset_email(user_id).await? else {
        return Ok(ResetEmail::NoSuchUser);
    };
    let token = SecretToken::generate();
    let expires_at = now.plus(RESET_LIFETIME);
    let message = PasswordResetEmail {
        first_name: user.first_name.clone(),
        account_name: user.account_name.clone(),
        username: user.username.clone().unwrap_or_default(),
        reset_url: format!("{}password/reset/{}", services.public_url, token.expose()),
        // In the reader's own zone, like every time they are shown.
        expires_at: TimeZoneName::from_stored(Some(&user.time_zone), &TimeZoneName::utc())
            .format(expires_at),
        sent_by: administrator.as_ref().map(|(_, name)| name.clone()),
    }
    .render(&user.email)
    .map_err(|error| {
        StoreError::Corrupt(format!("the reset email could not be rendered: {error}"))
    })?;
    let message = services
        .seal(message)
        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
    services
        .store
        .create_password_reset(
            org_id,
            user_id,
            &token.hash(),
            expires_at,
            &message,
            ip,
            now,
            administrator.map(|(id, _)| id),
        )
        .await?;
    services.outbox_signal.notify_one();
    Ok(ResetEmail::Queued)
}

/// What a reset link leads to.
#[derive(Debug, Clone)]
pub enum ResetState {
    Live(Box<PasswordResetRecord>),
    Expired,
    /// Used, replaced by a newer link, unknown, or the account is no longer Active.
    NotValid,
}

pub async fn look_up_reset(
    services: &Services,
    token: &SecretToken,
) -> Result<ResetState, StoreError> {
    let Some(record) = services.store.find_password_reset(&token.hash()).await? else {
        return Ok(ResetState::NotValid);
    };
    if record.consumed_at.is_some() || record.user_status != "active" {
        return Ok(ResetState::NotValid);
    }
    if services.clock.now() >= Timestamp::from_unix_millis(record.expires_at) {
        return Ok(ResetState::Expired);
    }
    Ok(ResetState::Live(Box::new(record)))
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error("the link cannot be used")]
    NotLive(ResetState),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Sets the new password (the same policy as joining) and ends every session of the user.
pub async fn reset_password(
    services: &Services,
    token: &SecretToken,
    password: &str,
    confirmation: &str,
    ip: &str,
) -> Result<(), ResetError> {
    let reset = match look_up_reset(services, token).await? {
        ResetState::Live(reset) => reset,
        other => return Err(ResetError::NotLive(other)),
    };
    let local_part = reset.email.split('@').next().unwrap_or_default().to_owned();
    let personal = PersonalWords::default()
        .with("username", reset.username.as_deref().unwrap_or_default())
        .with(
            "first name",
            reset.first_name.as_deref().unwrap_or_default(),
        )
        .with("last name", &reset.last_name)
        .with("email address", &local_part)
        .with("company name", &reset.company_name)
        .with("account name", &reset.account_name);
    let mut errors = FieldErrors::default();
    if let Some(provider) =
        super::sso::sso_only_provider_for(services, &reset.org_id, &reset.email).await?
    {
        errors.add(
            "password",
            format!("Your company signs you in with {provider}, not with a password. Use \"Sign in with {provider}\" on the sign-in page."),
        );
        return Err(ResetError::Invalid(errors));
    }
    let chosen = errors.check("password", Password::choose(password, &personal));
    if chosen.is_some() && Password::for_sign_in(confirmation) != chosen {
        errors.add(
            "password_confirmation",
            PasswordError::ConfirmationMismatch.to_string(),
        );
    }
    let (Some(chosen), true) = (chosen, errors.is_empty()) else {
        return Err(ResetError::Invalid(errors));
    };
    let hash = services
        .hasher
        .hash(&chosen)
        .await
        .map_err(anyhow::Error::from)?;
    if !services
        .store
        .reset_password(&reset, &hash, ip, services.clock.now())
        .await?
    {
        return Err(ResetError::NotLive(ResetState::NotValid));
    }
    super::two_step::second_step::lift_second_step_limits(services, &reset.user_id).await?;
    Ok(())
}
