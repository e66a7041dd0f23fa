//! Edit User (`/setup/users/{id}/edit`): names, Profile and Role, and for an unconfirmed user the
//! email. Its buttons (Deactivate, Activate, Reinvite, Delete) are the user's page's actions.

use super::Shell;
use super::role_choices::{RoleChoice, role_choices};
use super::user_page::user_page_path;
use super::users::{ProfileChoice, profile_choice};
use crate::usecases::FieldErrors;
use crate::usecases::edit_user::{EditError, EditInput, edit_user, user_to_edit};
use crate::usecases::invite_user::grant_options;
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::flash;
use crate::web::session::{IdPath, ManageUsers, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::{UserId, UserStatus};

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

pub(super) fn not_found(error: EditError) -> WebError {
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
        profiles: options.profiles.into_iter().map(profile_choice).collect(),
        roles: role_choices(&options.roles),
        errors,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    IdPath(user_id): IdPath<UserId>,
) -> Result<EditUserPage, WebError> {
    edit_page(&state, &user, &user_id, None, FieldErrors::default()).await
}

/// "Save": back to the user's page, which says so.
pub async fn update(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    jar: CookieJar,
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
        Ok(()) => {
            let page = user_page_path(&user_id);
            let jar = flash::leave(
                jar,
                state.settings.https,
                &page,
                &["Changes saved.".to_owned()],
            );
            Ok((jar, Redirect::to(&page)).into_response())
        }
        Err(EditError::Invalid(errors)) => {
            let page = edit_page(&state, &user, &user_id, Some(form), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(EditError::EmailTaken(errors)) => {
            let page = edit_page(&state, &user, &user_id, Some(form), errors).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(not_found(other)),
    }
}
