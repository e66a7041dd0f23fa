//! Single sign-on, the way back: `GET /sso/callback` checks `state`, the browser and the
//! expiry, exchanges the code with the PKCE verifier, verifies the ID token (signature, issuer,
//! audience, expiry by our clock, nonce), then signs the user in or joins them. Every refusal of
//! a known attempt is audited.

use super::Services;
use super::join::{InvitationState, classify};
use super::sessions::{SecondStep, SessionTokens, start_session};
use super::sso_client::{ProviderError, chain, client_for, http_client};
use crate::store::{
    AuditEvent, JoinCredentials, JoinProof, JoinStoreError, SsoAttemptLookup, SsoUser, StoreError,
    TakenSsoAttempt,
};
use onestop_domain::{
    AuditAction, OrganizationId, SecretToken, TimeZoneName, Timestamp, TokenHash, UserStatus,
    Username, sha256_hex,
};
use openidconnect::{AuthorizationCode, Nonce, PkceCodeVerifier, TokenResponse as _};

/// What the provider sent back, and what the browser carries.
pub struct SsoCallback<'a> {
    pub state: &'a str,
    pub code: &'a str,
    /// The provider's `error` parameter (the person cancelled, say).
    pub error: &'a str,
    pub browser_token: Option<SecretToken>,
    pub ip: &'a str,
    /// The session cookie the browser sent, if any: it is replaced.
    pub previous_session: Option<TokenHash>,
}

#[derive(Debug)]
pub enum SsoOutcome {
    SignedIn(SessionTokens),
    Joined(SessionTokens),
}

/// Why a single sign-on was refused. The message is the person's; [`SsoRefusal::reason`] is the
/// audit log's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsoRefusal {
    #[error(
        "This single sign-on is not valid, or was already used. Start again from the sign-in page."
    )]
    UnknownState,
    #[error(
        "This single sign-on was started in another browser. Start again from the sign-in page in this one."
    )]
    OtherBrowser,
    #[error("This single sign-on took longer than 10 minutes. Start again from the sign-in page.")]
    Expired,
    #[error("The provider did not sign you in ({0}). Start again from the sign-in page.")]
    ProviderAnswered(String),
    #[error(
        "The provider's answer could not be verified, so you were not signed in. Try again, or ask your administrator."
    )]
    NotVerified(String),
    #[error(
        "The provider did not share a verified email address, so we cannot tell which account is yours. Confirm your email address with the provider, or ask your administrator."
    )]
    EmailNotVerified,
    #[error(
        "No active account of this company has the email address {0}. Ask your administrator for an invitation."
    )]
    UnknownEmail(String),
    #[error("Your account ({0}) is deactivated. Ask your administrator.")]
    Deactivated(String),
    #[error(
        "The provider's account does not match the one this 1Stop account was first linked to. Ask your administrator."
    )]
    SubjectMismatch,
    #[error(
        "This invitation is for {invitation_email}, but the provider signed you in as {provider_email}. Sign in to the provider as {invitation_email}, or choose a password instead."
    )]
    EmailMismatch {
        invitation_email: String,
        provider_email: String,
    },
    #[error(
        "This invitation can no longer be accepted. Open the link in your newest invitation email, or ask your administrator for a new one."
    )]
    InvitationNotLive,
}

