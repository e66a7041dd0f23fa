//! Creating an organization with everything it starts with, in one transaction.

use super::audit::insert_audit_event;
use super::invitations::insert_invited_user;
use super::users::{NewActiveUser, insert_active_user};
use super::{AuditEvent, Store, StoreError, classify, in_transaction, new_id, on_pool};
use super::{NewInvitedUser, SealedEmail};
use crate::defaults::{BUILTIN_PROFILES, BUILTIN_ROLES, FIRST_STEPS, TERMS_OF_SERVICE};
use crate::tenancy::OrganizationScope;
use onestop_domain::token::sha256_hex;
use onestop_domain::{
    AccountName, AuditAction, CompanyName, EmailAddress, FirstName, LastName, OrganizationId,
    ProfileId, RoleId, Timestamp, TokenHash, UserId,
};
use std::time::Duration;

/// A new organization and its first administrator (Administrator profile, CEO role).
pub struct NewOrganization<'a> {
    pub company_name: &'a CompanyName,
    pub account_name: &'a AccountName,
    pub invitation_lifetime: Duration,
    pub administrator: FirstAdministrator<'a>,
    /// When set, the organization is created only if this first-run code is valid and no
    /// organization exists yet; every first-run code dies with it.
    pub first_run_code: Option<&'a TokenHash>,
    pub ip: Option<&'a str>,
    pub now: Timestamp,
}

/// The first administrator: Active with a password, or invited by email.
pub enum FirstAdministrator<'a> {
    Active(NewActiveUser<'a>),
    Invited {
        first_name: &'a FirstName,
        last_name: &'a LastName,
        email: &'a EmailAddress,
        token_hash: &'a TokenHash,
        expires_at: Timestamp,
        message: &'a SealedEmail,
    },
}

#[derive(Debug, Clone)]
pub struct OrganizationSummary {
    pub org_id: OrganizationId,
    pub administrator_id: UserId,
}

/// Why the first run could not create the organization.
#[derive(Debug, thiserror::Error)]
pub enum CreateOrganizationError {
    #[error("the first-run link is not valid, or an organization already exists")]
    FirstRunCodeInvalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CreateOrganizationError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(classify(
            error,
            &["email_normalized", "username_normalized"],
        ))
    }
}

