//! Passkeys and security keys (WebAuthn, through webauthn-rs) as a second step: registering one
//! for a signed-in user, and checking one for a user whose sign-in owes its second step.
//!
//! The relying party is the configured public URL: its host is the relying party id, the URL
//! itself the only accepted origin (a passkey is bound to that host for good). Each ceremony's
//! state stays in the database (`webauthn_ceremonies`) under a random id that the browser sends
//! back with its answer; it belongs to one user and one purpose, is taken out when the answer
//! comes (single use), and expires after [`CEREMONY_LIFETIME`].

use super::Services;
use super::two_step;
use crate::store::{CeremonyPurpose, MethodOwner, NewPasskey, StoreError, StoredPasskey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use onestop_domain::UserId;
use std::time::Duration;
use url::Url;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, Webauthn, WebauthnBuilder,
};

/// How long the browser has between asking for a ceremony and answering it.
pub const CEREMONY_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The longest name a user may give a passkey.
pub const NAME_MAX_CHARACTERS: usize = 60;

/// The name shown by the browser and the authenticator for this site.
const RELYING_PARTY_NAME: &str = "1Stop";

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// WebAuthn binds passkeys to a host name; an IP address cannot be a relying party.
    #[error(
        "Passkeys need the server's public URL to name a host, such as https://1stop.example.com (ONESTOP_PUBLIC_URL); this server's is {0}"
    )]
    NoHostName(String),
    #[error(
        "Name: give the passkey a name of 1 to {NAME_MAX_CHARACTERS} characters, such as \"Laptop\" or \"YubiKey\"."
    )]
    Name,
    #[error("The passkey request expired or was already used. Try again.")]
    CeremonyExpired,
    #[error("The browser's answer was not a passkey response. Try again.")]
    MalformedAnswer,
    #[error("This passkey is not one of yours. Use a passkey you added to this account.")]
    NotYours,
    #[error("This passkey is already added.")]
    AlreadyAdded,
    #[error("You have no passkey on this account. Use another way to sign in.")]
    NoPasskeys,
    #[error("The passkey was not accepted. Try again, or use another way.")]
    Refused(#[source] webauthn_rs::prelude::WebauthnError),
    #[error("no randomness for recovery codes")]
    NoRandomness,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the browser needs to run a ceremony: the id to send back with its answer, and the
/// options for `navigator.credentials.create` or `.get` (WebAuthn's JSON, binary as base64url).
#[derive(Debug, serde::Serialize)]
pub struct CeremonyOptions {
    pub ceremony: String,
    #[serde(rename = "publicKey")]
    pub public_key: serde_json::Value,
}

/// Who a passkey is registered for, as the authenticator may show it.
#[derive(Debug, Clone, Copy)]
pub struct PasskeyHolder<'a> {
    pub user_id: &'a UserId,
    /// What identifies the account to the person (their email).
    pub account: &'a str,
    /// Their full name.
    pub display_name: &'a str,
}

/// The passkey a second step was done with.
#[derive(Debug, Clone)]
pub struct PasskeyUsed {
    pub method_id: String,
    pub name: String,
}

/// The relying party of this server, from its public URL.
pub fn relying_party(public_url: &Url) -> Result<Webauthn, PasskeyError> {
    let no_host_name = || PasskeyError::NoHostName(public_url.to_string());
    let host = public_url.domain().ok_or_else(no_host_name)?;
    WebauthnBuilder::new(host, public_url)
        .and_then(|builder| builder.rp_name(RELYING_PARTY_NAME).build())
        .map_err(|_| no_host_name())
}

/// A passkey's name as the user typed it: trimmed, 1 to [`NAME_MAX_CHARACTERS`] characters,
/// no control characters.
pub fn parse_name(typed: &str) -> Result<String, PasskeyError> {
    let name = typed.trim();
    let length = name.chars().count();
    if length == 0 || length > NAME_MAX_CHARACTERS || name.chars().any(char::is_control) {
        return Err(PasskeyError::Name);
    }
    Ok(name.to_owned())
}

