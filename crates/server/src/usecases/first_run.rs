//! The first-run link of a fresh server: a one-time code, printed to the terminal by `serve`,
//! that lets whoever runs the server create the company and its first administrator.

use super::Services;
use crate::store::{StoreError, ThrottleKey, ThrottleLimit};
use onestop_domain::SecretToken;
use std::time::Duration;

/// A code is good for a day; restarting the server prints a new one.
pub const CODE_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Set-up attempts per client address in a window: each valid attempt hashes a password.
pub const ATTEMPT_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 10,
    window: Duration::from_secs(15 * 60),
};

/// When no organization exists yet, makes a one-time code for the first-run link (replacing any
/// older one) and returns it; otherwise `None`.
pub async fn issue_first_run_code(services: &Services) -> Result<Option<SecretToken>, StoreError> {
    if services.store.organization_count().await? > 0 {
        return Ok(None);
    }
    let code = SecretToken::generate();
    services
        .store
        .replace_first_run_code(&code.hash(), services.clock.now())
        .await?;
    Ok(Some(code))
}

/// Why a first-run request is refused before any work is done.
#[derive(Debug, thiserror::Error)]
pub enum FirstRunRefusal {
    /// A company exists: the first run is over for good.
    #[error("the first run is over")]
    CompanyExists,
    /// Unknown, replaced or expired code.
    #[error("the set-up code is not valid")]
    InvalidCode,
    #[error("too many set-up attempts from this address")]
    TooManyAttempts(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks, cheapest first and before any password is hashed, that a first-run request may go on:
/// no company exists, the address is within its limit, and the code is live.
pub async fn admit_first_run(
    services: &Services,
    code: Option<&SecretToken>,
    ip: &str,
) -> Result<SecretToken, FirstRunRefusal> {
    if services.store.organization_count().await? > 0 {
        return Err(FirstRunRefusal::CompanyExists);
    }
    let now = services.clock.now();
    let key = ThrottleKey::new("first-run address", ip);
    if let Some(wait) = services
        .store
        .register_attempt(&[(&key, ATTEMPT_LIMIT)], now)
        .await?[0]
    {
        return Err(FirstRunRefusal::TooManyAttempts(wait));
    }
    let code = code.ok_or(FirstRunRefusal::InvalidCode)?;
    if !services
        .store
        .first_run_code_is_valid(&code.hash(), now.minus(CODE_LIFETIME))
        .await?
    {
        return Err(FirstRunRefusal::InvalidCode);
    }
    Ok(code.clone())
}

/// Whether the link's code may show the set-up form (GET: reads only).
pub async fn first_run_code_is_valid(
    services: &Services,
    code: &SecretToken,
) -> Result<bool, StoreError> {
    let issued_after = services.clock.now().minus(CODE_LIFETIME);
    services
        .store
        .first_run_code_is_valid(&code.hash(), issued_after)
        .await
}
