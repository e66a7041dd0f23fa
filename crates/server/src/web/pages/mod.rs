//! Server-rendered pages, one module per screen; every page is a typed askama template.

pub mod account;
pub mod api_token_new;
pub mod api_tokens;
pub mod audit;
pub mod company;
pub mod edit_user;
pub mod first_run;
pub mod help;
pub mod home;
pub mod join;
pub mod login;
pub mod passkeys;
pub mod password;
pub mod pictures;
pub mod profiles;
pub mod role_choices;
pub mod roles;
pub mod scim_setup;
pub mod second_step;
pub mod setup;
pub mod sso;
pub mod sso_setup;
pub mod terms;
pub mod terms_admin;
pub mod two_step;
pub mod user_import;
pub mod user_page;
pub mod user_two_step;
pub mod users;
pub mod users_bulk;
pub mod users_export;
pub mod users_list;
pub mod users_paging;

use super::error::WebError;
use crate::usecases::sessions::SignedInSession;
use askama::Template;
use onestop_domain::Permission;

/// The header of every signed-in page.
#[derive(Debug, Clone)]
pub struct Shell {
    pub account_name: String,
    pub user_name: String,
    pub can_view_setup: bool,
    pub csrf_token: String,
}

impl Shell {
    pub fn of(session: &SignedInSession) -> Self {
        Self {
            account_name: session.account_name.clone(),
            user_name: session.full_name(),
            can_view_setup: session.permissions.contains(Permission::ViewSetup),
            csrf_token: session.csrf_token.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    /// `None` when rendered; the session layer renders the page again with the header for a
    /// signed-in visitor (error pages must render even when the session is the problem).
    pub shell: Option<Shell>,
    pub title: &'a str,
    pub message: &'a str,
}

pub async fn not_found() -> WebError {
    WebError::NotFound
}
