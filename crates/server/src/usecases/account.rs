//! My Account: a user's own details, and the time zone they read times in.

use super::sessions::SignedInSession;
use super::{FieldErrors, Services};
use crate::store::{Actor, StoreError};
use onestop_domain::TimeZoneName;

/// What My Account shows beyond the session.
#[derive(Debug, Clone)]
pub struct AccountDetails {
    pub username: Option<String>,
    /// Whether the user chose their zone (otherwise they follow the company's).
    pub chose_time_zone: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn actor<'a>(services: &Services, user: &'a SignedInSession, ip: Option<&'a str>) -> Actor<'a> {
    Actor {
        scope: &user.scope,
        user_id: user.user_id.as_str(),
        ip,
        now: services.clock.now(),
    }
}

pub async fn account_details(
    services: &Services,
    user: &SignedInSession,
) -> Result<AccountDetails, StoreError> {
    let row = services.store.account(&actor(services, user, None)).await?;
    Ok(AccountDetails {
        username: row.as_ref().and_then(|row| row.username.clone()),
        chose_time_zone: row.is_some_and(|row| row.time_zone.is_some()),
    })
}

/// Sets the user's own time zone; an unknown zone is a field error and changes nothing.
pub async fn set_own_time_zone(
    services: &Services,
    user: &SignedInSession,
    time_zone: &str,
    ip: Option<&str>,
) -> Result<(), AccountError> {
    let mut errors = FieldErrors::default();
    let Some(time_zone) = errors.check("time_zone", TimeZoneName::parse(time_zone)) else {
        return Err(AccountError::Invalid(errors));
    };
    services
        .store
        .set_own_time_zone(actor(services, user, ip), &time_zone)
        .await?;
    Ok(())
}
