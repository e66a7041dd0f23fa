//! SCIM 2.0 provisioning (`/scim/v2/Users`): what an identity provider may do to a company's users,
//! through the same use cases as the pages, with the SCIM token's caller as the actor. Creating is
//! New User (the person gets the invitation email); changing names, email, profile and role is Edit
//! User; `active` is Deactivate / Activate; deleting is Delete for Unconfirmed users, and for users
//! who have joined, Deactivate and detaching them from SCIM. The grant rule, the caps and the
//! last-administrator rule apply exactly as on the pages.

use super::Services;
use super::edit_user::{EditError, EditInput, edit_user, user_to_edit};
use super::invite_user::{GrantOptions, InviteError, InviteInput, grant_options};
use super::manage_users::{delete_users, set_users_status};
use super::sessions::SignedInSession;
use crate::store::{Actor, ScimUserQuery, ScimUserRow, StoreError};
use onestop_domain::{
    EmailAddress, FilterAttribute, FilterValue, FirstName, LastName, ProfileId, RoleId, ScimFilter,
    UserId, UserStatus,
};

/// The most users one list answers (ServiceProviderConfig's `filter.maxResults`).
pub const MAX_RESULTS: i64 = 200;

/// A user's attributes as an identity provider sends them (POST, PUT, or PATCH applied to the
/// user as SCIM shows them), already read from JSON at the edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimUserInput {
    pub user_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    /// The work (or primary, or only) email.
    pub email: Option<String>,
    /// `None`: not sent (a new user is active; a replaced one keeps their status).
    pub active: Option<bool>,
    /// `None` on PUT and PATCH clears it (SCIM replace semantics).
    pub external_id: Option<String>,
    /// Names, from the extension `urn:ietf:params:scim:schemas:extension:1stop:2.0:User`.
    pub profile: Option<String>,
    pub role: Option<String>,
}

/// A SCIM error: the status, RFC 7644's `scimType` where one applies, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    #[error("not found")]
    NotFound,
    /// 400.
    #[error("{detail}")]
    Invalid {
        scim_type: Option<&'static str>,
        detail: String,
    },
    /// 409 `uniqueness`.
    #[error("{0}")]
    Uniqueness(String),
    /// 403: the user's profile or role is above what the token's creator may grant.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for ScimError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

fn invalid_value(detail: impl Into<String>) -> ScimError {
    ScimError::Invalid {
        scim_type: Some("invalidValue"),
        detail: detail.into(),
    }
}

/// The SCIM attribute a form field is.
fn attribute_of_field(field: &str) -> &'static str {
    match field {
        "first_name" => "name.givenName",
        "last_name" => "name.familyName",
        "email" => "emails",
        "profile_id" => "profile (extension)",
        "role_id" => "role (extension)",
        "external_id" => "externalId",
        _ => "user",
    }
}