/// Starts registering a new passkey for `holder`; their existing passkeys are excluded, so an
/// authenticator that already holds one says so instead of making a second.
pub async fn begin_registration(
    services: &Services,
    holder: PasskeyHolder<'_>,
) -> Result<CeremonyOptions, PasskeyError> {
    let relying_party = relying_party(&services.public_url)?;
    let existing = decoded_passkeys(services.store.passkeys_of(holder.user_id).await?)?;
    let exclude: Vec<_> = existing
        .iter()
        .map(|(_, passkey)| passkey.cred_id().clone())
        .collect();
    let (challenge, state) = relying_party
        .start_passkey_registration(
            user_handle(holder.user_id)?,
            holder.account,
            holder.display_name,
            (!exclude.is_empty()).then_some(exclude),
        )
        .map_err(PasskeyError::Refused)?;
    let ceremony = keep_state(services, holder.user_id, CeremonyPurpose::Register, &state).await?;
    Ok(CeremonyOptions {
        ceremony,
        public_key: to_json(&challenge.public_key)?,
    })
}

/// Finishes registration `ceremony` of `owner` with the browser's answer (`credential_json`,
/// a `PublicKeyCredential` as JSON) and adds the passkey to their methods under `name`,
/// audited. The first method comes with recovery codes: they are returned, to be shown once.
pub async fn finish_registration(
    services: &Services,
    owner: MethodOwner<'_>,
    ceremony: &str,
    name: &str,
    credential_json: &str,
) -> Result<Option<Vec<String>>, PasskeyError> {
    let name = parse_name(name)?;
    let relying_party = relying_party(&services.public_url)?;
    let state: PasskeyRegistration =
        take_state(services, owner.user_id, CeremonyPurpose::Register, ceremony).await?;
    let answer: RegisterPublicKeyCredential =
        serde_json::from_str(credential_json).map_err(|_| PasskeyError::MalformedAnswer)?;
    let passkey = relying_party
        .finish_passkey_registration(&answer, &state)
        .map_err(PasskeyError::Refused)?;
    let passkey_json = to_json_text(&passkey)?;
    let credential_id = URL_SAFE_NO_PAD.encode(passkey.cred_id());
    // Made every time; the store keeps them only for the user's first method.
    let codes = two_step::recovery_codes::generate().ok_or(PasskeyError::NoRandomness)?;
    let hashes = two_step::hashes_of(&codes);
    let added = services
        .store
        .add_passkey(
            owner,
            &NewPasskey {
                name: &name,
                credential_id: &credential_id,
                passkey_json: &passkey_json,
            },
            Some(&hashes),
        )
        .await;
    match added {
        Err(StoreError::Duplicate("credential_id")) => Err(PasskeyError::AlreadyAdded),
        Err(error) => Err(error.into()),
        Ok(added) => {
            tracing::info!(user_id = %owner.user_id, "passkey added");
            Ok(added.recovery_codes_stored.then_some(codes))
        }
    }
}

/// Starts a second step with one of `user_id`'s passkeys (only theirs are offered).
pub async fn begin_authentication(
    services: &Services,
    user_id: &UserId,
) -> Result<CeremonyOptions, PasskeyError> {
    let relying_party = relying_party(&services.public_url)?;
    let passkeys: Vec<Passkey> = decoded_passkeys(services.store.passkeys_of(user_id).await?)?
        .into_iter()
        .map(|(_, passkey)| passkey)
        .collect();
    if passkeys.is_empty() {
        return Err(PasskeyError::NoPasskeys);
    }
    let (challenge, state) = relying_party
        .start_passkey_authentication(&passkeys)
        .map_err(PasskeyError::Refused)?;
    let ceremony = keep_state(services, user_id, CeremonyPurpose::Authenticate, &state).await?;
    Ok(CeremonyOptions {
        ceremony,
        public_key: to_json(&challenge.public_key)?,
    })
}

