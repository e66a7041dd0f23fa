//! Setup > Users > New User: the form, its Preview email, and Save. The list is `users_list`,
//! its bulk actions `users_bulk`; one user's page is `user_page`, Edit User `edit_user`.

use super::Shell;
use super::role_choices::{RoleChoice, role_choices};
use crate::store::ProfileRow;
use crate::usecases::FieldErrors;
use crate::usecases::invite_user::{
    GrantOptions, InviteError, InviteInput, grant_options, invite_user, least_powerful,
    preview_invitation,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::security::EMAIL_PREVIEW_CONTENT_SECURITY_POLICY;
use crate::web::session::{ManageUsers, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::{Permission, PersonalMessage};

/// A profile offered on New User and Edit User, with what it allows.
pub struct ProfileChoice {
    pub id: String,
    pub name: String,
    pub description: String,
    pub allows: Vec<&'static str>,
}

pub(super) fn profile_choice(profile: ProfileRow) -> ProfileChoice {
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
    personal_message_limit: usize,
    /// After Preview email: what Save would send.
    preview: Option<EmailPreview>,
}

/// The email New User's Save would send, as Preview email shows it.
pub struct EmailPreview {
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
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
    #[serde(default)]
    personal_message: String,
}

impl NewUserForm {
    fn input(&self) -> InviteInput {
        InviteInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            profile_id: self.profile_id.clone(),
            role_id: self.role_id.clone(),
            personal_message: self.personal_message.clone(),
        }
    }
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
        personal_message_limit: PersonalMessage::MAX_LENGTH,
        preview: None,
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
    let input = form.input();
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

/// New User's "Preview email" (`formaction`, so it works without JavaScript): the same form,
/// with the email Save would send below it. Saves nothing.
pub async fn preview(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> Result<Response, WebError> {
    let (status, errors, preview) =
        match preview_invitation(&state.services, &user, &form.input()).await {
            Ok(email) => (
                StatusCode::OK,
                FieldErrors::default(),
                Some(EmailPreview {
                    recipient: email.recipient,
                    subject: email.subject,
                    text: email.body_text,
                    html: email.body_html,
                }),
            ),
            Err(InviteError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
            Err(InviteError::EmailTaken(errors)) => (StatusCode::CONFLICT, errors, None),
            Err(InviteError::Internal(error)) => return Err(WebError::Internal(error)),
        };
    let options = grant_options(&state.services, &user).await?;
    let mut page = new_user_page(&user, options, form, errors);
    page.preview = preview;
    let policy = [(
        header::CONTENT_SECURITY_POLICY,
        EMAIL_PREVIEW_CONTENT_SECURITY_POLICY,
    )];
    Ok((status, policy, page).into_response())
}
