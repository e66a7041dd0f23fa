//! The Users list's bulk actions. The form posts the ticked ids, or "every user on this page", or
//! "every user that matches" (then the list's view, search and filters, read from `back`, pick
//! the users). Delete and Deactivate first show who they will change, with Confirm and Cancel,
//! a page that needs no JavaScript. Every action ends in a redirect to the list as it was
//! (POST-redirect-GET: reloading never repeats it), and its outcome travels there in `web::flash`.

use super::Shell;
use super::users_list::{ListState, UsersQuery, full_name};
use super::users_paging::{link, position};
use crate::usecases::manage_users::{
    BulkAction, BulkOutcome, ManageUsersError, Selection, bulk_action, bulk_preview,
};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::flash;
use crate::web::session::{ManageUsers, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

#[derive(Debug, Default, serde::Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    action: String,
    /// Repeated: `ids=a&ids=b`.
    #[serde(default)]
    ids: Vec<String>,
    /// "Select all on this page": with it, `page_ids` (the page's users) are selected too.
    #[serde(default)]
    all_on_page: Option<String>,
    #[serde(default)]
    page_ids: Vec<String>,
    /// "Select all matching users": every user the list in `back` matches, instead of ids.
    #[serde(default)]
    all_matching: Option<String>,
    /// Set by the confirmation page's Confirm button.
    #[serde(default)]
    confirmed: Option<String>,
    /// The list's address parameters (view, search, filters, sort, page) to come back to.
    #[serde(default)]
    back: String,
    /// Sent with Reinvite, the same to every selected user.
    #[serde(default)]
    personal_message: String,
}

impl CarriesCsrfToken for BulkForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl BulkForm {
    /// The list the form came from; anything malformed in it means the first page of All Users.
    fn list(&self) -> (ListState, UsersQuery) {
        let query: UsersQuery = serde_html_form::from_str(&self.back).unwrap_or_default();
        (ListState::parse(&query), query)
    }

    fn selection(&self, list: &ListState) -> Selection {
        if self.all_matching.is_some() {
            return Selection::Matching(list.matching());
        }
        let mut ids = self.ids.clone();
        if self.all_on_page.is_some() {
            ids.extend(self.page_ids.iter().cloned());
        }
        Selection::Ids(ids)
    }
}

/// The address of the list the form came from, at the same page.
fn list_address(list: &ListState, query: &UsersQuery) -> String {
    link(&list.pairs(), &position(&query.page_request(list)))
}

/// One user the confirmation page names.
pub struct Affected {
    pub name: String,
    pub email: String,
}

/// How many names the confirmation page lists; the rest are counted.
const NAMES_SHOWN: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "users_confirm.html")]
pub struct ConfirmPage {
    shell: Option<Shell>,
    title: String,
    csrf_token: String,
    action: &'static str,
    verb: &'static str,
    consequence: &'static str,
    /// Where Confirm posts: the bulk actions, or one user's buttons (Edit User).
    post_to: String,
    /// Every affected id, posted again by Confirm (what was listed is what is changed).
    ids: Vec<String>,
    shown: Vec<Affected>,
    more: usize,
    back: String,
    cancel: String,
}

fn count_of_users(count: usize) -> String {
    if count == 1 {
        "1 user".to_owned()
    } else {
        format!("{count} users")
    }
}

/// The bulk buttons: "Reinvite", "Delete", "Deactivate", "Activate".
pub async fn bulk(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<BulkForm>,
) -> Result<Response, WebError> {
    let services = &state.services;
    let Some(action) = BulkAction::parse(&form.action) else {
        return Err(WebError::BadRequest(
            "Choose one of the buttons above the list.".to_owned(),
        ));
    };
    let (list, query) = form.list();
    let back_to = list_address(&list, &query);
    let selection = form.selection(&list);
    if action.needs_confirmation() && form.confirmed.is_none() {
        let outcome = match bulk_preview(services, &user, action, &selection).await {
            Ok(affected) if !affected.is_empty() => {
                let from = ConfirmFrom {
                    post_to: "/setup/users/bulk".to_owned(),
                    back: form.back.clone(),
                    cancel: back_to,
                };
                return Ok(confirm_page(&user, action, affected, from).into_response());
            }
            Ok(_) => BulkOutcome {
                summary: format!(
                    "None of the selected users can be {}.",
                    if action == BulkAction::Delete {
                        "deleted (only users who have not joined can be)"
                    } else {
                        "deactivated"
                    }
                ),
                skipped: Vec::new(),
            },
            Err(error) => refusal(error)?,
        };
        return Ok(redirect_with(jar, &outcome, state.settings.https, &back_to));
    }
    let ip = Some(client.ip.as_str());
    let outcome = match bulk_action(
        services,
        &user,
        action,
        &selection,
        &form.personal_message,
        ip,
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(error) => refusal(error)?,
    };
    Ok(redirect_with(jar, &outcome, state.settings.https, &back_to))
}

/// A selection too large is said on the list; anything else is an error page.
fn refusal(error: ManageUsersError) -> Result<BulkOutcome, WebError> {
    match error {
        error @ (ManageUsersError::TooManySelected
        | ManageUsersError::TooManyMatching
        | ManageUsersError::InvalidPersonalMessage(_)) => Ok(BulkOutcome {
            summary: error.to_string(),
            skipped: Vec::new(),
        }),
        ManageUsersError::Internal(error) => Err(WebError::Internal(error)),
    }
}

/// Back to the list at `to`, which then says what happened (`web::flash`).
fn redirect_with(jar: CookieJar, outcome: &BulkOutcome, https: bool, to: &str) -> Response {
    let jar = flash::leave(jar, https, "/setup/users", &outcome.lines());
    (jar, Redirect::to(to)).into_response()
}

/// Where a confirmation page came from: where Confirm posts, the list to come back to, and
/// where Cancel leads.
pub struct ConfirmFrom {
    pub post_to: String,
    pub back: String,
    pub cancel: String,
}

/// "Delete 3 users?" or "Deactivate 1 user?", naming them, with Confirm and Cancel.
pub fn confirm_page(
    user: &crate::usecases::sessions::SignedInSession,
    action: BulkAction,
    affected: Vec<crate::store::BulkTarget>,
    from: ConfirmFrom,
) -> ConfirmPage {
    let (verb, consequence) = match action {
        BulkAction::Delete => (
            "Delete",
            "Their invitations stop working and they are removed from the company. This cannot be undone.",
        ),
        _ => (
            "Deactivate",
            "They are signed out everywhere and cannot sign in until activated again; their invitation links stop working.",
        ),
    };
    let total = affected.len();
    let ids = affected
        .iter()
        .map(|target| target.id.to_string())
        .collect();
    let shown = affected
        .into_iter()
        .take(NAMES_SHOWN)
        .map(|target| Affected {
            name: full_name(target.first_name.as_deref(), &target.last_name),
            email: target.email,
        })
        .collect();
    ConfirmPage {
        shell: Some(Shell::of(user)),
        title: format!("{verb} {}?", count_of_users(total)),
        csrf_token: user.csrf_token.clone(),
        action: action.key(),
        verb,
        consequence,
        ids,
        shown,
        more: total.saturating_sub(NAMES_SHOWN),
        post_to: from.post_to,
        back: from.back,
        cancel: from.cancel,
    }
}
