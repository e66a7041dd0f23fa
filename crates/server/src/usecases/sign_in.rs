//! Signing in with a username (or email) and password.

use super::Services;
use super::sessions::{SessionTokens, start_session};
use crate::store::{AuditEvent, ThrottleLimit};
use onestop_domain::{AuditAction, Password, TokenHash, UserStatus};
use std::time::Duration;

/// Attempts per account in a window: enough for typos, far too few for guessing, and the window
/// ends, so an attacker cannot lock the real user out for long.
pub const ACCOUNT_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 10,
    window: Duration::from_secs(15 * 60),
};
/// Failed attempts per client address in a window.
pub const ADDRESS_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 30,
    window: Duration::from_secs(15 * 60),
};

pub struct SignInRequest<'a> {
    pub login: &'a str,
    pub password: &'a str,
    pub ip: &'a str,
    /// The session cookie the browser sent, if any: it is replaced.
    pub previous_session: Option<TokenHash>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// One message for unknown users, wrong passwords, and accounts that cannot sign in.
    #[error("The username or password is incorrect.")]
    InvalidCredentials,
    #[error("Too many sign-in attempts. Try again in {} seconds.", .0.as_secs())]
    TooManyAttempts(Duration),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub async fn sign_in(
    services: &Services,
    request: SignInRequest<'_>,
) -> Result<SessionTokens, SignInError> {
    let login = request.login.trim().to_lowercase();
    let account_key = format!("account:{login}");
    let address_key = format!("address:{}", request.ip);
    let now = services.clock.now();
    if let Some(wait) = services
        .store
        .register_attempt(
            &[(&account_key, ACCOUNT_LIMIT), (&address_key, ADDRESS_LIMIT)],
            now,
        )
        .await
        .map_err(anyhow::Error::from)?
    {
        return Err(SignInError::TooManyAttempts(wait));
    }

    let candidate = services
        .store
        .find_sign_in_candidate(&login)
        .await
        .map_err(anyhow::Error::from)?;
    let password = Password::for_sign_in(request.password);
    let stored_hash = match &candidate {
        Some(user) if user.status().map_err(anyhow::Error::from)? == UserStatus::Active => {
            user.password_hash.as_deref()
        }
        _ => None,
    };
    let verified = match &password {
        Some(password) => services
            .hasher
            .verify(password, stored_hash)
            .await
            .map_err(anyhow::Error::from)?,
        None => false,
    };

    let user = match candidate {
        Some(user) if verified => user,
        unverified => {
            if let Some(user) = unverified {
                services
                    .store
                    .record_audit_event(&AuditEvent {
                        org_id: &user.org_id,
                        actor_user_id: None,
                        action: AuditAction::SignInFailed,
                        target_user_id: Some(&user.user_id),
                        details: "",
                        ip: Some(request.ip),
                        at: now,
                    })
                    .await
                    .map_err(anyhow::Error::from)?;
            }
            tracing::info!(ip = request.ip, "sign-in failed");
            return Err(SignInError::InvalidCredentials);
        }
    };

    let store = &services.store;
    store
        .forgive_attempt(&account_key, true)
        .await
        .map_err(anyhow::Error::from)?;
    store
        .forgive_attempt(&address_key, false)
        .await
        .map_err(anyhow::Error::from)?;
    let tokens = start_session(
        services,
        &user.user_id,
        &user.org_id,
        Some(request.ip),
        request.previous_session.as_ref(),
    )
    .await
    .map_err(anyhow::Error::from)?;
    tracing::info!(user_id = %user.user_id, "signed in");
    Ok(tokens)
}
