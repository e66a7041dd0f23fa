//! Setup > Roles: the hierarchy as a tree, New Role, and each role's page with its homepage.

use super::Shell;
use crate::store::{RoleDetails, StepItem};
use crate::usecases::FieldErrors;
use crate::usecases::roles::{RoleError, RoleInput, create_role, delete_role, update_role};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{IdPath, ManageRoles, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::RoleId;

/// A role placed in the tree.
pub struct TreeRow {
    pub role: RoleDetails,
    pub depth: usize,
}

/// Parents before children, each child under its parent (depth-first).
fn tree(roles: Vec<RoleDetails>) -> Vec<TreeRow> {
    fn visit(parent: Option<&RoleId>, depth: usize, roles: &[RoleDetails], out: &mut Vec<TreeRow>) {
        for role in roles
            .iter()
            .filter(|role| role.parent_id.as_ref() == parent)
        {
            out.push(TreeRow {
                role: role.clone(),
                depth: depth.min(5),
            });
            if depth < 32 {
                visit(Some(&role.id), depth + 1, roles, out);
            }
        }
    }
    let mut out = Vec::new();
    visit(None, 0, &roles, &mut out);
    out
}

#[derive(Template, WebTemplate)]
#[template(path = "roles.html")]
pub struct RolesPage {
    shell: Option<Shell>,
    title: &'static str,
    rows: Vec<TreeRow>,
    notice: Option<String>,
}

async fn roles_page(
    state: &AppState,
    user: &SignedInSession,
    notice: Option<String>,
) -> Result<RolesPage, WebError> {
    let rows = tree(state.services.store.role_details(&user.scope).await?);
    Ok(RolesPage {
        shell: Some(Shell::of(user)),
        title: "Roles",
        rows,
        notice,
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: RequirePermission<ManageRoles>,
) -> Result<RolesPage, WebError> {
    roles_page(&state, &user, None).await
}

#[derive(Template, WebTemplate)]
#[template(path = "role_new.html")]
pub struct NewRolePage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    form: RoleForm,
    parents: Vec<TreeRow>,
    errors: FieldErrors,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    headline: String,
    #[serde(default)]
    introduction: String,
    #[serde(default)]
    step_title: Vec<String>,
    #[serde(default)]
    step_link: Vec<String>,
    #[serde(default)]
    step_description: Vec<String>,
}

impl CarriesCsrfToken for RoleForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl RoleForm {
    fn input(&self) -> RoleInput {
        let step = |list: &Vec<String>, index: usize| list.get(index).cloned().unwrap_or_default();
        RoleInput {
            name: self.name.clone(),
            parent_id: self.parent_id.clone(),
            description: self.description.clone(),
            headline: self.headline.clone(),
            introduction: self.introduction.clone(),
            steps: (0..self.step_title.len())
                .map(|index| {
                    (
                        step(&self.step_title, index),
                        step(&self.step_link, index),
                        step(&self.step_description, index),
                    )
                })
                .collect(),
        }
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    user: RequirePermission<ManageRoles>,
) -> Result<NewRolePage, WebError> {
    let parents = tree(state.services.store.role_details(&user.scope).await?);
    let form = RoleForm {
        parent_id: parents
            .first()
            .map(|row| row.role.id.to_string())
            .unwrap_or_default(),
        ..RoleForm::default()
    };
    Ok(NewRolePage {
        shell: Some(Shell::of(&user)),
        title: "New Role",
        csrf_token: user.csrf_token.clone(),
        form,
        parents,
        errors: FieldErrors::default(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    user: RequirePermission<ManageRoles>,
    client: Client,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, WebError> {
    match create_role(&state.services, &user, &form.input(), Some(&client.ip)).await {
        Ok(role_id) => Ok(Redirect::to(&format!("/setup/roles/{role_id}")).into_response()),
        Err(RoleError::Invalid(errors)) => {
            let parents = tree(state.services.store.role_details(&user.scope).await?);
            let page = NewRolePage {
                shell: Some(Shell::of(&user)),
                title: "New Role",
                csrf_token: user.csrf_token.clone(),
                form,
                parents,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(RoleError::NotAllowed | RoleError::NotFound) => Err(WebError::NotFound),
        Err(RoleError::Store(error)) => Err(error.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "role_edit.html")]
pub struct EditRolePage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    role: RoleDetails,
    is_root: bool,
    form: RoleForm,
    /// Saved First Steps, for the preview.
    saved_steps: Vec<StepItem>,
    /// Rows of the First Steps editor: the saved ones and two empty ones.
    step_rows: Vec<(String, String, String)>,
    parents: Vec<TreeRow>,
    move_targets: Vec<TreeRow>,
    errors: FieldErrors,
}

async fn edit_page(
    state: &AppState,
    user: &SignedInSession,
    role_id: &RoleId,
    submitted: Option<RoleForm>,
    errors: FieldErrors,
) -> Result<EditRolePage, WebError> {
    let store = &state.services.store;
    let role = store
        .role(&user.scope, role_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let saved_steps = store.role_steps(&role.id).await?;
    let all = tree(store.role_details(&user.scope).await?);
    let role_tree = store.role_tree(&user.scope).await?;
    let form = submitted.unwrap_or_else(|| RoleForm {
        name: role.name.clone(),
        parent_id: role
            .parent_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        description: role.description.clone(),
        headline: role.headline.clone(),
        introduction: role.introduction.clone(),
        step_title: saved_steps.iter().map(|step| step.title.clone()).collect(),
        step_link: saved_steps.iter().map(|step| step.href.clone()).collect(),
        step_description: saved_steps
            .iter()
            .map(|step| step.description.clone())
            .collect(),
        ..RoleForm::default()
    });
    let mut step_rows: Vec<(String, String, String)> = form
        .input()
        .steps
        .into_iter()
        .filter(|(title, _, _)| !title.trim().is_empty())
        .collect();
    step_rows.extend([
        (String::new(), String::new(), String::new()),
        (String::new(), String::new(), String::new()),
    ]);
    let (parents, move_targets): (Vec<TreeRow>, Vec<TreeRow>) = (
        all.iter()
            .filter(|row| {
                row.role.id != role.id && !role_tree.is_strictly_below(&row.role.id, &role.id)
            })
            .map(|row| TreeRow {
                role: row.role.clone(),
                depth: row.depth,
            })
            .collect(),
        all.iter()
            .filter(|row| row.role.id != role.id)
            .map(|row| TreeRow {
                role: row.role.clone(),
                depth: row.depth,
            })
            .collect(),
    );
    Ok(EditRolePage {
        shell: Some(Shell::of(user)),
        title: "Edit Role",
        csrf_token: user.csrf_token.clone(),
        is_root: role.parent_id.is_none(),
        role,
        form,
        saved_steps,
        step_rows,
        parents,
        move_targets,
        errors,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: RequirePermission<ManageRoles>,
    IdPath(role_id): IdPath<RoleId>,
) -> Result<EditRolePage, WebError> {
    edit_page(&state, &user, &role_id, None, FieldErrors::default()).await
}

pub async fn update(
    State(state): State<AppState>,
    user: RequirePermission<ManageRoles>,
    client: Client,
    IdPath(role_id): IdPath<RoleId>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, WebError> {
    match update_role(
        &state.services,
        &user,
        &role_id,
        &form.input(),
        Some(&client.ip),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/setup/roles/{role_id}")).into_response()),
        Err(RoleError::Invalid(errors)) => {
            let page = edit_page(&state, &user, &role_id, Some(form), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(RoleError::NotAllowed | RoleError::NotFound) => Err(WebError::NotFound),
        Err(RoleError::Store(error)) => Err(error.into()),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DeleteRoleForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    move_to: String,
}

impl CarriesCsrfToken for DeleteRoleForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub async fn delete(
    State(state): State<AppState>,
    user: RequirePermission<ManageRoles>,
    client: Client,
    IdPath(role_id): IdPath<RoleId>,
    CsrfForm(form): CsrfForm<DeleteRoleForm>,
) -> Result<Response, WebError> {
    match delete_role(&state.services, &user, &role_id, &form.move_to, Some(&client.ip)).await {
        Ok(()) => Ok(roles_page(&state, &user, Some("Role deleted; its users were moved.".to_owned())).await?.into_response()),
        Err(RoleError::NotAllowed) => Err(WebError::BadRequest("This role cannot be deleted: CEO stays the top of the hierarchy, and users need a role to move to.".to_owned())),
        Err(RoleError::Invalid(_) | RoleError::NotFound) => Err(WebError::NotFound),
        Err(RoleError::Store(error)) => Err(error.into()),
    }
}
