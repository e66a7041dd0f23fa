//! Company Details: the names in every invitation, how long invitations live, and the company's
//! time zone (its users' default, and the zone invitation emails state their expiry in).

use super::sessions::SignedInSession;
use super::{FieldErrors, Services};
use crate::store::{Actor, StoreError};
use crate::tenancy::OrganizationScope;
use onestop_domain::{AccountName, CompanyName, TimeZoneName};

pub const MIN_LIFETIME_HOURS: i64 = 1;
pub const MAX_LIFETIME_HOURS: i64 = 30 * 24;
const HOUR_MS: i64 = 60 * 60 * 1000;

/// The form as typed; the lifetime is in hours.
#[derive(Debug, Clone, Default)]
pub struct CompanyInput {
    pub company_name: String,
    pub account_name: String,
    pub invitation_lifetime_hours: String,
    /// An IANA name, such as "Asia/Tokyo".
    pub time_zone: String,
    /// "Remember a browser for 30 days after its second step" (off by default).
    pub remember_two_step_browsers: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CompanyError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The current details as the form shows them.
pub async fn company_details(
    services: &Services,
    scope: &OrganizationScope,
) -> Result<CompanyInput, StoreError> {
    let (company_name, account_name, lifetime_ms, time_zone, remember_browsers) =
        services.store.company_details(scope).await?;
    Ok(CompanyInput {
        company_name,
        account_name,
        invitation_lifetime_hours: (lifetime_ms / HOUR_MS).to_string(),
        time_zone,
        remember_two_step_browsers: remember_browsers != 0,
    })
}

pub async fn update_company_details(
    services: &Services,
    admin: &SignedInSession,
    input: &CompanyInput,
    ip: Option<&str>,
) -> Result<(), CompanyError> {
    let mut errors = FieldErrors::default();
    let company_name = errors.check("company_name", CompanyName::parse(&input.company_name));
    let account_name = errors.check("account_name", AccountName::parse(&input.account_name));
    let hours = input
        .invitation_lifetime_hours
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|hours| (MIN_LIFETIME_HOURS..=MAX_LIFETIME_HOURS).contains(hours));
    if hours.is_none() {
        errors.add(
            "invitation_lifetime_hours",
            format!("Enter a whole number of hours from {MIN_LIFETIME_HOURS} to {MAX_LIFETIME_HOURS} (30 days); 168 is 7 days."),
        );
    }
    let time_zone = if input.time_zone.trim().is_empty() {
        // A form without the field (a page from before time zones) leaves the zone as it is.
        let (_, _, _, current, _) = services.store.company_details(&admin.scope).await?;
        Some(TimeZoneName::from_stored(
            Some(&current),
            &TimeZoneName::utc(),
        ))
    } else {
        errors.check("time_zone", TimeZoneName::parse(&input.time_zone))
    };
    let (Some(company_name), Some(account_name), Some(hours), Some(time_zone)) =
        (company_name, account_name, hours, time_zone)
    else {
        return Err(CompanyError::Invalid(errors));
    };
    let actor = Actor {
        scope: &admin.scope,
        user_id: admin.user_id.as_str(),
        ip,
        now: services.clock.now(),
    };
    services
        .store
        .update_company_details(
            actor,
            &company_name,
            &account_name,
            hours * HOUR_MS,
            &time_zone,
            input.remember_two_step_browsers,
        )
        .await?;
    Ok(())
}