impl Store {
    pub async fn create_organization(
        &self,
        new: &NewOrganization<'_>,
    ) -> Result<OrganizationSummary, CreateOrganizationError> {
        let org_id = OrganizationId::from_trusted(new_id());
        // The organization is being created by whoever may create one (the first run, the
        // command line): its creator acts in it.
        let scope = OrganizationScope::operator(org_id.clone());
        let now = new.now.unix_millis();
        let lifetime_ms = i64::try_from(new.invitation_lifetime.as_millis()).unwrap_or(i64::MAX);
        in_transaction!(self, |transaction| {
            if let Some(code_hash) = new.first_run_code {
                // Deleting every code serializes concurrent first runs: the loser finds its own
                // code already gone.
                let consumed = sqlx::query("DELETE FROM first_run_codes WHERE code_hash = $1")
                    .bind(code_hash.as_str())
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM first_run_codes")
                    .execute(&mut *transaction)
                    .await?;
                let organizations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                    .fetch_one(&mut *transaction)
                    .await?;
                if consumed != 1 || organizations != 0 {
                    return Err(CreateOrganizationError::FirstRunCodeInvalid);
                }
            }
            sqlx::query(
                "INSERT INTO organizations (id, company_name, account_name, invitation_lifetime_ms, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&org_id)
            .bind(new.company_name.as_str())
            .bind(new.account_name.as_str())
            .bind(lifetime_ms)
            .bind(now)
            .execute(&mut *transaction)
            .await?;

            let mut administrator_profile_id = String::new();
            for profile in &BUILTIN_PROFILES {
                let profile_id = new_id();
                sqlx::query(
                    "INSERT INTO profiles (id, org_id, name, description, builtin, permissions, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&profile_id)
                .bind(&org_id)
                .bind(profile.name)
                .bind(profile.description)
                .bind(profile.key)
                .bind((profile.permissions)().to_stored())
                .bind(now)
                .execute(&mut *transaction)
                .await?;
                if profile.key == "administrator" {
                    administrator_profile_id = profile_id;
                }
            }

            let mut role_ids: Vec<(&str, String)> = Vec::new();
            for role in &BUILTIN_ROLES {
                let role_id = new_id();
                let parent_id = role
                    .parent_key
                    .and_then(|key| role_ids.iter().find(|(known, _)| *known == key))
                    .map(|(_, id)| id.clone());
                sqlx::query(
                    "INSERT INTO roles (id, org_id, name, parent_id, description, builtin, headline, introduction, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&role_id)
                .bind(&org_id)
                .bind(role.name)
                .bind(parent_id)
                .bind(role.description)
                .bind(role.key)
                .bind(role.headline)
                .bind(role.introduction)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
                for step in FIRST_STEPS.iter().filter(|step| step.role_key == role.key) {
                    sqlx::query(
                        "INSERT INTO role_first_steps (id, org_id, role_id, position, title, href, description) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(new_id())
                    .bind(&org_id)
                    .bind(&role_id)
                    .bind(step.position)
                    .bind(step.title)
                    .bind(step.href)
                    .bind(step.description)
                    .execute(&mut *transaction)
                    .await?;
                }
                role_ids.push((role.key, role_id));
            }
            let ceo_role_id = role_ids
                .iter()
                .find(|(key, _)| *key == "ceo")
                .map(|(_, id)| id.clone())
                .unwrap_or_default();

            sqlx::query(
                "INSERT INTO terms_versions (id, org_id, version, body, body_sha256, summary, published_at, published_by) \
                 VALUES ($1, $2, 1, $3, $4, 'First version', $5, NULL)",
            )
            .bind(new_id())
            .bind(&org_id)
            .bind(TERMS_OF_SERVICE)
            .bind(sha256_hex(TERMS_OF_SERVICE.as_bytes()))
            .bind(now)
            .execute(&mut *transaction)
            .await?;

            let administrator_id = match &new.administrator {
                FirstAdministrator::Active(user) => {
                    let user_id = insert_active_user!(
                        &mut *transaction,
                        &org_id,
                        &administrator_profile_id,
                        &ceo_role_id,
                        user,
                        now
                    )?;
                    insert_audit_event!(
                        &mut *transaction,
                        &AuditEvent {
                            org_id: &org_id,
                            actor_user_id: None,
                            action: AuditAction::UserCreated,
                            target_user_id: Some(&user_id),
                            details: "first administrator",
                            ip: new.ip,
                            at: new.now,
                        }
                    )?;
                    user_id
                }
                FirstAdministrator::Invited {
                    first_name,
                    last_name,
                    email,
                    token_hash,
                    expires_at,
                    message,
                } => {
                    let invited = NewInvitedUser {
                        scope: &scope,
                        invited_by: None,
                        first_name,
                        last_name,
                        email,
                        profile_id: &ProfileId::from_trusted(administrator_profile_id.clone()),
                        role_id: &RoleId::from_trusted(ceo_role_id.clone()),
                        token_hash,
                        expires_at: *expires_at,
                        message,
                        audit_details: "",
                        ip: new.ip,
                        now: new.now,
                    };
                    insert_invited_user!(transaction, &invited)
                }
            };

            insert_audit_event!(
                &mut *transaction,
                &AuditEvent {
                    org_id: &org_id,
                    actor_user_id: None,
                    action: AuditAction::OrganizationCreated,
                    target_user_id: Some(&administrator_id),
                    details: "",
                    ip: new.ip,
                    at: new.now,
                }
            )?;
            Ok(OrganizationSummary {
                org_id: org_id.clone(),
                administrator_id: UserId::from_trusted(administrator_id),
            })
        })
    }

    pub async fn organization_count(&self) -> Result<i64, StoreError> {
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                .fetch_one(pool)
                .await
        })?;
        Ok(count)
    }

    /// Whether an organization with this id exists (the command line's `--org`).
    pub async fn organization_exists(&self, id: &OrganizationId) -> Result<bool, StoreError> {
        let found: Option<String> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT id FROM organizations WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(found.is_some())
    }
}
