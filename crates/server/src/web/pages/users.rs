//! Setup > Users: the organization's users, and New User.

use super::Shell;
use crate::store::{ProfileRow, RoleRow, UserRow};
use crate::usecases::FieldErrors;
use crate::usecases::invite_user::{
    GrantOptions, InviteError, InviteInput, grant_options, invite_user,
};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{ManageUsers, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::{Permission, Timestamp, UserStatus};

pub struct UserListItem {
    pub full_name: String,
    pub email: String,
    pub username: Option<String>,
    pub role: String,
    pub profile: String,
    pub status: &'static str,
    pub added: String,
}

impl From<UserRow> for UserListItem {
    fn from(row: UserRow) -> Self {
        Self {
            full_name: match &row.first_name {
                Some(first) => format!("{first} {}", row.last_name),
                None => row.last_name.clone(),
            },
            status: row
                .status
                .parse::<UserStatus>()
                .map_or("Unknown", UserStatus::label),
            added: Timestamp::from_unix_millis(row.created_at).to_string(),
            email: row.email,
            username: row.username,
            role: row.role_name,
            profile: row.profile_name,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    shell: Option<Shell>,
    title: &'static str,
    users: Vec<UserListItem>,
    notice: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct UsersQuery {
    /// The id of the user just invited, for "Invitation sent to {email}."
    invited: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    Query(query): Query<UsersQuery>,
) -> Result<UsersPage, WebError> {
    let store = &state.services.store;
    let notice = match &query.invited {
        Some(user_id) => store
            .user_email(&user.org_id, user_id)
            .await?
            .map(|email| format!("Invitation sent to {email}.")),
        None => None,
    };
    let users = store
        .users(&user.org_id)
        .await?
        .into_iter()
        .map(UserListItem::from)
        .collect();
    Ok(UsersPage {
        shell: Some(Shell::of(&user)),
        title: "Users",
        users,
        notice,
    })
}

/// A profile offered on New User, with what it allows.
pub struct ProfileChoice {
    pub id: String,
    pub name: String,
    pub description: String,
    pub allows: Vec<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "new_user.html")]
pub struct NewUserPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    form: NewUserForm,
    profiles: Vec<ProfileChoice>,
    roles: Vec<RoleRow>,
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

fn profile_choice(profile: ProfileRow) -> ProfileChoice {
    let allows = profile
        .permissions()
        .map(|permissions| permissions.iter().map(Permission::label).collect())
        .unwrap_or_default();
    ProfileChoice {
        id: profile.id,
        name: profile.name,
        description: profile.description,
        allows,
    }
}

fn new_user_page(
    user: &RequirePermission<ManageUsers>,
    options: GrantOptions,
    form: NewUserForm,
    errors: FieldErrors,
) -> NewUserPage {
    NewUserPage {
        shell: Some(Shell::of(user)),
        title: "New User",
        csrf_token: user.csrf_token.clone(),
        form,
        profiles: options.profiles.into_iter().map(profile_choice).collect(),
        roles: options.roles,
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
        profile_id: options
            .profiles
            .last()
            .map(|profile| profile.id.clone())
            .unwrap_or_default(),
        role_id: options
            .roles
            .last()
            .map(|role| role.id.clone())
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
    match invite_user(&state.services, &user, &input, Some(&client.ip)).await {
        Ok(user_id) => Ok(Redirect::to(&format!("/setup/users?invited={user_id}")).into_response()),
        Err(InviteError::Invalid(errors)) => {
            let options = grant_options(&state.services, &user).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                new_user_page(&user, options, form, errors),
            )
                .into_response())
        }
        Err(InviteError::Internal(error)) => Err(WebError::Internal(error)),
    }
}
