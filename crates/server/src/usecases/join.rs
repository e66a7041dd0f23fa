//! Joining through a Join Now link: what state the invitation is in, and accepting it.

use super::sessions::{SecondStep, SessionTokens, start_session};
use super::{FieldErrors, Services};
use crate::store::{InvitationRecord, JoinCredentials, JoinProof, JoinStoreError, StoreError};
use onestop_domain::{
    Password, PasswordError, PersonalWords, SecretToken, TimeZoneName, Timestamp, Username,
};

/// What a Join Now link leads to.
#[derive(Debug, Clone)]
pub enum InvitationState {
    Live(Box<InvitationRecord>),
    Expired {
        inviter_name: Option<String>,
    },
    AlreadyAccepted,
    /// Unknown, superseded by a newer invitation, revoked, or its user deactivated: one generic
    /// answer that reveals nothing.
    NotValid,
}

pub async fn look_up_invitation(
    services: &Services,
    token: &SecretToken,
) -> Result<InvitationState, StoreError> {
    let Some(record) = services.store.find_invitation(&token.hash()).await? else {
        return Ok(InvitationState::NotValid);
    };
    Ok(classify(record, services.clock.now()))
}

pub(crate) fn classify(record: InvitationRecord, now: Timestamp) -> InvitationState {
    if record.consumed_at.is_some() {
        return InvitationState::AlreadyAccepted;
    }
    if record.superseded_at.is_some()
        || record.revoked_at.is_some()
        || record.user_status != "unconfirmed"
    {
        return InvitationState::NotValid;
    }
    if now >= Timestamp::from_unix_millis(record.expires_at) {
        let inviter_name =
            record
                .inviter_last_name
                .as_ref()
                .map(|last| match &record.inviter_first_name {
                    Some(first) => format!("{first} {last}"),
                    None => last.clone(),
                });
        return InvitationState::Expired { inviter_name };
    }
    InvitationState::Live(Box::new(record))
}

/// The join form as typed.
#[derive(Debug, Default, Clone)]
pub struct JoinInput {
    pub username: String,
    pub password: String,
    pub password_confirmation: String,
    /// An IANA name; the page offers the browser's guess. Empty: the company's zone.
    pub time_zone: String,
}

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    /// The invitation is not (or no longer) live; show its page.
    #[error("the invitation cannot be accepted")]
    NotLive(InvitationState),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for JoinError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// Validates the chosen username and password, then consumes the invitation and activates the
/// account in one transaction, and starts a fresh session.
pub async fn accept_invitation(
    services: &Services,
    token: &SecretToken,
    input: &JoinInput,
    ip: &str,
) -> Result<SessionTokens, JoinError> {
    let result = try_accept_invitation(services, token, input, ip).await;
    crate::metrics::record_join(match &result {
        Ok(_) => "joined",
        Err(JoinError::Invalid(_)) => "invalid_input",
        Err(JoinError::NotLive(InvitationState::Expired { .. })) => "expired",
        Err(JoinError::NotLive(InvitationState::AlreadyAccepted)) => "already_accepted",
        Err(JoinError::NotLive(_)) => "not_valid",
        Err(JoinError::Internal(_)) => "error",
    });
    result
}

