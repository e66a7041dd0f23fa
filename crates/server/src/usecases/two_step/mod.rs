//! Two-step verification of one's own account: the methods (authenticator apps here; passkeys
//! beside them), naming and removing them, and the recovery codes. The second step of a sign-in
//! is in [`second_step`].

pub mod recovery_codes;
pub mod second_step;
pub mod totp;

use super::sessions::SignedInSession;
use super::{FieldErrors, Services};
use crate::store::{MethodOwner, NewTotpMethod, RemoveOutcome, StoreError, TwoStepMethodRow};
use onestop_domain::Timestamp;
pub use totp::EnrolmentOffer;

/// The longest name of a method.
pub const MAX_METHOD_NAME_CHARS: usize = 60;
/// What a new authenticator app is called until the user names it.
pub const DEFAULT_TOTP_NAME: &str = "Authenticator app";

/// One method as its owner sees it.
#[derive(Debug, Clone)]
pub struct MethodSummary {
    pub id: String,
    pub name: String,
    /// "Authenticator app" or "Passkey".
    pub kind_label: &'static str,
    pub added: Timestamp,
    pub last_used: Option<Timestamp>,
}

/// Everything the Two-step verification page shows.
#[derive(Debug, Clone)]
pub struct TwoStepOverview {
    pub methods: Vec<MethodSummary>,
    pub unused_recovery_codes: i64,
    /// The profile requires a method: the last one cannot be removed.
    pub required: bool,
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "passkey" => "Passkey",
        _ => "Authenticator app",
    }
}

impl From<TwoStepMethodRow> for MethodSummary {
    fn from(row: TwoStepMethodRow) -> Self {
        Self {
            kind_label: kind_label(&row.kind),
            id: row.id,
            name: row.name,
            added: Timestamp::from_unix_millis(row.created_at),
            last_used: row.last_used_at.map(Timestamp::from_unix_millis),
        }
    }
}

fn owner<'a>(
    services: &Services,
    user: &'a SignedInSession,
    ip: Option<&'a str>,
) -> MethodOwner<'a> {
    MethodOwner {
        org_id: user.scope.id(),
        user_id: &user.user_id,
        ip,
        now: services.clock.now(),
    }
}

pub async fn overview(
    services: &Services,
    user: &SignedInSession,
) -> Result<TwoStepOverview, StoreError> {
    let methods = services.store.two_step_methods(&user.user_id).await?;
    Ok(TwoStepOverview {
        methods: methods.into_iter().map(MethodSummary::from).collect(),
        unused_recovery_codes: services.store.unused_recovery_codes(&user.user_id).await?,
        required: requires_two_step(services, user).await?,
    })
}

/// Whether the user's profile requires two-step verification. The session knows only whether
/// enrolment is owed, so this asks the store.
async fn requires_two_step(
    services: &Services,
    user: &SignedInSession,
) -> Result<bool, StoreError> {
    services
        .store
        .profile_requires_two_step(&user.user_id)
        .await
}

/// The issuer and account name an authenticator app shows for this user.
fn labels(user: &SignedInSession) -> (String, String) {
    (format!("1Stop {}", user.company_name), user.email.clone())
}

#[derive(Debug, thiserror::Error)]
pub enum TwoStepError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    /// The form's sealed secret is not one this server made for this user.
    #[error("the setup form has expired")]
    ExpiredOffer,
    #[error("not found")]
    NotFound,
    #[error("the last method cannot be removed while the profile requires one")]
    LastMethodRequired,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for TwoStepError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// A new secret to show, with its QR code.
pub fn offer_authenticator(
    services: &Services,
    user: &SignedInSession,
) -> Result<EnrolmentOffer, TwoStepError> {
    let (issuer, account) = labels(user);
    totp::offer(&services.sealer, &user.user_id, &issuer, &account)
        .map_err(|error| TwoStepError::Internal(error.into()))
}

/// The offer the form carried, shown again after a wrong code.
pub fn reoffer_authenticator(
    services: &Services,
    user: &SignedInSession,
    sealed: &str,
) -> Result<EnrolmentOffer, TwoStepError> {
    let (issuer, account) = labels(user);
    totp::reoffer(&services.sealer, &user.user_id, sealed, &issuer, &account)
        .ok_or(TwoStepError::ExpiredOffer)
}

/// The confirmation of a new authenticator app.
#[derive(Debug)]
pub struct ConfirmAuthenticator<'a> {
    pub sealed: &'a str,
    pub name: &'a str,
    pub code: &'a str,
}

