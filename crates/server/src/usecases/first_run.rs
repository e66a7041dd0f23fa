//! The first-run link of a fresh server.

use super::Services;
use crate::store::StoreError;
use onestop_domain::SecretToken;

/// When no organization exists yet, makes a one-time code for the first-run link and returns it;
/// otherwise `None`.
pub async fn issue_first_run_code(services: &Services) -> Result<Option<SecretToken>, StoreError> {
    if services.store.organization_count().await? > 0 {
        return Ok(None);
    }
    let code = SecretToken::generate();
    services
        .store
        .add_first_run_code(&code.hash(), services.clock.now())
        .await?;
    Ok(Some(code))
}

pub async fn first_run_code_is_valid(
    services: &Services,
    code: &SecretToken,
) -> Result<bool, StoreError> {
    services.store.first_run_code_is_valid(&code.hash()).await
}