impl SsoRefusal {
    /// The audit log's words (no secrets, no tokens).
    pub fn reason(&self) -> String {
        match self {
            Self::UnknownState => "unknown or used state".into(),
            Self::OtherBrowser => "started in another browser".into(),
            Self::Expired => "expired".into(),
            Self::ProviderAnswered(error) => format!("provider answered: {error}"),
            Self::NotVerified(detail) => format!("not verified: {detail}"),
            Self::EmailNotVerified => "email not verified".into(),
            Self::UnknownEmail(email) => format!("unknown email {email}"),
            Self::Deactivated(email) => format!("deactivated user {email}"),
            Self::SubjectMismatch => "subject does not match".into(),
            Self::EmailMismatch {
                invitation_email,
                provider_email,
            } => format!("invitation for {invitation_email}, provider email {provider_email}"),
            Self::InvitationNotLive => "invitation not live".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SsoCallbackError {
    #[error(transparent)]
    Refused(SsoRefusal),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for SsoCallbackError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// Checks what came back (state, browser, expiry), exchanges the code with the PKCE verifier,
/// verifies the ID token (signature, issuer, audience, expiry by our clock, nonce), then signs
/// the user in or joins them. Every refusal of a known attempt is audited.
pub async fn finish_sso(
    services: &Services,
    callback: SsoCallback<'_>,
) -> Result<SsoOutcome, SsoCallbackError> {
    let Some(state) = SecretToken::parse(callback.state) else {
        tracing::info!(
            ip = callback.ip,
            "single sign-on with an unknown state refused"
        );
        return Err(SsoCallbackError::Refused(SsoRefusal::UnknownState));
    };
    let browser = callback.browser_token.as_ref().map(SecretToken::hash);
    let mut target: Option<String> = None;
    let (org_id, result) = match services
        .store
        .take_sso_attempt(&state.hash(), browser.as_ref(), services.clock.now())
        .await?
    {
        SsoAttemptLookup::Unknown => {
            tracing::info!(
                ip = callback.ip,
                "single sign-on with an unknown state refused"
            );
            return Err(SsoCallbackError::Refused(SsoRefusal::UnknownState));
        }
        SsoAttemptLookup::OtherBrowser { first: false, .. } => {
            // Audited the first time only: a replayed `state` must not fill the audit log.
            tracing::info!(
                ip = callback.ip,
                "single sign-on from another browser refused again"
            );
            return Err(SsoCallbackError::Refused(SsoRefusal::OtherBrowser));
        }
        SsoAttemptLookup::OtherBrowser {
            org_id,
            first: true,
        } => (org_id, Err(refused(SsoRefusal::OtherBrowser))),
        SsoAttemptLookup::Taken(attempt) => {
            let org_id = attempt.org_id.clone();
            (
                org_id,
                verify_and_finish(services, &callback, attempt, &mut target).await,
            )
        }
    };
    if let Err(SsoCallbackError::Refused(refusal)) = &result {
        let reason = refusal.reason();
        tracing::info!(ip = callback.ip, %reason, "single sign-on refused");
        services
            .store
            .record_audit_event(&AuditEvent {
                org_id: &org_id,
                actor_user_id: None,
                action: AuditAction::SsoRefused,
                target_user_id: target.as_deref(),
                details: &reason,
                ip: Some(callback.ip),
                at: services.clock.now(),
            })
            .await?;
    }
    result
}

fn refused(refusal: SsoRefusal) -> SsoCallbackError {
    SsoCallbackError::Refused(refusal)
}

async fn verify_and_finish(
    services: &Services,
    callback: &SsoCallback<'_>,
    attempt: TakenSsoAttempt,
    target: &mut Option<String>,
) -> Result<SsoOutcome, SsoCallbackError> {
    let now = services.clock.now();
    if now >= Timestamp::from_unix_millis(attempt.expires_at) {
        return Err(refused(SsoRefusal::Expired));
    }
    if !callback.error.is_empty() {
        let error: String = callback.error.chars().take(100).collect();
        return Err(refused(SsoRefusal::ProviderAnswered(error)));
    }
    if callback.code.is_empty() {
        return Err(refused(SsoRefusal::ProviderAnswered("no code".into())));
    }
    let Some((provider, _)) = services.store.sso_provider(&attempt.org_id).await? else {
        return Err(refused(SsoRefusal::NotVerified(
            "the company no longer has a provider".into(),
        )));
    };
    let not_verified = |error: ProviderError| refused(SsoRefusal::NotVerified(error.0));
    let client = client_for(services, &provider)
        .await
        .map_err(not_verified)?;
    let verifier = services
        .sealer
        .open(&attempt.pkce_verifier_sealed)
        .map_err(|error| anyhow::anyhow!("opening the PKCE verifier: {error}"))?;
    let http = http_client().map_err(not_verified)?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(callback.code.to_owned()))
        .map_err(|error| refused(SsoRefusal::NotVerified(error.to_string())))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
        .map_err(|error| {
            refused(SsoRefusal::NotVerified(format!(
                "the code exchange failed: {}",
                chain(&error)
            )))
        })?;
    let Some(id_token) = tokens.id_token() else {
        return Err(refused(SsoRefusal::NotVerified(
            "the provider sent no ID token".into(),
        )));
    };
    let clock = services.clock.clone();
    let id_verifier = client.id_token_verifier().set_time_fn(move || {
        chrono::DateTime::from_timestamp_millis(clock.now().unix_millis()).unwrap_or_default()
    });
    let nonce_hash = attempt.nonce_hash.clone();
    let claims = id_token
        .claims(&id_verifier, |nonce: Option<&Nonce>| match nonce {
            Some(nonce) if sha256_hex(nonce.secret().as_bytes()) == nonce_hash => Ok(()),
            Some(_) => Err("the nonce does not match".to_owned()),
            None => Err("the ID token carries no nonce".to_owned()),
        })
        .map_err(|error| refused(SsoRefusal::NotVerified(chain(&error))))?;
    let subject = claims.subject().as_str().to_owned();
    let email = claims
        .email()
        .map(|email| email.as_str().trim().to_owned())
        .unwrap_or_default();
    if subject.contains('\0') || email.contains('\0') {
        return Err(refused(SsoRefusal::NotVerified(
            "the ID token's sub or email holds a NUL character".into(),
        )));
    }
    if email.is_empty() || claims.email_verified() != Some(true) {
        return Err(refused(SsoRefusal::EmailNotVerified));
    }
    match attempt.invitation_token_hash {
        Some(invitation_hash) => {
            join(
                services,
                &invitation_hash,
                &email,
                &subject,
                callback.ip,
                target,
            )
            .await
        }
        None => {
            sign_in(
                services,
                &attempt.org_id,
                &email,
                &subject,
                callback,
                target,
            )
            .await
        }
    }
}

async fn sign_in(
    services: &Services,
    org_id: &OrganizationId,
    email: &str,
    subject: &str,
    callback: &SsoCallback<'_>,
    target: &mut Option<String>,
) -> Result<SsoOutcome, SsoCallbackError> {
    let user: Option<SsoUser> = services
        .store
        .sso_user_by_email(&email.to_lowercase())
        .await?
        .filter(|user| &user.org_id == org_id);
    let Some(user) = user else {
        return Err(refused(SsoRefusal::UnknownEmail(email.to_owned())));
    };
    *target = Some(user.user_id.to_string());
    let status = user
        .status
        .parse::<UserStatus>()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    if status != UserStatus::Active {
        return Err(refused(if status == UserStatus::Deactivated {
            SsoRefusal::Deactivated(email.to_owned())
        } else {
            SsoRefusal::UnknownEmail(email.to_owned())
        }));
    }
    if user
        .sso_subject
        .as_deref()
        .is_some_and(|stored| stored != subject)
    {
        return Err(refused(SsoRefusal::SubjectMismatch));
    }
    let now = services.clock.now();
    match services
        .store
        .record_sso_sign_in(&user, subject, Some(callback.ip), now)
        .await
    {
        Ok(()) => {}
        // Another user of the company is linked to this `sub` already.
        Err(StoreError::Duplicate(_)) => return Err(refused(SsoRefusal::SubjectMismatch)),
        Err(error) => return Err(error.into()),
    }
    let tokens = start_session(
        services,
        &user.user_id,
        &user.org_id,
        Some(callback.ip),
        callback.previous_session.as_ref(),
        SecondStep::Provider,
    )
    .await?;
    tracing::info!(user_id = %user.user_id, "signed in with single sign-on");
    Ok(SsoOutcome::SignedIn(tokens))
}

async fn join(
    services: &Services,
    invitation_hash: &str,
    email: &str,
    subject: &str,
    ip: &str,
    target: &mut Option<String>,
) -> Result<SsoOutcome, SsoCallbackError> {
    let Some(record) = services
        .store
        .find_invitation_by_hash(invitation_hash)
        .await?
    else {
        return Err(refused(SsoRefusal::InvitationNotLive));
    };
    *target = Some(record.user_id.to_string());
    let InvitationState::Live(invitation) = classify(record, services.clock.now()) else {
        return Err(refused(SsoRefusal::InvitationNotLive));
    };
    if invitation.email.to_lowercase() != email.to_lowercase() {
        return Err(refused(SsoRefusal::EmailMismatch {
            invitation_email: invitation.email.clone(),
            provider_email: email.to_owned(),
        }));
    }
    let time_zone =
        TimeZoneName::from_stored(Some(&invitation.company_time_zone), &TimeZoneName::utc());
    let now = services.clock.now();
    let base = username_base(&invitation.email);
    let mut joined = false;
    for number in 1..=100u32 {
        let candidate = if number == 1 {
            base.clone()
        } else {
            let suffix = number.to_string();
            let keep = base
                .len()
                .min(onestop_domain::username::MAX_LENGTH - suffix.len());
            format!("{}{suffix}", base.get(..keep).unwrap_or(&base))
        };
        let Ok(username) = Username::parse(&candidate) else {
            continue;
        };
        if services.store.username_is_taken(&username).await? {
            continue;
        }
        match services
            .store
            .join(
                &invitation,
                &JoinCredentials {
                    username: &username,
                    proof: JoinProof::Provider { subject },
                    time_zone: &time_zone,
                },
                ip,
                now,
            )
            .await
        {
            Ok(()) => {
                joined = true;
                break;
            }
            Err(JoinStoreError::UsernameTaken) => continue,
            Err(JoinStoreError::NotLive) => {
                return Err(refused(SsoRefusal::InvitationNotLive));
            }
            Err(JoinStoreError::Store(StoreError::Duplicate(_))) => {
                return Err(refused(SsoRefusal::SubjectMismatch));
            }
            Err(JoinStoreError::Store(error)) => return Err(error.into()),
        }
    }
    if !joined {
        return Err(anyhow::anyhow!("no free username derived from the email address").into());
    }
    tracing::info!(user_id = %invitation.user_id, "joined with single sign-on");
    let tokens = start_session(
        services,
        &invitation.user_id,
        &invitation.org_id,
        Some(ip),
        None,
        SecondStep::Provider,
    )
    .await?;
    Ok(SsoOutcome::Joined(tokens))
}

/// A username from the email's local part: letters, digits and single `.`, `_`, `-` kept, at
/// least three characters ("user" when nothing usable is left).
pub fn username_base(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut base = String::new();
    for character in local.chars() {
        if character.is_ascii_alphanumeric() {
            base.push(character.to_ascii_lowercase());
        } else if matches!(character, '.' | '_' | '-')
            && !base.is_empty()
            && !base.ends_with(['.', '_', '-'])
        {
            base.push(character);
        }
    }
    let mut base: String = base
        .trim_end_matches(['.', '_', '-'])
        .chars()
        .take(onestop_domain::username::MAX_LENGTH - 3)
        .collect();
    base = base.trim_end_matches(['.', '_', '-']).to_owned();
    if base.len() < onestop_domain::username::MIN_LENGTH || Username::parse(&base).is_err() {
        base = format!("user{base}");
    }
    if Username::parse(&base).is_err() {
        base = "user".into();
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_come_from_the_email_local_part() {
        assert_eq!(username_base("Grace.Hopper@example.com"), "grace.hopper");
        assert_eq!(username_base("a+b@example.com"), "userab");
        assert_eq!(username_base("..x__y@example.com"), "x_y");
    }
}
