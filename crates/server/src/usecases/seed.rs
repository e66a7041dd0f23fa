//! `onestop org seed`: an organization with an Active administrator and many users, for
//! benchmarks and trials. The organization is created exactly as `org create` does; the users are
//! then inserted in bulk ([`crate::store::SeedPlan`]).

use super::Services;
use super::create_organization::{CreateError, OrganizationInput, create_organization};
use crate::store::{OrganizationSummary, SeedPlan, SeededUser};
use crate::tenancy::OrganizationScope;
use onestop_domain::Password;

/// Creates the organization from `input` (with a username and password for its administrator)
/// and `count` more users who sign in with the administrator's password when Active.
pub async fn seed_organization(
    services: &Services,
    input: &OrganizationInput,
    count: usize,
) -> Result<(OrganizationSummary, Vec<SeededUser>), CreateError> {
    let summary = create_organization(services, input, None, None).await?;
    let scope = OrganizationScope::operator(summary.org_id.clone());
    let password = Password::for_sign_in(&input.password)
        .ok_or_else(|| anyhow::anyhow!("the administrator's password is empty"))?;
    let password_hash = services
        .hasher
        .hash(&password)
        .await
        .map_err(anyhow::Error::from)?;
    let lifetime = services
        .store
        .invitation_lifetime_ms(&scope)
        .await
        .map_err(anyhow::Error::from)?;
    let id = summary.org_id.to_string();
    let label = format!("seed{}x", &id[id.len().saturating_sub(8)..]);
    let plan = SeedPlan {
        scope: &scope,
        invited_by: &summary.administrator_id,
        count,
        password_hash: &password_hash,
        label: &label,
        invitation_lifetime_ms: lifetime,
        now: services.clock.now(),
    };
    let users = services
        .store
        .seed_users(&plan)
        .await
        .map_err(anyhow::Error::from)?;
    Ok((summary, users))
}
