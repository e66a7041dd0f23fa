//! Setup > Roles: add, edit, move and delete roles, and each role's homepage.

use super::sessions::SignedInSession;
use super::{FieldErrors, Services};
use crate::store::{Actor, NewStep, RoleStoreError, StoreError};
use onestop_domain::LocalRedirect;
use onestop_domain::RoleId;

pub const MAX_STEPS: usize = 8;

/// The role form as typed. `parent_id` is ignored for the root.
#[derive(Debug, Clone, Default)]
pub struct RoleInput {
    pub name: String,
    pub parent_id: String,
    pub description: String,
    pub headline: String,
    pub introduction: String,
    /// (title, link, description) per First Steps row; rows with an empty title are dropped.
    pub steps: Vec<(String, String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error("not allowed for this role")]
    NotAllowed,
    #[error("no such role in this organization")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn text(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    limit: usize,
    required: Option<&'static str>,
) -> String {
    let value = value.trim();
    if let (true, Some(message)) = (value.is_empty(), required) {
        errors.add(field, message);
    }
    if value.chars().count() > limit {
        errors.add(field, format!("Use at most {limit} characters."));
    }
    value.to_owned()
}

/// Links are a path on this site (`/help/...`) or an `https://` address.
fn valid_link(link: &str) -> bool {
    LocalRedirect::parse(link).is_some()
        || (link.starts_with("https://")
            && !link.chars().any(|c| c.is_whitespace() || c.is_control())
            && link.len() <= 2048)
}

/// Without the Administrator profile, a role manager works only below their own role: on roles
/// there, with parents and move-to targets there (their own role may be a parent), so they can
/// never widen the set of people they manage.
async fn within_reach(
    services: &Services,
    user: &SignedInSession,
    role_id: &RoleId,
    may_be_own: bool,
) -> Result<bool, StoreError> {
    if user.is_administrator() {
        return Ok(true);
    }
    let tree = services.store.role_tree(&user.scope).await?;
    Ok((may_be_own && *role_id == user.role_id) || tree.is_strictly_below(role_id, &user.role_id))
}

fn actor<'a>(services: &Services, user: &'a SignedInSession, ip: Option<&'a str>) -> Actor<'a> {
    Actor {
        scope: &user.scope,
        user_id: user.user_id.as_str(),
        ip,
        now: services.clock.now(),
    }
}

fn from_store(error: RoleStoreError) -> RoleError {
    match error {
        RoleStoreError::NameTaken => {
            let mut errors = FieldErrors::default();
            errors.add(
                "name",
                "A role with this name already exists; choose another name.",
            );
            RoleError::Invalid(errors)
        }
        RoleStoreError::NotAllowed => RoleError::NotAllowed,
        RoleStoreError::Store(error) => RoleError::Store(error),
    }
}

pub async fn create_role(
    services: &Services,
    user: &SignedInSession,
    input: &RoleInput,
    ip: Option<&str>,
) -> Result<String, RoleError> {
    let mut errors = FieldErrors::default();
    let name = text(
        &mut errors,
        "name",
        &input.name,
        60,
        Some("Enter the role name."),
    );
    let description = text(&mut errors, "description", &input.description, 300, None);
    let roles = services.store.roles(&user.scope).await?;
    let parent = roles
        .iter()
        .find(|role| role.id == input.parent_id)
        .map(|role| role.id.clone());
    let parent = match parent {
        Some(parent) if within_reach(services, user, &parent, true).await? => Some(parent),
        _ => None,
    };
    if parent.is_none() {
        errors.add("parent_id", "Choose the role this one reports to.");
    }
    let (Some(parent_id), true) = (parent, errors.is_empty()) else {
        return Err(RoleError::Invalid(errors));
    };
    services
        .store
        .create_role(actor(services, user, ip), &name, &parent_id, &description)
        .await
        .map_err(from_store)
}

pub async fn update_role(
    services: &Services,
    user: &SignedInSession,
    role_id: &RoleId,
    input: &RoleInput,
    ip: Option<&str>,
) -> Result<(), RoleError> {
    if !within_reach(services, user, role_id, false).await? {
        return Err(RoleError::NotFound);
    }
    let role = services
        .store
        .role(&user.scope, role_id)
        .await?
        .ok_or(RoleError::NotFound)?;
    let mut errors = FieldErrors::default();
    let name = text(
        &mut errors,
        "name",
        &input.name,
        60,
        Some("Enter the role name."),
    );
    let description = text(&mut errors, "description", &input.description, 300, None);
    let headline = text(
        &mut errors,
        "headline",
        &input.headline,
        120,
        Some("Enter a headline for the homepage."),
    );
    let introduction = text(&mut errors, "introduction", &input.introduction, 1000, None);
    let parent_id = if role.parent_id.is_none() {
        None
    } else {
        let tree = services.store.role_tree(&user.scope).await?;
        let parent = services
            .store
            .roles(&user.scope)
            .await?
            .into_iter()
            .find(|other| other.id == input.parent_id)
            .map(|other| other.id);
        let acceptable = match &parent {
            Some(parent) => {
                within_reach(services, user, parent, true).await?
                    && *parent != role.id
                    && !tree.is_strictly_below(parent, &role.id)
            }
            None => false,
        };
        if !acceptable {
            errors.add(
                "parent_id",
                "Choose a role that is not this one or below it.",
            );
        }
        parent
    };
    let mut steps = Vec::new();
    for (title, link, step_description) in &input.steps {
        let title = title.trim();
        if title.is_empty() {
            continue;
        }
        let link = link.trim();
        if !valid_link(link) {
            errors.add("steps", format!("The link of \"{title}\" must be a path on this site, like /help/first-steps, or an https:// address."));
        }
        steps.push(NewStep {
            title: title.chars().take(120).collect(),
            href: link.to_owned(),
            description: step_description.trim().chars().take(300).collect(),
        });
    }
    if steps.len() > MAX_STEPS {
        errors.add(
            "steps",
            format!("A homepage can have at most {MAX_STEPS} First Steps."),
        );
    }
    if !errors.is_empty() {
        return Err(RoleError::Invalid(errors));
    }
    services
        .store
        .update_role(
            actor(services, user, ip),
            role_id,
            &name,
            parent_id.as_ref(),
            &description,
            &headline,
            &introduction,
            &steps,
        )
        .await
        .map_err(from_store)
}

pub async fn delete_role(
    services: &Services,
    user: &SignedInSession,
    role_id: &RoleId,
    move_to: &str,
    ip: Option<&str>,
) -> Result<(), RoleError> {
    let move_to = RoleId::parse(move_to).ok_or(RoleError::NotFound)?;
    services
        .store
        .role(&user.scope, role_id)
        .await?
        .ok_or(RoleError::NotFound)?;
    if !within_reach(services, user, role_id, false).await?
        || !within_reach(services, user, &move_to, true).await?
    {
        return Err(RoleError::NotFound);
    }
    services
        .store
        .delete_role(actor(services, user, ip), role_id, &move_to)
        .await
        .map_err(from_store)
}
