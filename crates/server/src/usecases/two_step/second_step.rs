//! The second step of a sign-in: a code from an authenticator app or a recovery code, given by
//! a session whose password was checked. Wrong codes count against the account like wrong
//! passwords ([`ACCOUNT_LIMIT`]), and a day's wrong codes have a limit of their own
//! ([`DAILY_LIMIT`]); each is audited, and the one that fills a window emails the user, since
//! whoever gave it knows their password. The right code replaces the pending session with a
//! fresh one.

use super::super::Services;
use super::super::sessions::{ABSOLUTE_TIMEOUT, SessionTokens, SignedInSession};
use super::{recovery_codes, totp};
use crate::mail::templates::SecondStepAlertEmail;
use crate::store::{
    AuditEvent, FinishOutcome, FinishSecondStep, NewSession, SecondStepProof, ThrottleKey,
    ThrottleLimit,
};
use crate::usecases::FieldErrors;
use crate::usecases::passkeys::{self, PasskeyError};
use crate::usecases::sign_in::ACCOUNT_LIMIT;
use onestop_domain::{AuditAction, SecretToken};
use std::time::Duration;

/// How long a remembered browser skips the second step.
pub const REMEMBER_BROWSER_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Second steps one account may give in a day, over however many windows of [`ACCOUNT_LIMIT`]:
/// whoever knows the password cannot go on guessing six-digit codes ten every quarter of an hour
/// (nearly a thousand a day) for weeks. A right answer clears it.
pub const DAILY_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 30,
    window: Duration::from_secs(24 * 60 * 60),
};

/// What the user gave.
#[derive(Debug, Clone, Copy)]
pub enum SecondStepAnswer<'a> {
    /// A code from an authenticator app.
    Code(&'a str),
    RecoveryCode(&'a str),
    /// The browser's answer (JSON) to a passkey ceremony started for this session's user
    /// (`usecases::passkeys::begin_authentication`).
    Passkey {
        ceremony: &'a str,
        credential: &'a str,
    },
}

pub struct SecondStepRequest<'a> {
    /// The pending session.
    pub session: &'a SignedInSession,
    pub answer: SecondStepAnswer<'a>,
    pub ip: &'a str,
    /// "Remember this browser for 30 days" was ticked (honoured only if the company allows it).
    pub remember_browser: bool,
}