fn field_errors_detail(errors: &super::FieldErrors) -> String {
    errors
        .iter()
        .map(|(field, message)| format!("{}: {message}", attribute_of_field(field)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One user of the caller's company, unless SCIM was detached from them.
pub async fn get_user(
    services: &Services,
    caller: &SignedInSession,
    id: &str,
) -> Result<ScimUserRow, ScimError> {
    let id = UserId::parse(id).ok_or(ScimError::NotFound)?;
    services
        .store
        .scim_user(&caller.scope, &id)
        .await?
        .ok_or(ScimError::NotFound)
}

/// A page of a list: the total that match, and the users from `start_index` (1-based).
#[derive(Debug)]
pub struct UserPage {
    pub total: i64,
    pub start_index: i64,
    pub users: Vec<ScimUserRow>,
}

/// The users matching `filter` (if any), `count` from `start_index` (1-based; out-of-range values
/// are brought into range as RFC 7644 §3.4.2.4 says).
pub async fn list_users(
    services: &Services,
    caller: &SignedInSession,
    filter: Option<&str>,
    start_index: Option<i64>,
    count: Option<i64>,
) -> Result<UserPage, ScimError> {
    let start_index = start_index.unwrap_or(1).max(1);
    let count = count.unwrap_or(100).clamp(0, MAX_RESULTS);
    let mut query = ScimUserQuery::default();
    let mut matches_nothing = false;
    if let Some(filter) = filter.filter(|filter| !filter.trim().is_empty()) {
        let parsed = ScimFilter::parse(filter).map_err(|error| ScimError::Invalid {
            scim_type: Some("invalidFilter"),
            detail: error.to_string(),
        })?;
        for clause in parsed.clauses {
            matches_nothing |= clause.matches_nothing;
            let slot_conflict = match (clause.attribute, clause.value) {
                (FilterAttribute::Id, FilterValue::Text(text)) => set(&mut query.id, text),
                (FilterAttribute::UserName, FilterValue::Text(text)) => {
                    set(&mut query.user_name, text.trim().to_lowercase())
                }
                (FilterAttribute::Email, FilterValue::Text(text)) => {
                    set(&mut query.email, text.trim().to_lowercase())
                }
                (FilterAttribute::ExternalId, FilterValue::Text(text)) => {
                    set(&mut query.external_id, text)
                }
                (FilterAttribute::Active, FilterValue::Boolean(value)) => {
                    set(&mut query.active, value)
                }
                _ => true,
            };
            matches_nothing |= slot_conflict;
        }
    }
    if matches_nothing {
        return Ok(UserPage {
            total: 0,
            start_index,
            users: Vec::new(),
        });
    }
    let (total, users) = services
        .store
        .scim_users(&caller.scope, &query, start_index - 1, count)
        .await?;
    Ok(UserPage {
        total,
        start_index,
        users,
    })
}

/// Fills `slot`; whether it already held another value (two `and` clauses that cannot both hold).
fn set<T: PartialEq>(slot: &mut Option<T>, value: T) -> bool {
    match slot {
        Some(existing) => *existing != value,
        None => {
            *slot = Some(value);
            false
        }
    }
}

/// The profile and role a user gets: those the extension names, else the company's SCIM
/// defaults (Setup > SCIM provisioning), else Standard and the highest role the caller may grant; each must be one the
/// caller may grant.
async fn profile_and_role(
    services: &Services,
    caller: &SignedInSession,
    options: &GrantOptions,
    input: &ScimUserInput,
    current: Option<(&ProfileId, &RoleId)>,
) -> Result<(ProfileId, RoleId), ScimError> {
    let profile_id = match (&input.profile, current) {
        (Some(name), _) => named_profile(options, name)?,
        (None, Some((profile_id, _))) => profile_id.clone(),
        (None, None) => default_profile(services, caller, options).await?,
    };
    let role_id = match (&input.role, current) {
        (Some(name), _) => named_role(options, name)?,
        (None, Some((_, role_id))) => role_id.clone(),
        (None, None) => default_role(services, caller, options).await?,
    };
    Ok((profile_id, role_id))
}

fn named_profile(options: &GrantOptions, name: &str) -> Result<ProfileId, ScimError> {
    options
        .profiles
        .iter()
        .find(|profile| profile.name.eq_ignore_ascii_case(name.trim()))
        .map(|profile| profile.id.clone())
        .ok_or_else(|| {
            invalid_value(format!(
                "profile (extension): \"{name}\" is not a profile this token may grant. Choose one of: {}.",
                options
                    .profiles
                    .iter()
                    .map(|profile| profile.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

fn named_role(options: &GrantOptions, name: &str) -> Result<RoleId, ScimError> {
    options
        .roles
        .iter()
        .find(|role| role.name.eq_ignore_ascii_case(name.trim()))
        .map(|role| role.id.clone())
        .ok_or_else(|| {
            invalid_value(format!(
                "role (extension): \"{name}\" is not a role this token may grant. Choose one of: {}.",
                options
                    .roles
                    .iter()
                    .map(|role| role.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

const SET_DEFAULTS: &str = "Send the profile and role in the extension urn:ietf:params:scim:schemas:extension:1stop:2.0:User, or choose defaults this token may grant in Setup > SCIM provisioning.";

async fn default_profile(
    services: &Services,
    caller: &SignedInSession,
    options: &GrantOptions,
) -> Result<ProfileId, ScimError> {
    let (stored, _) = services.store.scim_defaults(&caller.scope).await?;
    let chosen = match stored {
        Some(id) => options.profile(&id),
        None => options
            .profiles
            .iter()
            .find(|profile| profile.builtin.as_deref() == Some("standard")),
    };
    chosen.map(|profile| profile.id.clone()).ok_or_else(|| {
        invalid_value(format!(
            "The default profile cannot be used. {SET_DEFAULTS}"
        ))
    })
}

async fn default_role(
    services: &Services,
    caller: &SignedInSession,
    options: &GrantOptions,
) -> Result<RoleId, ScimError> {
    let (_, stored) = services.store.scim_defaults(&caller.scope).await?;
    let chosen = match stored {
        Some(id) => options.role(&id),
        // The highest role the caller may grant: one whose parent they may not grant.
        None => options.roles.iter().find(|role| {
            role.parent_id
                .as_ref()
                .is_none_or(|parent| options.roles.iter().all(|other| &other.id != parent))
        }),
    };
    chosen
        .map(|role| role.id.clone())
        .ok_or_else(|| invalid_value(format!("The default role cannot be used. {SET_DEFAULTS}")))
}

/// The email a request gives: the work email, else a userName that is an email address.
fn email_of(input: &ScimUserInput) -> Result<String, ScimError> {
    if let Some(email) = input
        .email
        .as_deref()
        .filter(|email| !email.trim().is_empty())
    {
        return Ok(email.trim().to_owned());
    }
    match input.user_name.as_deref() {
        Some(name) if EmailAddress::parse(name).is_ok() => Ok(name.trim().to_owned()),
        _ => Err(invalid_value(
            "emails: send the user's work email (emails[type eq \"work\"].value), or an email address as userName.",
        )),
    }
}

/// Given and family name, falling back on displayName ("Ada Lovelace") for what is missing.
fn names_of(input: &ScimUserInput) -> (String, String) {
    let (display_given, display_family) = match input.display_name.as_deref().map(str::trim) {
        Some(display) if !display.is_empty() => match display.rsplit_once(' ') {
            Some((given, family)) => (given.trim().to_owned(), family.trim().to_owned()),
            None => (String::new(), display.to_owned()),
        },
        _ => (String::new(), String::new()),
    };
    let given = input
        .given_name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or(display_given);
    let family = input
        .family_name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or(display_family);
    (given, family)
}

pub(super) fn actor<'a>(
    services: &Services,
    caller: &'a SignedInSession,
    ip: Option<&'a str>,
) -> Actor<'a> {
    Actor {
        scope: &caller.scope,
        user_id: caller.user_id.as_str(),
        ip,
        now: services.clock.now(),
    }
}

/// Refuses an `externalId` another user of the company has.
async fn check_external_id(
    services: &Services,
    caller: &SignedInSession,
    external_id: Option<&str>,
    user: Option<&UserId>,
) -> Result<(), ScimError> {
    if let Some(external_id) = external_id {
        if external_id.trim().is_empty() {
            return Err(invalid_value(
                "externalId: send a non-empty value, or leave it out.",
            ));
        }
        if let Some(owner) = services
            .store
            .external_id_owner(&caller.scope, external_id)
            .await?
            && Some(&owner) != user
        {
            return Err(ScimError::Uniqueness(format!(
                "Another user of this company has the externalId \"{external_id}\"."
            )));
        }
    }
    Ok(())
}

/// POST /Users: invites the person exactly as New User does (the email goes out), then applies
/// `active: false` if sent. Nothing is written when anything is invalid.
pub async fn create_user(
    services: &Services,
    caller: &SignedInSession,
    input: &ScimUserInput,
    ip: Option<&str>,
) -> Result<ScimUserRow, ScimError> {
    if input
        .user_name
        .as_deref()
        .is_none_or(|name| name.trim().is_empty())
    {
        return Err(invalid_value(
            "userName: it is required; send the user's sign-in name or email address.",
        ));
    }
    let email = email_of(input)?;
    let (given, family) = names_of(input);
    let options = grant_options(services, caller).await?;
    let (profile_id, role_id) = profile_and_role(services, caller, &options, input, None).await?;
    check_external_id(services, caller, input.external_id.as_deref(), None).await?;
    let invite = InviteInput {
        first_name: given,
        last_name: family,
        email,
        profile_id: profile_id.to_string(),
        role_id: role_id.to_string(),
        personal_message: String::new(),
    };
    let id = match super::invite_user::invite_user_with_external_id(
        services,
        caller,
        &invite,
        input.external_id.as_deref(),
        ip,
    )
    .await
    {
        Ok(id) => id,
        Err(InviteError::Invalid(errors)) => {
            return Err(invalid_value(field_errors_detail(&errors)));
        }
        Err(InviteError::EmailTaken(errors)) => {
            return Err(ScimError::Uniqueness(field_errors_detail(&errors)));
        }
        Err(InviteError::Internal(error)) => return Err(ScimError::Internal(error)),
    };
    let id = UserId::from_trusted(id);
    if input.active == Some(false) {
        set_users_status(services, caller, &[id.to_string()], true, ip)
            .await
            .map_err(|error| ScimError::Internal(anyhow::anyhow!("{error}")))?;
    }
    services
        .store
        .scim_user(&caller.scope, &id)
        .await?
        .ok_or(ScimError::NotFound)
}

/// The user, if the caller may change them: 404 when SCIM does not see them, 403 when their
/// profile or role is above what the caller may grant.
async fn manageable(
    services: &Services,
    caller: &SignedInSession,
    id: &str,
) -> Result<ScimUserRow, ScimError> {
    let current = get_user(services, caller, id).await?;
    match user_to_edit(services, caller, &current.id).await {
        Ok(_) => Ok(current),
        Err(EditError::NotFound) => Err(ScimError::Forbidden(
            "This user's profile or role is above what this token may grant, so it may not change them."
                .to_owned(),
        )),
        Err(error) => Err(ScimError::Internal(anyhow::anyhow!("{error}"))),
    }
}

/// PUT /Users/{id}, and PATCH once its operations are applied: makes the user as `input` says.
/// Every value is checked before anything is written. The email changes only while the user is
/// invited (Unconfirmed), as on Edit User; otherwise a different one is refused (`mutability`).
/// userName is not changed (it is the user's own username once they join).
pub async fn replace_user(
    services: &Services,
    caller: &SignedInSession,
    id: &str,
    input: &ScimUserInput,
    ip: Option<&str>,
) -> Result<ScimUserRow, ScimError> {
    let current = manageable(services, caller, id).await?;
    let status = current.status()?;
    let (given, family) = names_of(input);
    let first_name = if input.given_name.is_none() && input.display_name.is_none() {
        current.first_name.clone().unwrap_or_default()
    } else {
        given
    };
    let last_name = if family.is_empty() {
        current.last_name.clone()
    } else {
        family
    };
    FirstName::parse(&first_name)
        .map_err(|error| invalid_value(format!("name.givenName: {error}")))?;
    LastName::parse(&last_name)
        .map_err(|error| invalid_value(format!("name.familyName: {error}")))?;
    // A deactivated user who never joined has no account to protect: their address may change
    // (without an email; activating them makes them Unconfirmed, ready to be reinvited there).
    let mut readdress = None;
    if let (Some(email), UserStatus::Deactivated, None) = (&input.email, status, &current.username)
        && !email.trim().is_empty()
        && !email.trim().eq_ignore_ascii_case(&current.email)
    {
        readdress = Some(
            EmailAddress::parse(email)
                .map_err(|error| invalid_value(format!("emails: {error}")))?,
        );
    }
    let email = match (&input.email, status) {
        (Some(email), UserStatus::Unconfirmed) if !email.trim().is_empty() => {
            EmailAddress::parse(email)
                .map_err(|error| invalid_value(format!("emails: {error}")))?;
            email.trim().to_owned()
        }
        _ => current.email.clone(),
    };
    let options = grant_options(services, caller).await?;
    let (profile_id, role_id) = profile_and_role(
        services,
        caller,
        &options,
        input,
        Some((&current.profile_id, &current.role_id)),
    )
    .await?;
    check_external_id(
        services,
        caller,
        input.external_id.as_deref(),
        Some(&current.id),
    )
    .await?;
    let deactivate = match input.active {
        Some(false) if status != UserStatus::Deactivated => {
            if current.id == caller.user_id {
                return Err(invalid_value(
                    "active: this token acts for this user, who cannot deactivate themselves.",
                ));
            }
            Some(true)
        }
        Some(true) if status == UserStatus::Deactivated => Some(false),
        _ => None,
    };

    let edited = first_name != current.first_name.clone().unwrap_or_default()
        || last_name != current.last_name
        || !email.eq_ignore_ascii_case(&current.email)
        || profile_id != current.profile_id
        || role_id != current.role_id;
    if edited {
        let edit = EditInput {
            first_name,
            last_name,
            email,
            profile_id: profile_id.to_string(),
            role_id: role_id.to_string(),
        };
        match edit_user(services, caller, &current.id, &edit, ip).await {
            Ok(()) => {}
            Err(EditError::NotFound) => return Err(ScimError::NotFound),
            Err(EditError::Invalid(errors)) => {
                return Err(invalid_value(field_errors_detail(&errors)));
            }
            Err(EditError::EmailTaken(errors)) => {
                return Err(ScimError::Uniqueness(field_errors_detail(&errors)));
            }
            Err(EditError::Internal(error)) => return Err(ScimError::Internal(error)),
        }
    }
    if let Some(address) = &readdress {
        match services
            .store
            .readdress_deactivated_user(actor(services, caller, ip), &current.id, address)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Duplicate(_)) => {
                return Err(ScimError::Uniqueness(format!(
                    "emails: {}",
                    super::invite_user::EMAIL_TAKEN
                )));
            }
            Err(error) => return Err(error.into()),
        }
    }
    if input.external_id != current.external_id {
        match services
            .store
            .set_external_id(
                actor(services, caller, ip),
                &current.id,
                input.external_id.as_deref(),
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Duplicate(_)) => {
                return Err(ScimError::Uniqueness(
                    "Another user of this company has this externalId.".to_owned(),
                ));
            }
            Err(error) => return Err(error.into()),
        }
    }
    if let Some(deactivate) = deactivate {
        let outcome = set_users_status(services, caller, &[current.id.to_string()], deactivate, ip)
            .await
            .map_err(|error| ScimError::Internal(anyhow::anyhow!("{error}")))?;
        if let Some(reason) = outcome.skipped.first() {
            return Err(invalid_value(format!("active: {reason}.")));
        }
    }
    get_user(services, caller, current.id.as_str()).await
}

/// DELETE /Users/{id}: an Unconfirmed user is deleted (as Delete on the Users page). A user who
/// has joined keeps their history: they are deactivated and detached from SCIM (their externalId
/// is cleared and SCIM no longer sees them; a later GET answers 404).
pub async fn delete_user(
    services: &Services,
    caller: &SignedInSession,
    id: &str,
    ip: Option<&str>,
) -> Result<(), ScimError> {
    let current = manageable(services, caller, id).await?;
    let ids = [current.id.to_string()];
    match current.status()? {
        UserStatus::Unconfirmed => {
            let outcome = delete_users(services, caller, &ids, ip)
                .await
                .map_err(|error| ScimError::Internal(anyhow::anyhow!("{error}")))?;
            if let Some(reason) = outcome.skipped.first() {
                return Err(invalid_value(format!("{reason}.")));
            }
        }
        status => {
            if current.id == caller.user_id {
                return Err(invalid_value(
                    "This token acts for this user, who cannot remove themselves.",
                ));
            }
            if status == UserStatus::Active {
                let outcome = set_users_status(services, caller, &ids, true, ip)
                    .await
                    .map_err(|error| ScimError::Internal(anyhow::anyhow!("{error}")))?;
                if let Some(reason) = outcome.skipped.first() {
                    return Err(invalid_value(format!("{reason}.")));
                }
            }
            services
                .store
                .detach_from_scim(actor(services, caller, ip), &current.id)
                .await?;
        }
    }
    Ok(())
}
