//! Signing in with a username (or email) and password.

use super::Services;
use super::sessions::{SecondStep, SessionTokens, start_session};
use crate::store::{AuditEvent, ThrottleKey, ThrottleLimit};
use onestop_domain::{AuditAction, Password, TokenHash, UserStatus};
use std::time::Duration;

/// Attempts per account in a window: enough for typos, far too few for guessing, and the window
/// ends, so an attacker cannot lock the real user out for long.
pub const ACCOUNT_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 10,
    window: Duration::from_secs(15 * 60),
};
/// Attempts per client address in a window; beyond it each attempt from the address is slowed
/// by [`ADDRESS_SLOWDOWN`], never refused: a correct password always signs in (the per-account
/// limit is what refuses), so one noisy neighbour behind the same address locks nobody out.
pub const ADDRESS_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 30,
    window: Duration::from_secs(15 * 60),
};
pub const ADDRESS_SLOWDOWN: Duration = Duration::from_secs(2);
/// The longest login looked up or counted (the longest email address); longer ones cannot match.
pub const MAX_LOGIN_CHARS: usize = 254;

pub struct SignInRequest<'a> {
    pub login: &'a str,
    pub password: &'a str,
    pub ip: &'a str,
    /// The session cookie the browser sent, if any: it is replaced.
    pub previous_session: Option<TokenHash>,
    /// The hash of the browser's "remembered after a second step" cookie, if it sent one.
    pub remembered_browser: Option<TokenHash>,
}

/// A correct password: the new session, complete or still owing its second step.
#[derive(Debug)]
pub struct PasswordAccepted {
    pub tokens: SessionTokens,
    pub second_step: SecondStep,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// One message for unknown users, wrong passwords, and accounts that cannot sign in.
    #[error("The username or password is incorrect.")]
    InvalidCredentials,
    #[error("Too many sign-in attempts. Try again in {} seconds.", .0.as_secs())]
    TooManyAttempts(Duration),
    /// The email's domain signs in only through the company's provider (Setup > Single
    /// Sign-On); the name is the provider's.
    #[error(
        "Your company signs you in with {0}, not with a password. Use \"Sign in with {0}\" below."
    )]
    SingleSignOnOnly(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Every path costs the same: one read for the account, one write transaction counting the
/// attempt, one argon2 verification (a dummy hash for unknown and inactive accounts), and on
/// failure one write transaction; so neither timing nor commits tell known logins from unknown.
pub async fn sign_in(
    services: &Services,
    request: SignInRequest<'_>,
) -> Result<PasswordAccepted, SignInError> {
    // Why the credentials were refused, for the operator's metrics only: the person is told the
    // same for each.
    let mut refusal = "wrong_password";
    let result = attempt_sign_in(services, request, &mut refusal).await;
    crate::metrics::record_sign_in(match &result {
        Ok(_) => "success",
        Err(SignInError::InvalidCredentials) => refusal,
        Err(SignInError::TooManyAttempts(_)) => "throttled",
        Err(SignInError::SingleSignOnOnly(_)) => "single_sign_on_only",
        Err(SignInError::Internal(_)) => "error",
    });
    result
}

async fn attempt_sign_in(
    services: &Services,
    request: SignInRequest<'_>,
    refusal: &mut &'static str,
) -> Result<PasswordAccepted, SignInError> {
    let store = &services.store;
    let login: String = request
        .login
        .trim()
        .chars()
        .take(MAX_LOGIN_CHARS + 1)
        .collect::<String>()
        .to_lowercase();
    let candidate = if login.chars().count() > MAX_LOGIN_CHARS {
        None
    } else {
        store
            .find_sign_in_candidate(&login)
            .await
            .map_err(anyhow::Error::from)?
    };
    // A domain where only single sign-on is allowed for the account's company: said at once,
    // before any password check (the domain's rule is no secret; for a username it tells that
    // the account is there). Unknown logins take the ordinary path.
    if let Some(user) = &candidate
        && let Some(provider) =
            super::sso::sso_only_provider_for(services, &user.org_id, &user.email)
                .await
                .map_err(anyhow::Error::from)?
    {
        return Err(SignInError::SingleSignOnOnly(provider));
    }
    // Known logins count against the user, so username and email share one budget; unknown ones
    // against the hash of what was typed.
    let account_key = match &candidate {
        Some(user) => ThrottleKey::sign_in_account(user.user_id.as_str()),
        None => ThrottleKey::new("sign-in login", &login),
    };
    let address_key = ThrottleKey::new("sign-in address", request.ip);
    let now = services.clock.now();
    let waits = store
        .register_attempt(
            &[(&account_key, ACCOUNT_LIMIT), (&address_key, ADDRESS_LIMIT)],
            now,
        )
        .await
        .map_err(anyhow::Error::from)?;
    if let Some(wait) = waits[0] {
        return Err(SignInError::TooManyAttempts(wait));
    }
    if waits[1].is_some() {
        // Nothing was counted: count the account on its own, then slow down.
        if let Some(wait) = store
            .register_attempt(&[(&account_key, ACCOUNT_LIMIT)], now)
            .await
            .map_err(anyhow::Error::from)?[0]
        {
            return Err(SignInError::TooManyAttempts(wait));
        }
        tracing::info!(
            ip = request.ip,
            "sign-in attempts from this address slowed down"
        );
        tokio::time::sleep(ADDRESS_SLOWDOWN).await;
    }

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

    let active_with_password = stored_hash.is_some();
    let user = match candidate {
        Some(user) if verified => user,
        unverified => {
            *refusal = match (&unverified, active_with_password) {
                (None, _) => "unknown_login",
                (Some(_), false) => "inactive_account",
                (Some(_), true) => "wrong_password",
            };
            let event = unverified.as_ref().map(|user| AuditEvent {
                org_id: &user.org_id,
                actor_user_id: None,
                action: AuditAction::SignInFailed,
                target_user_id: Some(user.user_id.as_str()),
                details: "",
                ip: Some(request.ip),
                at: now,
            });
            store
                .record_failed_sign_in(&account_key, event.as_ref(), now)
                .await
                .map_err(anyhow::Error::from)?;
            tracing::info!(ip = request.ip, "sign-in failed");
            return Err(SignInError::InvalidCredentials);
        }
    };

    store
        .forgive_attempt(&account_key, true)
        .await
        .map_err(anyhow::Error::from)?;
    store
        .forgive_attempt(&address_key, false)
        .await
        .map_err(anyhow::Error::from)?;
    let second_step = if store
        .second_step_owed(
            &user.user_id,
            request.remembered_browser.as_ref().map(TokenHash::as_str),
            now,
        )
        .await
        .map_err(anyhow::Error::from)?
    {
        SecondStep::Owed
    } else {
        SecondStep::Done
    };
    let tokens = start_session(
        services,
        &user.user_id,
        &user.org_id,
        Some(request.ip),
        request.previous_session.as_ref(),
        second_step,
    )
    .await
    .map_err(anyhow::Error::from)?;
    match second_step {
        SecondStep::Owed => {
            tracing::info!(user_id = %user.user_id, "password accepted; second step owed")
        }
        SecondStep::Done | SecondStep::Provider => {
            tracing::info!(user_id = %user.user_id, "signed in")
        }
    }
    Ok(PasswordAccepted {
        tokens,
        second_step,
    })
}
