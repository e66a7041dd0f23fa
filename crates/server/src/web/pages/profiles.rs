//! Setup > Profiles: the list with user counts, "Clone", editing custom profiles, deleting them.

use super::Shell;
use crate::store::{ProfileRow, ProfileWithCount};
use crate::usecases::FieldErrors;
use crate::usecases::profiles::{
    ProfileError, ProfileInput, create_profile, delete_profile, set_profile_two_step,
    update_profile,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{IdPath, ManageProfiles, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::Permission;
use onestop_domain::ProfileId;

pub struct ProfileListItem {
    pub id: String,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub user_count: i64,
    pub allows: Vec<&'static str>,
    pub require_two_step: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "profiles.html")]
pub struct ProfilesPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    profiles: Vec<ProfileListItem>,
    notice: Option<String>,
}

fn list_item(entry: ProfileWithCount) -> ProfileListItem {
    let allows = entry
        .profile
        .permissions()
        .map(|set| set.iter().map(Permission::label).collect())
        .unwrap_or_default();
    ProfileListItem {
        builtin: entry.profile.builtin.is_some(),
        require_two_step: entry.profile.requires_two_step(),
        id: entry.profile.id.to_string(),
        name: entry.profile.name,
        description: entry.profile.description,
        user_count: entry.user_count,
        allows,
    }
}

