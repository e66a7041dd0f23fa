//! The Terms of Service gate: accepting the current version, or declining it.

use super::Services;
use super::sessions::{SignedInSession, end_session};
use crate::store::{StoreError, TermsVersion};
use onestop_domain::AuditAction;

#[derive(Debug, thiserror::Error)]
pub enum AcceptTermsError {
    /// A newer version was published after the page was shown: show it and ask again.
    #[error("the Terms of Service changed while you were reading them")]
    VersionChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn current_terms(services: &Services, org_id: &str) -> Result<TermsVersion, StoreError> {
    services.store.current_terms(org_id).await?.ok_or_else(|| {
        StoreError::Corrupt(format!("organization {org_id} has no Terms of Service"))
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
    let current = current_terms(services, &session.org_id).await?;
    if current.id != shown_version_id {
        return Err(AcceptTermsError::VersionChanged);
    }
    services
        .store
        .accept_terms(
            &session.org_id,
            &session.user_id,
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