/// The sign-in is complete.
#[derive(Debug)]
pub struct SecondStepPassed {
    pub tokens: SessionTokens,
    /// The token of the remembered-browser cookie, if the browser is to be remembered.
    pub remembered: Option<SecretToken>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecondStepError {
    /// Not even the shape of a code: nothing was counted.
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error("This code is not right, or it was used already. Try the code your app shows now.")]
    WrongCode,
    #[error("This recovery code is not right, or it was used already.")]
    WrongRecoveryCode,
    /// The passkey's answer was refused (the reason is the passkey use case's).
    #[error("{0}")]
    PasskeyRefused(String),
    #[error("Too many wrong codes. Try again in {}.", wait_in_words(*.0))]
    TooManyAttempts(Duration),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn internal(error: impl Into<anyhow::Error>) -> SecondStepError {
    SecondStepError::Internal(error.into())
}

/// Second-step attempts against one user, in windows of [`ACCOUNT_LIMIT`].
pub fn throttle_key(user_id: &str) -> ThrottleKey {
    ThrottleKey::new("second step account", user_id)
}

/// Second-step attempts against one user, in windows of [`DAILY_LIMIT`].
fn daily_throttle_key(user_id: &str) -> ThrottleKey {
    ThrottleKey::new("second step account day", user_id)
}

/// Lifts the pause of wrong second steps (both windows): the user chose a new password, so
/// whoever guessed with the old one has nothing left to guess with, or an administrator reset
/// their two-step verification. Without it, whoever knows the password could keep the user out
/// a day at a time.
pub async fn lift_second_step_limits(
    services: &Services,
    user_id: &str,
) -> Result<(), crate::store::StoreError> {
    for key in [throttle_key(user_id), daily_throttle_key(user_id)] {
        services.store.forgive_attempt(&key, true).await?;
    }
    Ok(())
}

/// "15 minutes", "1 minute", "23 hours".
fn wait_in_words(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    match minutes {
        1 => "1 minute".to_owned(),
        2..=90 => format!("{minutes} minutes"),
        _ => format!("{} hours", minutes.div_ceil(60)),
    }
}

/// Whether the second-step page offers "Remember this browser for 30 days".
pub async fn offers_remembering(
    services: &Services,
    session: &SignedInSession,
) -> Result<bool, crate::store::StoreError> {
    services.store.remembers_browsers(session.scope.id()).await
}

pub async fn finish_second_step(
    services: &Services,
    request: SecondStepRequest<'_>,
) -> Result<SecondStepPassed, SecondStepError> {
    let session = request.session;
    let mut errors = FieldErrors::default();
    let answer = match request.answer {
        SecondStepAnswer::Code(typed) => totp::normalize_code(typed).map(Normalized::Code),
        SecondStepAnswer::RecoveryCode(typed) => {
            recovery_codes::normalize(typed).map(Normalized::RecoveryCode)
        }
        SecondStepAnswer::Passkey {
            ceremony,
            credential,
        } => Some(Normalized::Passkey {
            ceremony,
            credential,
        }),
    };
    let Some(answer) = answer else {
        match request.answer {
            SecondStepAnswer::Code(_) => errors.add(
                "code",
                "Enter the 6-digit code your authenticator app shows for 1Stop.",
            ),
            SecondStepAnswer::RecoveryCode(_) => errors.add(
                "recovery_code",
                "Enter one of your recovery codes: 16 letters and digits, like abcd-efgh-ijkl-mnop.",
            ),
            // A passkey's answer is always checked (and counted) as it came.
            SecondStepAnswer::Passkey { .. } => {}
        }
        return Err(SecondStepError::Invalid(errors));
    };

    let store = &services.store;
    let key = throttle_key(session.user_id.as_str());
    let daily_key = daily_throttle_key(session.user_id.as_str());
    let now = services.clock.now();
    let counted = store
        .register_numbered_attempt(&[(&key, ACCOUNT_LIMIT), (&daily_key, DAILY_LIMIT)], now)
        .await
        .map_err(internal)?;
    if let Some(wait) = counted.iter().filter_map(|attempt| attempt.wait).max() {
        return Err(SecondStepError::TooManyAttempts(wait));
    }
    // This attempt's own number in the quarter hour: of parallel guesses exactly one is the last
    // the window allows, and that one, if wrong, tells the user.
    let fills_the_window = counted[0].number == Some(ACCOUNT_LIMIT.attempts);

    // Why a passkey's answer was refused, to tell the user.
    let mut passkey_refusal = None;
    let proof = match &answer {
        Normalized::Passkey {
            ceremony,
            credential,
        } => {
            match passkeys::finish_authentication(services, &session.user_id, ceremony, credential)
                .await
            {
                Ok(used) => Some((used.method_id, 0)),
                Err(PasskeyError::Store(error)) => return Err(internal(error)),
                Err(refusal) => {
                    tracing::info!(reason = ?refusal, "passkey refused");
                    passkey_refusal = Some(refusal.to_string());
                    None
                }
            }
        }
        Normalized::Code(code) => {
            let mut found = None;
            for method in store
                .totp_methods(&session.user_id)
                .await
                .map_err(internal)?
            {
                let Some(sealed) = method.totp_secret_sealed.as_deref() else {
                    continue;
                };
                let secret = services
                    .sealer
                    .open(sealed)
                    .map_err(|_| internal(anyhow::anyhow!("a TOTP secret could not be opened")))?;
                if let Some(step) = totp::matching_step(&secret, code, now)
                    && method.totp_last_step.is_none_or(|last| step > last)
                {
                    found = Some((method.id, step));
                    break;
                }
            }
            found
        }
        Normalized::RecoveryCode(code) => Some((recovery_codes::hash(code), 0)),
    };

    let outcome = match proof {
        None => FinishOutcome::Refused,
        Some((id_or_hash, step)) => {
            let proof = match &answer {
                Normalized::Code(_) => SecondStepProof::Totp {
                    method_id: &id_or_hash,
                    step,
                },
                Normalized::RecoveryCode(_) => SecondStepProof::RecoveryCode {
                    code_hash: &id_or_hash,
                },
                Normalized::Passkey { .. } => SecondStepProof::Passkey {
                    method_id: &id_or_hash,
                },
            };
            let tokens = SessionTokens {
                session_token: SecretToken::generate(),
                csrf_token: SecretToken::generate(),
            };
            let remembered = if request.remember_browser
                && offers_remembering(services, session)
                    .await
                    .map_err(internal)?
            {
                Some(SecretToken::generate())
            } else {
                None
            };
            let remembered_hash = remembered.as_ref().map(SecretToken::hash);
            let outcome = store
                .finish_second_step(&FinishSecondStep {
                    pending: &session.id_hash,
                    session: NewSession {
                        id_hash: &tokens.session_token.hash(),
                        user_id: &session.user_id,
                        org_id: session.scope.id(),
                        csrf_token: tokens.csrf_token.expose(),
                        now,
                        expires_at: now.plus(ABSOLUTE_TIMEOUT),
                        ip: Some(request.ip),
                        second_step_pending: false,
                        single_sign_on: false,
                    },
                    proof,
                    remember: remembered_hash
                        .as_ref()
                        .map(|hash| (hash, now.plus(REMEMBER_BROWSER_FOR))),
                })
                .await
                .map_err(internal)?;
            if outcome == FinishOutcome::SignedIn {
                store.forgive_attempt(&key, true).await.map_err(internal)?;
                store
                    .forgive_attempt(&daily_key, true)
                    .await
                    .map_err(internal)?;
                tracing::info!(user_id = %session.user_id, "second step passed; signed in");
                return Ok(SecondStepPassed { tokens, remembered });
            }
            outcome
        }
    };
    debug_assert_eq!(outcome, FinishOutcome::Refused);
    let details = match answer {
        Normalized::Code(_) => "authenticator app",
        Normalized::RecoveryCode(_) => "recovery code",
        Normalized::Passkey { .. } => "passkey",
    };
    store
        .record_failed_sign_in(
            &key,
            Some(&AuditEvent {
                org_id: session.scope.id(),
                actor_user_id: Some(session.user_id.as_str()),
                action: AuditAction::SecondStepFailed,
                target_user_id: Some(session.user_id.as_str()),
                details,
                ip: Some(request.ip),
                at: now,
            }),
            now,
        )
        .await
        .map_err(internal)?;
    tracing::info!(ip = request.ip, "second step failed");
    if fills_the_window && let Err(error) = alert_the_user(services, session, request.ip).await {
        // The refusal stands either way; a missing alert must not turn it into an error page.
        tracing::error!(
            error = format!("{error:#}"),
            "the second-step alert could not be queued"
        );
    }
    Err(match answer {
        Normalized::Code(_) => SecondStepError::WrongCode,
        Normalized::RecoveryCode(_) => SecondStepError::WrongRecoveryCode,
        Normalized::Passkey { .. } => {
            SecondStepError::PasskeyRefused(passkey_refusal.unwrap_or_else(|| {
                "The passkey was not accepted. Try again, or use another way.".to_owned()
            }))
        }
    })
}

enum Normalized<'a> {
    Code(String),
    RecoveryCode(String),
    Passkey {
        ceremony: &'a str,
        credential: &'a str,
    },
}