/// Checks the browser's answer (`credential_json`) to authentication `ceremony` of `user_id`:
/// the credential must be one of their passkeys, its signature valid over this ceremony's
/// challenge, the user verified, and its signature counter must have moved on. Records the use
/// (the counter, `last_used_at`). The caller completes the second step (and audits) on success.
pub async fn finish_authentication(
    services: &Services,
    user_id: &UserId,
    ceremony: &str,
    credential_json: &str,
) -> Result<PasskeyUsed, PasskeyError> {
    let relying_party = relying_party(&services.public_url)?;
    let state: PasskeyAuthentication =
        take_state(services, user_id, CeremonyPurpose::Authenticate, ceremony).await?;
    let answer: PublicKeyCredential =
        serde_json::from_str(credential_json).map_err(|_| PasskeyError::MalformedAnswer)?;
    let passkeys = decoded_passkeys(services.store.passkeys_of(user_id).await?)?;
    let Some((stored, mut passkey)) = passkeys
        .into_iter()
        .find(|(_, passkey)| passkey.cred_id().as_slice() == answer.raw_id.as_slice())
    else {
        return Err(PasskeyError::NotYours);
    };
    let result = relying_party
        .finish_passkey_authentication(&answer, &state)
        .map_err(PasskeyError::Refused)?;
    let updated = match passkey.update_credential(&result) {
        Some(true) => Some(to_json_text(&passkey)?),
        _ => None,
    };
    services
        .store
        .record_passkey_use(
            user_id,
            &stored.id,
            updated.as_deref(),
            services.clock.now(),
        )
        .await?;
    Ok(PasskeyUsed {
        method_id: stored.id,
        name: stored.name,
    })
}

/// The WebAuthn user handle: the user's id (a UUID), so an authenticator never learns more.
fn user_handle(user_id: &UserId) -> Result<Uuid, PasskeyError> {
    Uuid::parse_str(user_id.as_str()).map_err(|_| {
        PasskeyError::Store(StoreError::Corrupt(format!(
            "user id {} is not a UUID",
            user_id.as_str()
        )))
    })
}

async fn keep_state<T: serde::Serialize>(
    services: &Services,
    user_id: &UserId,
    purpose: CeremonyPurpose,
    state: &T,
) -> Result<String, PasskeyError> {
    let now = services.clock.now();
    let ceremony = services
        .store
        .start_webauthn_ceremony(
            user_id,
            purpose,
            &to_json_text(state)?,
            now,
            now.plus(CEREMONY_LIFETIME),
        )
        .await?;
    Ok(ceremony)
}

async fn take_state<T: serde::de::DeserializeOwned>(
    services: &Services,
    user_id: &UserId,
    purpose: CeremonyPurpose,
    ceremony: &str,
) -> Result<T, PasskeyError> {
    let state_json = services
        .store
        .take_webauthn_ceremony(ceremony, user_id, purpose, services.clock.now())
        .await?
        .ok_or(PasskeyError::CeremonyExpired)?;
    serde_json::from_str(&state_json)
        .map_err(|error| StoreError::Corrupt(format!("webauthn ceremony state: {error}")).into())
}

fn decoded_passkeys(
    rows: Vec<StoredPasskey>,
) -> Result<Vec<(StoredPasskey, Passkey)>, PasskeyError> {
    rows.into_iter()
        .map(|row| {
            let passkey = serde_json::from_str(&row.passkey_json)
                .map_err(|error| StoreError::Corrupt(format!("passkey {}: {error}", row.id)))?;
            Ok((row, passkey))
        })
        .collect()
}

fn to_json(value: &impl serde::Serialize) -> Result<serde_json::Value, PasskeyError> {
    serde_json::to_value(value)
        .map_err(|error| StoreError::Corrupt(format!("webauthn JSON: {error}")).into())
}

fn to_json_text(value: &impl serde::Serialize) -> Result<String, PasskeyError> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::Corrupt(format!("webauthn JSON: {error}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_host_of_the_public_url() {
        let url = Url::parse("http://localhost:8080/").unwrap();
        assert!(relying_party(&url).is_ok());
        let url = Url::parse("https://1stop.example.com/").unwrap();
        assert!(relying_party(&url).is_ok());
    }

    #[test]
    fn an_ip_address_cannot_be_a_relying_party() {
        let url = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert!(matches!(
            relying_party(&url),
            Err(PasskeyError::NoHostName(_))
        ));
    }

    #[test]
    fn a_name_is_trimmed_and_bounded() {
        assert_eq!(parse_name("  YubiKey ").unwrap(), "YubiKey");
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"x".repeat(61)).is_err());
        assert!(parse_name("a\u{7}b").is_err());
    }
}