async fn profiles_page(
    state: &AppState,
    user: &SignedInSession,
    notice: Option<String>,
) -> Result<ProfilesPage, WebError> {
    let profiles = state
        .services
        .store
        .profiles_with_counts(&user.scope)
        .await?
        .into_iter()
        .map(list_item)
        .collect();
    Ok(ProfilesPage {
        shell: Some(Shell::of(user)),
        title: "Profiles",
        csrf_token: user.csrf_token.clone(),
        profiles,
        notice,
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: RequirePermission<ManageProfiles>,
) -> Result<ProfilesPage, WebError> {
    profiles_page(&state, &user, None).await
}

/// One check box of the permission list.
pub struct PermissionChoice {
    pub key: &'static str,
    pub label: &'static str,
    pub explanation: &'static str,
    pub checked: bool,
    /// The editor's own profile lacks it, so they cannot grant it.
    pub disabled: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "profile_form.html")]
pub struct ProfileFormPage {
    shell: Option<Shell>,
    title: &'static str,
    heading: String,
    action: String,
    csrf_token: String,
    profile_name: String,
    description: String,
    require_two_step: bool,
    /// Check boxes under their headings, in the order of `Permission::ALL`.
    permissions: Vec<(&'static str, Vec<PermissionChoice>)>,
    errors: FieldErrors,
    /// For editing a custom profile: the others its users may move to when it is deleted.
    delete_targets: Vec<(String, String)>,
    delete_action: Option<String>,
}

fn choices(
    user: &SignedInSession,
    checked: &[String],
) -> Vec<(&'static str, Vec<PermissionChoice>)> {
    let mut groups: Vec<(&'static str, Vec<PermissionChoice>)> = Vec::new();
    for permission in Permission::ALL {
        let choice = PermissionChoice {
            key: permission.key(),
            label: permission.label(),
            explanation: permission.explanation(),
            checked: checked.iter().any(|key| key == permission.key()),
            disabled: !user.permissions.contains(permission),
        };
        match groups.last_mut() {
            Some((group, members)) if *group == permission.group() => members.push(choice),
            _ => groups.push((permission.group(), vec![choice])),
        }
    }
    groups
}

fn keys(profile: &ProfileRow) -> Vec<String> {
    profile
        .permissions()
        .map(|set| {
            set.iter()
                .map(|permission| permission.key().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn find(
    state: &AppState,
    user: &SignedInSession,
    profile_id: &ProfileId,
) -> Result<ProfileRow, WebError> {
    state
        .services
        .store
        .profile(&user.scope, profile_id)
        .await?
        .ok_or(WebError::NotFound)
}

/// "Clone": a form filled from an existing profile.
pub async fn clone_form(
    State(state): State<AppState>,
    user: RequirePermission<ManageProfiles>,
    IdPath(profile_id): IdPath<ProfileId>,
) -> Result<ProfileFormPage, WebError> {
    let source = find(&state, &user, &profile_id).await?;
    Ok(ProfileFormPage {
        shell: Some(Shell::of(&user)),
        title: "Clone Profile",
        heading: format!("Clone {}", source.name),
        action: "/setup/profiles".to_owned(),
        csrf_token: user.csrf_token.clone(),
        profile_name: format!("Copy of {}", source.name),
        description: source.description.clone(),
        require_two_step: source.requires_two_step(),
        permissions: choices(&user, &keys(&source)),
        errors: FieldErrors::default(),
        delete_targets: Vec::new(),
        delete_action: None,
    })
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// Repeated: one per ticked box.
    #[serde(default)]
    permissions: Vec<String>,
    /// The check box "Require two-step verification": present when ticked.
    #[serde(default)]
    require_two_step: Option<String>,
}

impl CarriesCsrfToken for ProfileForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn input(form: &ProfileForm) -> ProfileInput {
    ProfileInput {
        name: form.name.clone(),
        description: form.description.clone(),
        permissions: form.permissions.clone(),
        require_two_step: form.require_two_step.is_some(),
    }
}

fn invalid_form(
    user: &SignedInSession,
    heading: String,
    action: String,
    form: &ProfileForm,
    errors: FieldErrors,
) -> Response {
    let page = ProfileFormPage {
        shell: Some(Shell::of(user)),
        title: "Profile",
        heading,
        action,
        csrf_token: user.csrf_token.clone(),
        profile_name: form.name.clone(),
        description: form.description.clone(),
        require_two_step: form.require_two_step.is_some(),
        permissions: choices(user, &form.permissions),
        errors,
        delete_targets: Vec::new(),
        delete_action: None,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

pub async fn create(
    State(state): State<AppState>,
    user: RequirePermission<ManageProfiles>,
    client: Client,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> Result<Response, WebError> {
    match create_profile(&state.services, &user, &input(&form), Some(&client.ip)).await {
        Ok(_) => Ok(profiles_page(
            &state,
            &user,
            Some(format!("Profile {} created.", form.name.trim())),
        )
        .await?
        .into_response()),
        Err(ProfileError::Invalid(errors)) => Ok(invalid_form(
            &user,
            "New profile".to_owned(),
            "/setup/profiles".to_owned(),
            &form,
            errors,
        )),
        Err(ProfileError::NotEditable) => Err(WebError::NotFound),
        Err(ProfileError::Store(error)) => Err(error.into()),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: RequirePermission<ManageProfiles>,
    IdPath(profile_id): IdPath<ProfileId>,
) -> Result<ProfileFormPage, WebError> {
    let profile = find(&state, &user, &profile_id).await?;
    if profile.builtin.is_some() {
        return Err(WebError::BadRequest(format!(
            "{} is built in and cannot be edited. Clone it to make a profile you can change.",
            profile.name
        )));
    }
    let delete_targets = state
        .services
        .store
        .profiles(&user.scope)
        .await?
        .into_iter()
        .filter(|other| other.id != profile.id)
        .map(|other| (other.id.to_string(), other.name))
        .collect();
    Ok(ProfileFormPage {
        shell: Some(Shell::of(&user)),
        title: "Edit Profile",
        heading: format!("Edit {}", profile.name),
        action: format!("/setup/profiles/{}", profile.id),
        csrf_token: user.csrf_token.clone(),
        profile_name: profile.name.clone(),
        description: profile.description.clone(),
        require_two_step: profile.requires_two_step(),
        permissions: choices(&user, &keys(&profile)),
        errors: FieldErrors::default(),
        delete_targets,
        delete_action: Some(format!("/setup/profiles/{}/delete", profile.id)),
    })
}

pub async fn update(
    State(state): State<AppState>,
    user: RequirePermission<ManageProfiles>,
    client: Client,
    IdPath(profile_id): IdPath<ProfileId>,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> Result<Response, WebError> {
    match update_profile(
        &state.services,
        &user,
        &profile_id,
        &input(&form),
        Some(&client.ip),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/setup/profiles").into_response()),
        Err(ProfileError::Invalid(errors)) => Ok(invalid_form(
            &user,
            "Edit profile".to_owned(),
            format!("/setup/profiles/{profile_id}"),
            &form,
            errors,
        )),
        Err(ProfileError::NotEditable) => Err(WebError::NotFound),
        Err(ProfileError::Store(error)) => Err(error.into()),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    move_to: String,
}

impl CarriesCsrfToken for DeleteForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub async fn delete(
    State(state): State<AppState>,
    user: RequirePermission<ManageProfiles>,
    client: Client,
    IdPath(profile_id): IdPath<ProfileId>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<Response, WebError> {
    match delete_profile(
        &state.services,
        &user,
        &profile_id,
        &form.move_to,
        Some(&client.ip),
    )
    .await
    {
        Ok(()) => Ok(profiles_page(
            &state,
            &user,
            Some("Profile deleted; its users were moved.".to_owned()),
        )
        .await?
        .into_response()),
        Err(ProfileError::Invalid(errors)) => Err(WebError::BadRequest(
            errors
                .iter()
                .map(|(_, message)| message)
                .collect::<Vec<_>>()
                .join(" "),
        )),
        Err(ProfileError::NotEditable) => Err(WebError::NotFound),
        Err(ProfileError::Store(error)) => Err(error.into()),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct TwoStepForm {
    #[serde(default)]
    csrf_token: String,
    /// "on" to require two-step verification, anything else (or nothing) to stop requiring it.
    #[serde(default)]
    require_two_step: String,
}

impl CarriesCsrfToken for TwoStepForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /setup/profiles/{id}/two-step`: the list's Require / Stop requiring button, which also
/// serves the built-in profiles (whose other settings are fixed).
pub async fn set_two_step(
    State(state): State<AppState>,
    user: RequirePermission<ManageProfiles>,
    client: Client,
    IdPath(profile_id): IdPath<ProfileId>,
    CsrfForm(form): CsrfForm<TwoStepForm>,
) -> Result<Response, WebError> {
    let require = form.require_two_step == "on";
    match set_profile_two_step(
        &state.services,
        &user,
        &profile_id,
        require,
        Some(&client.ip),
    )
    .await
    {
        Ok(name) => {
            let notice = if require {
                format!(
                    "{name} now requires two-step verification: its users set it up at their next sign-in."
                )
            } else {
                format!("{name} no longer requires two-step verification.")
            };
            Ok(profiles_page(&state, &user, Some(notice))
                .await?
                .into_response())
        }
        Err(ProfileError::Invalid(_) | ProfileError::NotEditable) => Err(WebError::NotFound),
        Err(ProfileError::Store(error)) => Err(error.into()),
    }
}