/// Saves the authenticator app once its code is right. The first method comes with recovery
/// codes: they are returned to be shown once.
pub async fn confirm_authenticator(
    services: &Services,
    user: &SignedInSession,
    form: &ConfirmAuthenticator<'_>,
    ip: Option<&str>,
) -> Result<Option<Vec<String>>, TwoStepError> {
    let base32 = totp::open_offer(&services.sealer, &user.user_id, form.sealed)
        .ok_or(TwoStepError::ExpiredOffer)?;
    let mut errors = FieldErrors::default();
    let name = check_name(&mut errors, form.name);
    let now = services.clock.now();
    let step = match totp::normalize_code(form.code) {
        None => {
            errors.add(
                "code",
                "Enter the 6-digit code your authenticator app shows for 1Stop.",
            );
            None
        }
        Some(code) => {
            let step = totp::matching_step(&base32, &code, now);
            if step.is_none() {
                errors.add(
                    "code",
                    "This code does not match. Check that the app's clock is right, then enter the code it shows now.",
                );
            }
            step
        }
    };
    let (Some(name), Some(step), true) = (name, step, errors.is_empty()) else {
        return Err(TwoStepError::Invalid(errors));
    };
    let sealed_secret = services
        .sealer
        .seal(&base32)
        .map_err(|_| anyhow::anyhow!("the secret could not be sealed"))?;
    // Made every time; the store keeps them only for the user's first method, decided inside
    // its transaction.
    let codes = new_codes()?;
    let hashes = hashes_of(&codes);
    let added = services
        .store
        .add_totp_method(
            owner(services, user, ip),
            &NewTotpMethod {
                name: &name,
                sealed_secret: &sealed_secret,
                confirmed_step: step,
            },
            Some(&hashes),
        )
        .await?;
    tracing::info!(user_id = %user.user_id, "authenticator app added");
    Ok(added.recovery_codes_stored.then_some(codes))
}

fn check_name(errors: &mut FieldErrors, typed: &str) -> Option<String> {
    let name = typed.trim();
    if name.is_empty() {
        errors.add(
            "name",
            "Give it a name you will recognize, for example \u{201c}Phone\u{201d}.",
        );
        None
    } else if name.chars().count() > MAX_METHOD_NAME_CHARS {
        errors.add(
            "name",
            format!("Use at most {MAX_METHOD_NAME_CHARS} characters for the name."),
        );
        None
    } else if name.chars().any(char::is_control) {
        errors.add("name", "Use letters, digits, spaces and punctuation only.");
        None
    } else {
        Some(name.to_owned())
    }
}

/// Ten new recovery codes (as shown); for the first method of any kind.
pub fn new_codes() -> Result<Vec<String>, TwoStepError> {
    recovery_codes::generate()
        .ok_or_else(|| TwoStepError::Internal(anyhow::anyhow!("no randomness for recovery codes")))
}

/// What the store keeps of each code.
pub fn hashes_of(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .filter_map(|code| recovery_codes::normalize(code))
        .map(|code| recovery_codes::hash(&code))
        .collect()
}

pub async fn rename_method(
    services: &Services,
    user: &SignedInSession,
    method_id: &str,
    name: &str,
) -> Result<(), TwoStepError> {
    let mut errors = FieldErrors::default();
    let Some(name) = check_name(&mut errors, name) else {
        return Err(TwoStepError::Invalid(errors));
    };
    if services
        .store
        .rename_two_step_method(&user.user_id, method_id, &name)
        .await?
    {
        Ok(())
    } else {
        Err(TwoStepError::NotFound)
    }
}

pub async fn remove_method(
    services: &Services,
    user: &SignedInSession,
    method_id: &str,
    ip: Option<&str>,
) -> Result<(), TwoStepError> {
    let required = requires_two_step(services, user).await?;
    match services
        .store
        .remove_two_step_method(owner(services, user, ip), method_id, required)
        .await?
    {
        RemoveOutcome::Removed => Ok(()),
        RemoveOutcome::NotFound => Err(TwoStepError::NotFound),
        RemoveOutcome::LastWhileRequired => Err(TwoStepError::LastMethodRequired),
    }
}

/// Ten new recovery codes in place of the old ones, returned to be shown once. Refused (not
/// found) while the user has no method: codes stand in for a method, not for a password.
pub async fn regenerate_recovery_codes(
    services: &Services,
    user: &SignedInSession,
    ip: Option<&str>,
) -> Result<Vec<String>, TwoStepError> {
    if services
        .store
        .two_step_methods(&user.user_id)
        .await?
        .is_empty()
    {
        return Err(TwoStepError::NotFound);
    }
    let codes = new_codes()?;
    services
        .store
        .replace_recovery_codes(owner(services, user, ip), &hashes_of(&codes))
        .await?;
    tracing::info!(user_id = %user.user_id, "recovery codes regenerated");
    Ok(codes)
}
