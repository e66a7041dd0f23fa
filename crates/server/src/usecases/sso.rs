//! Single sign-on through the company's OpenID Connect provider: what the sign-in and join
//! pages offer, and sending the browser there (authorization code flow with PKCE, `state` and a
//! nonce). The way back is `sso_callback.rs`.
//!
//! A single sign-on is the whole sign-in: the provider answers for its own second factor, so
//! such sessions never owe 1Stop's second step.

use super::Services;
use super::join::{InvitationState, look_up_invitation};
use super::sso_client::{ProviderError, client_for};
use crate::store::{SsoAttempt, SsoProviderRecord, StoreError, ThrottleKey, ThrottleLimit};
use onestop_domain::{OrganizationId, SecretToken};
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, Scope};
use std::time::Duration;
use url::Url;

/// How long a sign-in sent to the provider may take to come back.
pub const ATTEMPT_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Single sign-ons one client address may start in a window. Each start keeps a row and asks
/// the provider for its discovery document and keys, so a flood must stop somewhere; sixty
/// people behind one office address signing in within a quarter of an hour still fit.
pub const START_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 60,
    window: Duration::from_secs(15 * 60),
};

/// Which provider a sign-in goes to.
pub enum ProviderChoice<'a> {
    /// From the sign-in page: by the email's domain, or the server's only provider when no
    /// email was typed.
    SignIn { email: &'a str },
    /// From the join page: the inviting company's provider.
    Join { invitation: &'a SecretToken },
}

/// Where to send the browser, and the value of the cookie that binds the attempt to it.
#[derive(Debug)]
pub struct SsoRedirect {
    pub provider_name: String,
    pub authorization_url: Url,
    pub browser_token: SecretToken,
}

#[derive(Debug, thiserror::Error)]
pub enum SsoStartError {
    /// No provider fits; the message says what to do instead.
    #[error("{0}")]
    NoProvider(String),
    #[error("the invitation cannot be accepted")]
    NotLive(InvitationState),
    #[error(
        "The single sign-on provider could not be reached ({0}). Try again later, or ask your administrator."
    )]
    Provider(ProviderError),
    /// The address started more than [`START_LIMIT`] allows; the wait before the next.
    #[error(
        "Too many single sign-ons were started from your network. Try again in {} seconds.",
        .0.as_secs().max(1)
    )]
    TooMany(Duration),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for SsoStartError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// What the sign-in page offers: nothing, a button for the server's only provider, or (with
/// several companies' providers) a form asking for the email whose domain chooses one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoSignInOffer {
    /// "Sign in with {name}".
    pub only_provider: Option<String>,
    /// "Sign in with single sign-on", by email.
    pub by_email: bool,
}

pub async fn sign_in_offer(services: &Services) -> Result<SsoSignInOffer, StoreError> {
    let mut providers = services.store.sso_providers(2).await?;
    Ok(match (providers.pop(), providers.is_empty()) {
        (None, _) => SsoSignInOffer::default(),
        (Some(provider), true) => SsoSignInOffer {
            only_provider: Some(provider.display_name),
            by_email: false,
        },
        (Some(_), false) => SsoSignInOffer {
            only_provider: None,
            by_email: true,
        },
    })
}

/// The name of the inviting company's provider, for "Join with {name}".
pub async fn provider_name_of(
    services: &Services,
    org_id: &OrganizationId,
) -> Result<Option<String>, StoreError> {
    Ok(services
        .store
        .sso_provider(org_id)
        .await?
        .map(|(provider, _)| provider.display_name))
}

/// Whether password sign-in, reset and join are refused for this email of an account of this
/// company (its domain's provider is the company's only way in); `Some(provider name)` then.
/// Another company's claim on the domain never locks this company's people out.
pub async fn sso_only_provider_for(
    services: &Services,
    org_id: &OrganizationId,
    email: &str,
) -> Result<Option<String>, StoreError> {
    let Some(domain) = email_domain(email) else {
        return Ok(None);
    };
    Ok(services
        .store
        .sso_provider_for_domain(&domain)
        .await?
        .filter(|provider| provider.sso_only && provider.org_id == *org_id)
        .map(|provider| provider.display_name))
}

fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_lowercase())
}

/// Counts the start against the address ([`START_LIMIT`]), chooses the provider, keeps the
/// attempt (hashes of `state`, nonce and browser cookie; the PKCE verifier sealed) and answers
/// with the provider's authorization URL.
pub async fn begin_sso(
    services: &Services,
    choice: ProviderChoice<'_>,
    ip: &str,
) -> Result<SsoRedirect, SsoStartError> {
    let key = ThrottleKey::new("single sign-on start address", ip);
    let waits = services
        .store
        .register_attempt(&[(&key, START_LIMIT)], services.clock.now())
        .await?;
    if let Some(wait) = waits.into_iter().flatten().next() {
        tracing::info!(ip, "single sign-on starts from this address throttled");
        return Err(SsoStartError::TooMany(wait));
    }
    let (provider, invitation_hash) = match choice {
        ProviderChoice::SignIn { email } => (choose_for_sign_in(services, email).await?, None),
        ProviderChoice::Join { invitation } => {
            let record = match look_up_invitation(services, invitation).await? {
                InvitationState::Live(record) => record,
                other => return Err(SsoStartError::NotLive(other)),
            };
            let provider = services
                .store
                .sso_provider(&record.org_id)
                .await?
                .map(|(provider, _)| provider)
                .ok_or_else(|| {
                    SsoStartError::NoProvider(
                        "Your company has not set up single sign-on; choose a password instead."
                            .into(),
                    )
                })?;
            (provider, Some(invitation.hash()))
        }
    };
    let client = client_for(services, &provider)
        .await
        .map_err(SsoStartError::Provider)?;
    let state = SecretToken::generate();
    let nonce = SecretToken::generate();
    let browser_token = SecretToken::generate();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state_text = state.expose().to_owned();
    let nonce_text = nonce.expose().to_owned();
    let (authorization_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state_text),
            move || Nonce::new(nonce_text),
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let verifier_sealed = services
        .sealer
        .seal(verifier.secret())
        .map_err(|error| anyhow::anyhow!("sealing the PKCE verifier: {error}"))?;
    let now = services.clock.now();
    services
        .store
        .insert_sso_attempt(
            &SsoAttempt {
                state_hash: &state.hash(),
                org_id: &provider.org_id,
                browser_hash: &browser_token.hash(),
                nonce_hash: &nonce.hash(),
                pkce_verifier_sealed: &verifier_sealed,
                invitation_token_hash: invitation_hash.as_ref(),
                expires_at: now.plus(ATTEMPT_LIFETIME),
            },
            now,
        )
        .await?;
    Ok(SsoRedirect {
        provider_name: provider.display_name,
        authorization_url,
        browser_token,
    })
}

async fn choose_for_sign_in(
    services: &Services,
    email: &str,
) -> Result<SsoProviderRecord, SsoStartError> {
    let email = email.trim();
    if email.is_empty() {
        let mut providers = services.store.sso_providers(2).await?;
        return match (providers.pop(), providers.is_empty()) {
            (Some(provider), true) => Ok(provider),
            _ => Err(SsoStartError::NoProvider(
                "Enter your work email address, so that we can find your company's single sign-on."
                    .into(),
            )),
        };
    }
    let Some(domain) = email_domain(email) else {
        return Err(SsoStartError::NoProvider(
            "Enter your whole work email address (name@company.com).".into(),
        ));
    };
    services
        .store
        .sso_provider_for_domain(&domain)
        .await?
        .ok_or_else(|| {
            SsoStartError::NoProvider(format!(
                "No single sign-on is set up for {domain}. Sign in with your username and password."
            ))
        })
}
