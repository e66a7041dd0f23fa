//! The Terms of Service gate: accepting the current version, or declining it.

use super::Services;
use super::sessions::{SignedInSession, end_session};
use crate::store::{StoreError, TermsVersion};
use crate::tenancy::OrganizationScope;
use onestop_domain::AuditAction;

#[derive(Debug, thiserror::Error)]
pub enum AcceptTermsError {
    /// A newer version was published after the page was shown: show it and ask again.
    #[error("the Terms of Service changed while you were reading them")]
    VersionChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn current_terms(
    services: &Services,
    scope: &OrganizationScope,
) -> Result<TermsVersion, StoreError> {
    services.store.current_terms(scope).await?.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "organization {} has no Terms of Service",
            scope.id()
        ))
    })
}

/// Records acceptance of `shown_version_id`, which must be the current version.
pub async fn accept_terms(
    services: &Services,
    session: &SignedInSession,
    shown_version_id: &str,
    ip: &str,
    user_agent: &str,
) -> Result<(), AcceptTermsError> {
    let current = current_terms(services, &session.scope).await?;
    if current.id != shown_version_id {
        return Err(AcceptTermsError::VersionChanged);
    }
    services
        .store
        .accept_terms(
            &session.scope,
            session.user_id.as_str(),
            &current.id,
            ip,
            user_agent,
            services.clock.now(),
        )
        .await?;
    Ok(())
}

/// Declining signs the user out.
pub async fn decline_terms(
    services: &Services,
    session: &SignedInSession,
    ip: &str,
) -> Result<(), StoreError> {
    end_session(services, session, AuditAction::TermsDeclined, Some(ip)).await
}

#[derive(Debug, thiserror::Error)]
pub enum PublishTermsError {
    #[error("some fields need attention")]
    Invalid(super::FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const MAX_TERMS_LENGTH: usize = 100_000;

/// Publishes a new version; every signed-in user meets "I Agree" on their next request.
pub async fn publish_terms(
    services: &Services,
    publisher: &SignedInSession,
    body: &str,
    summary: &str,
    ip: Option<&str>,
) -> Result<i64, PublishTermsError> {
    let mut errors = super::FieldErrors::default();
    let body = body.trim();
    let summary = summary.trim();
    if body.is_empty() {
        errors.add("body", "Enter the text of the Terms of Service.");
    } else if body.chars().count() > MAX_TERMS_LENGTH {
        errors.add(
            "body",
            format!("The text can be at most {MAX_TERMS_LENGTH} characters."),
        );
    }
    if summary.is_empty() {
        errors.add(
            "summary",
            "Say briefly what changed; people see it when they are asked to agree again.",
        );
    } else if summary.chars().count() > 500 {
        errors.add("summary", "Use at most 500 characters.");
    }
    if !errors.is_empty() {
        return Err(PublishTermsError::Invalid(errors));
    }
    Ok(services
        .store
        .publish_terms(
            &publisher.scope,
            publisher.user_id.as_str(),
            body,
            summary,
            ip,
            services.clock.now(),
        )
        .await?)
}