async fn try_accept_invitation(
    services: &Services,
    token: &SecretToken,
    input: &JoinInput,
    ip: &str,
) -> Result<SessionTokens, JoinError> {
    let invitation = match look_up_invitation(services, token).await? {
        InvitationState::Live(invitation) => invitation,
        other => return Err(JoinError::NotLive(other)),
    };
    let mut errors = FieldErrors::default();
    if let Some(provider) =
        super::sso::sso_only_provider_for(services, &invitation.org_id, &invitation.email).await?
    {
        errors.add(
            "password",
            format!("Your company signs you in with {provider}, not with a password. Use \"Join with {provider}\" above."),
        );
        return Err(JoinError::Invalid(errors));
    }
    let username = errors.check("username", Username::parse(&input.username));
    let email_local_part = invitation
        .email
        .split('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    let personal = PersonalWords::default()
        .with("username", input.username.trim())
        .with(
            "first name",
            invitation.first_name.as_deref().unwrap_or_default(),
        )
        .with("last name", &invitation.last_name)
        .with("email address", &email_local_part)
        .with("company name", &invitation.company_name)
        .with("account name", &invitation.account_name);
    let password = errors.check("password", Password::choose(&input.password, &personal));
    if password.is_some() && Password::for_sign_in(&input.password_confirmation) != password {
        errors.add(
            "password_confirmation",
            PasswordError::ConfirmationMismatch.to_string(),
        );
    }
    let time_zone = if input.time_zone.trim().is_empty() {
        Some(TimeZoneName::from_stored(
            Some(&invitation.company_time_zone),
            &TimeZoneName::utc(),
        ))
    } else {
        errors.check("time_zone", TimeZoneName::parse(&input.time_zone))
    };
    if let Some(username) = &username
        && services.store.username_is_taken(username).await?
    {
        errors.add("username", TAKEN);
    }
    let (Some(username), Some(password), Some(time_zone), true) =
        (username, password, time_zone, errors.is_empty())
    else {
        return Err(JoinError::Invalid(errors));
    };

    let password_hash = services
        .hasher
        .hash(&password)
        .await
        .map_err(anyhow::Error::from)?;
    let credentials = JoinCredentials {
        username: &username,
        proof: JoinProof::Password(password_hash),
        time_zone: &time_zone,
    };
    match services
        .store
        .join(&invitation, &credentials, ip, services.clock.now())
        .await
    {
        Ok(()) => {}
        Err(JoinStoreError::UsernameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("username", TAKEN);
            return Err(JoinError::Invalid(errors));
        }
        Err(JoinStoreError::NotLive) => {
            return Err(JoinError::NotLive(
                look_up_invitation(services, token).await?,
            ));
        }
        Err(JoinStoreError::Store(error)) => return Err(error.into()),
    }
    tracing::info!(user_id = %invitation.user_id, "joined");
    Ok(start_session(
        services,
        &invitation.user_id,
        &invitation.org_id,
        Some(ip),
        None,
        // A new member has no method yet; the setup gate asks for one if the profile requires it.
        SecondStep::Done,
    )
    .await?)
}

const TAKEN: &str = "This username is taken; choose another.";

/// How often one invitee may ask for a new invitation.
const REQUEST_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// The administrators were told.
    Sent,
    /// Asked less than an hour ago; nothing new was sent.
    AlreadyAsked,
    /// The link is not an expired invitation (it may work, or not be valid at all).
    NotExpired,
}

/// From the expired page: notify the organization's administrators (email and homepage).
pub async fn request_new_invitation(
    services: &Services,
    token: &SecretToken,
    ip: &str,
) -> Result<RequestOutcome, JoinError> {
    let Some(record) = services.store.find_invitation(&token.hash()).await? else {
        return Ok(RequestOutcome::NotExpired);
    };
    let now = services.clock.now();
    if !matches!(
        classify(record.clone(), now),
        InvitationState::Expired { .. }
    ) {
        return Ok(RequestOutcome::NotExpired);
    }
    if let Some(last) = services
        .store
        .last_invitation_request(&record.user_id)
        .await?
        && now < Timestamp::from_unix_millis(last).plus(REQUEST_INTERVAL)
    {
        return Ok(RequestOutcome::AlreadyAsked);
    }
    let invitee = match &record.first_name {
        Some(first) => format!("{first} {}", record.last_name),
        None => record.last_name.clone(),
    };
    let notifications = services
        .store
        .administrator_contacts(&record.org_id)
        .await?
        .into_iter()
        .map(|(email, first_name)| {
            crate::mail::templates::InvitationRequestEmail {
                administrator_first_name: first_name,
                invitee_name: invitee.clone(),
                invitee_email: record.email.clone(),
                account_name: record.account_name.clone(),
                users_url: format!("{}setup/users?view=unconfirmed", services.public_url),
            }
            .render(&email)
            .map_err(anyhow::Error::from)
            .and_then(|message| services.seal(message).map_err(anyhow::Error::from))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let recorded = services
        .store
        .record_invitation_request(
            &record.org_id,
            &record.user_id,
            ip,
            now,
            now.minus(REQUEST_INTERVAL),
            &notifications,
        )
        .await?;
    if !recorded {
        return Ok(RequestOutcome::AlreadyAsked);
    }
    services.outbox_signal.notify_one();
    Ok(RequestOutcome::Sent)
}