/// Emails the user that their password was given with a window's worth of wrong second steps.
async fn alert_the_user(
    services: &Services,
    session: &SignedInSession,
    ip: &str,
) -> anyhow::Result<()> {
    let now = services.clock.now();
    let email = SecondStepAlertEmail {
        first_name: session.first_name.clone(),
        account_name: session.account_name.clone(),
        wrong_answers: ACCOUNT_LIMIT.attempts,
        address: ip.to_owned(),
        at: session.time_zone.format(now),
        new_password_url: format!("{}password/forgot", services.public_url),
    }
    .render(&session.email)?;
    let sealed = services.seal(email)?;
    services
        .store
        .queue_email(session.scope.id(), &sealed, now)
        .await?;
    services.outbox_signal.notify_one();
    tracing::info!(user_id = %session.user_id, "too many wrong second steps; the user was told by email");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wait_in_words;
    use std::time::Duration;

    #[test]
    fn waits_are_said_in_minutes_up_to_an_hour_and_a_half_then_in_hours() {
        assert_eq!(wait_in_words(Duration::from_secs(1)), "1 minute");
        assert_eq!(wait_in_words(Duration::from_secs(15 * 60)), "15 minutes");
        assert_eq!(wait_in_words(Duration::from_secs(90 * 60)), "90 minutes");
        assert_eq!(wait_in_words(Duration::from_secs(90 * 60 + 1)), "2 hours");
        assert_eq!(wait_in_words(Duration::from_secs(24 * 3600)), "24 hours");
    }
}
