//! Setup > Single Sign-On: the company's OpenID Connect provider, checked by reading its
//! discovery document before it is saved.

use super::sessions::SignedInSession;
use super::sso_client::{discover, http_client, issuer_is_allowed};
use super::{FieldErrors, Services};
use crate::store::{Actor, NewSsoProvider, StoreError};
use url::Url;

/// The longest provider name, client id and issuer URL accepted.
const MAX_NAME_CHARS: usize = 100;
const MAX_VALUE_CHARS: usize = 2000;

/// The provider as Setup > Single Sign-On shows it (never the secret).
#[derive(Debug, Clone, Default)]
pub struct SsoSettings {
    pub display_name: String,
    pub issuer_url: String,
    pub client_id: String,
    /// Whether a secret is stored ("leave empty to keep").
    pub has_secret: bool,
    /// One per line.
    pub domains: String,
    pub sso_only: bool,
}

/// The form as typed.
#[derive(Debug, Clone, Default)]
pub struct SsoSettingsInput {
    pub display_name: String,
    pub issuer_url: String,
    pub client_id: String,
    /// Empty: keep the stored one.
    pub client_secret: String,
    /// Separated by commas, spaces or lines.
    pub domains: String,
    pub sso_only: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SsoSetupError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for SsoSetupError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

pub async fn sso_settings(
    services: &Services,
    admin: &SignedInSession,
) -> Result<SsoSettings, StoreError> {
    Ok(match services.store.sso_provider(admin.scope.id()).await? {
        Some((provider, domains)) => SsoSettings {
            display_name: provider.display_name,
            issuer_url: provider.issuer_url,
            client_id: provider.client_id,
            has_secret: true,
            domains: domains.join("\n"),
            sso_only: provider.sso_only,
        },
        None => SsoSettings::default(),
    })
}

/// Checks the form, reads the provider's discovery document, seals the secret, and saves.
pub async fn save_sso_settings(
    services: &Services,
    admin: &SignedInSession,
    input: &SsoSettingsInput,
    ip: Option<&str>,
) -> Result<(), SsoSetupError> {
    let stored = services.store.sso_provider(admin.scope.id()).await?;
    let mut errors = FieldErrors::default();
    let display_name = input.display_name.trim();
    if display_name.is_empty() {
        errors.add(
            "display_name",
            "Enter the provider's name, as people know it (for example Google Workspace).",
        );
    } else if display_name.chars().count() > MAX_NAME_CHARS {
        errors.add(
            "display_name",
            format!("Shorten the name to {MAX_NAME_CHARS} characters or fewer."),
        );
    }
    let issuer_text = input.issuer_url.trim();
    let issuer = if issuer_text.is_empty() {
        errors.add(
            "issuer_url",
            "Enter the provider's issuer URL (for example https://accounts.google.com).",
        );
        None
    } else if issuer_text.chars().count() > MAX_VALUE_CHARS {
        errors.add("issuer_url", "Shorten the issuer URL.");
        None
    } else {
        match Url::parse(issuer_text) {
            Ok(url) if issuer_is_allowed(&url) => Some(url),
            Ok(_) => {
                errors.add(
                    "issuer_url",
                    "Use an https:// issuer URL (http:// only on this computer: localhost, 127.0.0.1 or ::1).",
                );
                None
            }
            Err(_) => {
                errors.add(
                    "issuer_url",
                    "Enter a full URL, starting with https:// (for example https://accounts.google.com).",
                );
                None
            }
        }
    };
    let client_id = input.client_id.trim();
    if client_id.is_empty() {
        errors.add(
            "client_id",
            "Enter the client id the provider gave this application.",
        );
    } else if client_id.chars().count() > MAX_VALUE_CHARS {
        errors.add("client_id", "Shorten the client id.");
    }
    let secret = input.client_secret.trim();
    // The saved secret is kept only for the same provider and client: it must never be sent to
    // an issuer it was not given for.
    let same_client = stored.as_ref().is_some_and(|(provider, _)| {
        provider.issuer_url == issuer_text && provider.client_id == client_id
    });
    if secret.is_empty() && stored.is_none() {
        errors.add(
            "client_secret",
            "Enter the client secret the provider gave this application.",
        );
    } else if secret.is_empty() && !same_client {
        errors.add(
            "client_secret",
            "Enter the client secret again: the issuer URL or client id changed, and the saved secret is kept only for the provider and client it was given for.",
        );
    } else if secret.chars().count() > MAX_VALUE_CHARS {
        errors.add("client_secret", "Shorten the client secret.");
    }
    let domains = match parse_domains(&input.domains) {
        Ok(domains) => domains,
        Err(message) => {
            errors.add("domains", message);
            Vec::new()
        }
    };
    let Some(issuer) = issuer else {
        return Err(SsoSetupError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(SsoSetupError::Invalid(errors));
    }
    let http = http_client().map_err(anyhow::Error::from)?;
    if let Err(error) = discover(&http, issuer_text).await {
        tracing::info!(issuer = %issuer, %error, "SSO discovery failed");
        let mut errors = FieldErrors::default();
        errors.add(
            "issuer_url",
            format!(
                "The provider's discovery document could not be read from {}: {error}. Check the issuer URL (it must match the \"issuer\" the provider states).",
                discovery_url(issuer_text)
            ),
        );
        return Err(SsoSetupError::Invalid(errors));
    }
    let secret_sealed = match (secret.is_empty(), &stored) {
        (true, Some((provider, _))) => provider.client_secret_sealed.clone(),
        _ => services
            .sealer
            .seal(secret)
            .map_err(|error| anyhow::anyhow!("sealing the client secret: {error}"))?,
    };
    let details = format!(
        "Single sign-on with {display_name} ({issuer_text}) for {}{}",
        domains.join(", "),
        if input.sso_only {
            ", the only way in"
        } else {
            ""
        }
    );
    let actor = Actor {
        scope: &admin.scope,
        user_id: admin.user_id.as_str(),
        ip,
        now: services.clock.now(),
    };
    let provider = NewSsoProvider {
        display_name,
        issuer_url: issuer_text,
        client_id,
        client_secret_sealed: &secret_sealed,
        sso_only: input.sso_only,
        domains: &domains,
    };
    match services
        .store
        .save_sso_provider(actor, &provider, &details)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Duplicate(_)) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "domains",
                "One of these domains is covered by another company's single sign-on; remove it.",
            );
            Err(SsoSetupError::Invalid(errors))
        }
        Err(error) => Err(error.into()),
    }
}

