//! Setup > Users: New User and Edit User with its buttons. The list is `users_list`, its bulk
//! actions `users_bulk`.

use super::Shell;
use super::role_choices::{RoleChoice, role_choices};
use super::users_bulk::{ConfirmFrom, confirm_page};
use super::users_list::{ListState, UsersQuery, users_page};
use super::users_paging::PageRequest;
use crate::store::ProfileRow;
use crate::usecases::FieldErrors;
use crate::usecases::invite_user::{
    GrantOptions, InviteError, InviteInput, grant_options, invite_user,
};
use crate::usecases::manage_users::{
    BulkAction, BulkOutcome, EditError, EditInput, Selection, bulk_preview, delete_users,
    edit_user, reinvite_users, set_users_status, user_to_edit,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{IdPath, ManageUsers, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::UserId;
use onestop_domain::{Permission, UserStatus};

/// A profile offered on New User and Edit User, with what it allows.
pub struct ProfileChoice {
    pub id: String,
    pub name: String,
    pub description: String,
    pub allows: Vec<&'static str>,
}

fn profile_choice(profile: ProfileRow) -> ProfileChoice {
    let allows = profile
        .permissions()
        .map(|permissions| permissions.iter().map(Permission::label).collect())
        .unwrap_or_default();
    ProfileChoice {
        id: profile.id.to_string(),
        name: profile.name,
        description: profile.description,
        allows,
    }
}

/// The profile that hands over the fewest permissions: the safest suggestion, whatever order
/// the profiles were made in (a fresh clone of Administrator is not it). Among equals, the
/// built-in Standard profile, then the first by name.
fn least_powerful(profiles: &[ProfileRow]) -> Option<&ProfileRow> {
    profiles.iter().min_by_key(|profile| {
        let permissions = profile
            .permissions()
            .map_or(usize::MAX, |permissions| permissions.iter().count());
        (
            permissions,
            profile.builtin.as_deref() != Some("standard"),
            profile.name.clone(),
        )
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "new_user.html")]
pub struct NewUserPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    form: NewUserForm,
    profiles: Vec<ProfileChoice>,
    roles: Vec<RoleChoice>,
    errors: FieldErrors,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    profile_id: String,
    #[serde(default)]
    role_id: String,
}

impl CarriesCsrfToken for NewUserForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn new_user_page(
    user: &SignedInSession,
    options: GrantOptions,
    form: NewUserForm,
    errors: FieldErrors,
) -> NewUserPage {
    NewUserPage {
        shell: Some(Shell::of(user)),
        title: "New User",
        csrf_token: user.csrf_token.clone(),
        form,
        roles: role_choices(&options.roles),
        profiles: options.profiles.into_iter().map(profile_choice).collect(),
        errors,
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
) -> Result<NewUserPage, WebError> {
    let options = grant_options(&state.services, &user).await?;
    // Suggest the least powerful profile and the lowest role offered.
    let form = NewUserForm {
        profile_id: least_powerful(&options.profiles)
            .map(|profile| profile.id.to_string())
            .unwrap_or_default(),
        role_id: options
            .roles
            .last()
            .map(|role| role.id.to_string())
            .unwrap_or_default(),
        ..NewUserForm::default()
    };
    Ok(new_user_page(&user, options, form, FieldErrors::default()))
}

pub async fn create(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> Result<Response, WebError> {
    let input = InviteInput {
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        profile_id: form.profile_id.clone(),
        role_id: form.role_id.clone(),
    };
    let (status, errors) = match invite_user(&state.services, &user, &input, Some(&client.ip)).await
    {
        Ok(user_id) => {
            return Ok(Redirect::to(&format!("/setup/users?invited={user_id}")).into_response());
        }
        Err(InviteError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        // The address belongs to a user who exists (perhaps saved a moment ago by another
        // administrator): a conflict with the stored state, not a typing mistake.
        Err(InviteError::EmailTaken(errors)) => (StatusCode::CONFLICT, errors),
        Err(InviteError::Internal(error)) => return Err(WebError::Internal(error)),
    };
    let options = grant_options(&state.services, &user).await?;
    Ok((status, new_user_page(&user, options, form, errors)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "edit_user.html")]
pub struct EditUserPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    user_id: String,
    full_name: String,
    status: &'static str,
    unconfirmed: bool,
    deactivated: bool,
    form: EditUserForm,
    profiles: Vec<ProfileChoice>,
    roles: Vec<RoleChoice>,
    errors: FieldErrors,
    outcome: Option<BulkOutcome>,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct EditUserForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    profile_id: String,
    #[serde(default)]
    role_id: String,
}

impl CarriesCsrfToken for EditUserForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn not_found(error: EditError) -> WebError {
    match error {
        EditError::NotFound | EditError::Invalid(_) | EditError::EmailTaken(_) => {
            WebError::NotFound
        }
        EditError::Internal(error) => WebError::Internal(error),
    }
}

async fn edit_page(
    state: &AppState,
    admin: &SignedInSession,
    user_id: &UserId,
    form: Option<EditUserForm>,
    errors: FieldErrors,
    outcome: Option<BulkOutcome>,
) -> Result<EditUserPage, WebError> {
    let target = user_to_edit(&state.services, admin, user_id)
        .await
        .map_err(not_found)?;
    let options = grant_options(&state.services, admin).await?;
    let status = target.status()?;
    let form = form.unwrap_or_else(|| EditUserForm {
        csrf_token: String::new(),
        first_name: target.first_name.clone().unwrap_or_default(),
        last_name: target.last_name.clone(),
        email: target.email.clone(),
        profile_id: target.profile_id.to_string(),
        role_id: target.role_id.to_string(),
    });
    Ok(EditUserPage {
        shell: Some(Shell::of(admin)),
        title: "Edit User",
        csrf_token: admin.csrf_token.clone(),
        user_id: target.id.to_string(),
        full_name: target.full_name(),
        status: status.label(),
        unconfirmed: status == UserStatus::Unconfirmed,
        deactivated: status == UserStatus::Deactivated,
        form,
        roles: role_choices(&options.roles),
        profiles: options.profiles.into_iter().map(profile_choice).collect(),
        errors,
        outcome,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    IdPath(user_id): IdPath<UserId>,
) -> Result<EditUserPage, WebError> {
    edit_page(&state, &user, &user_id, None, FieldErrors::default(), None).await
}

pub async fn update(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    IdPath(user_id): IdPath<UserId>,
    CsrfForm(form): CsrfForm<EditUserForm>,
) -> Result<Response, WebError> {
    let input = EditInput {
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        profile_id: form.profile_id.clone(),
        role_id: form.role_id.clone(),
    };
    match edit_user(&state.services, &user, &user_id, &input, Some(&client.ip)).await {
        Ok(()) => Ok(Redirect::to("/setup/users?saved=1").into_response()),
        Err(EditError::Invalid(errors)) => {
            let page = edit_page(&state, &user, &user_id, Some(form), errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(EditError::EmailTaken(errors)) => {
            let page = edit_page(&state, &user, &user_id, Some(form), errors, None).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(not_found(other)),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct UserActionForm {
    #[serde(default)]
    csrf_token: String,
    /// "deactivate", "activate", "reinvite" or "delete".
    #[serde(default)]
    action: String,
    /// Set by the confirmation page that Delete and Deactivate show first.
    #[serde(default)]
    confirmed: Option<String>,
}

impl CarriesCsrfToken for UserActionForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The buttons on Edit User: the same use cases as the bulk actions, for one user.
pub async fn act(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    IdPath(user_id): IdPath<UserId>,
    CsrfForm(form): CsrfForm<UserActionForm>,
) -> Result<Response, WebError> {
    let services = &state.services;
    // Like Edit User itself: a user of another organization, an unknown id, or someone this
    // administrator may not manage is not found, whichever button was pressed.
    user_to_edit(services, &user, &user_id)
        .await
        .map_err(not_found)?;
    let ids = [user_id.to_string()];
    if let Some(action) = BulkAction::parse(&form.action)
        && action.needs_confirmation()
        && form.confirmed.is_none()
    {
        let affected = bulk_preview(services, &user, action, &Selection::Ids(ids.to_vec()))
            .await
            .map_err(|error| WebError::Internal(anyhow::anyhow!("{error}")))?;
        if !affected.is_empty() {
            let from = ConfirmFrom {
                post_to: format!("/setup/users/{user_id}/actions"),
                back: String::new(),
                cancel: format!("/setup/users/{user_id}"),
            };
            return Ok(confirm_page(&user, action, affected, from).into_response());
        }
    }
    let ip = Some(client.ip.as_str());
    let outcome = match form.action.as_str() {
        "reinvite" => reinvite_users(services, &user, &ids, ip).await,
        "delete" => delete_users(services, &user, &ids, ip).await,
        "deactivate" => set_users_status(services, &user, &ids, true, ip).await,
        "activate" => set_users_status(services, &user, &ids, false, ip).await,
        _ => {
            return Err(WebError::BadRequest(
                "Choose one of the buttons on the page.".to_owned(),
            ));
        }
    }
    .map_err(|error| WebError::Internal(anyhow::anyhow!("{error}")))?;
    if form.action == "delete" && outcome.skipped.is_empty() {
        let list = ListState::parse(&UsersQuery::default());
        let page = users_page(
            &state,
            &user,
            &list,
            &PageRequest::FIRST,
            None,
            Some(outcome),
        )
        .await?;
        return Ok(page.into_response());
    }
    Ok(edit_page(
        &state,
        &user,
        &user_id,
        None,
        FieldErrors::default(),
        Some(outcome),
    )
    .await?
    .into_response())
}