/// `{issuer}/.well-known/openid-configuration`, as discovery reads it.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// The email domains typed (commas, spaces or lines between them), in lower case, each once.
pub fn parse_domains(text: &str) -> Result<Vec<String>, String> {
    let mut domains: Vec<String> = Vec::new();
    for word in text
        .split(|character: char| character == ',' || character.is_whitespace())
        .filter(|word| !word.is_empty())
    {
        let domain = word.trim_start_matches('@').to_lowercase();
        let valid = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .chars()
                        .all(|character| character.is_ascii_alphanumeric() || character == '-')
            });
        if !valid {
            return Err(format!(
                "\"{word}\" is not an email domain; enter domains such as example.com, one per line."
            ));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.is_empty() {
        return Err(
            "Enter at least one email domain the provider covers (for example example.com).".into(),
        );
    }
    Ok(domains)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_split_lowercased_and_deduplicated() {
        assert_eq!(
            parse_domains("Example.com, @example.org\nexample.com").as_deref(),
            Ok(&["example.com".to_owned(), "example.org".to_owned()][..])
        );
    }

    #[test]
    fn a_word_that_is_not_a_domain_is_named() {
        let error = parse_domains("example.com not_a_domain").unwrap_err();
        assert!(error.contains("\"not_a_domain\""), "{error}");
    }
}
