//! Setup > Users: the views, search and paging, bulk actions, and New User.

use super::Shell;
use super::users_paging::{PageRequest, Paging, SEARCH_COUNT_LIMIT, Total, load_page};
use crate::store::{DirectoryRow, ProfileRow, RoleRow, ViewCounts, ViewFilter};
use crate::usecases::FieldErrors;
use crate::usecases::invite_user::{
    GrantOptions, InviteError, InviteInput, grant_options, invite_user, preview_invitation,
};
use crate::usecases::manage_users::{
    BulkOutcome, ManageUsersError, delete_users, reinvite_users, set_users_status,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::flash;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::security::EMAIL_PREVIEW_CONTENT_SECURITY_POLICY;
use crate::web::session::{ManageUsers, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::UserId;
use onestop_domain::{Permission, PersonalMessage, UserStatus};

/// The drop-down's views, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    All,
    Active,
    Unconfirmed,
    Deactivated,
    Admins,
}

impl View {
    const ALL: [View; 5] = [
        Self::All,
        Self::Active,
        Self::Unconfirmed,
        Self::Deactivated,
        Self::Admins,
    ];

    fn parse(key: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|view| Some(view.key()) == key)
            .unwrap_or(Self::All)
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Active => "active",
            Self::Unconfirmed => "unconfirmed",
            Self::Deactivated => "deactivated",
            Self::Admins => "admins",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All Users",
            Self::Active => "Active Users",
            Self::Unconfirmed => "Unconfirmed Users",
            Self::Deactivated => "Deactivated Users",
            Self::Admins => "Admin Users",
        }
    }

    fn filter(self) -> ViewFilter {
        match self {
            Self::All => ViewFilter::All,
            Self::Active => ViewFilter::Active,
            Self::Unconfirmed => ViewFilter::Unconfirmed,
            Self::Deactivated => ViewFilter::Deactivated,
            Self::Admins => ViewFilter::Admins,
        }
    }

    fn count(self, counts: &ViewCounts) -> i64 {
        match self {
            Self::All => counts.all_users,
            Self::Active => counts.active,
            Self::Unconfirmed => counts.unconfirmed,
            Self::Deactivated => counts.deactivated,
            Self::Admins => counts.admins,
        }
    }
}

pub struct ViewOption {
    pub key: &'static str,
    pub label: String,
    pub selected: bool,
}

/// One row as the page shows it.
pub struct UserListItem {
    pub id: String,
    pub full_name: String,
    pub initials: String,
    pub avatar_class: String,
    /// The user's picture, shown instead of the initials when they have one.
    pub picture_url: Option<String>,
    pub email: String,
    pub username: Option<String>,
    pub role: String,
    pub profile: String,
    pub status: &'static str,
    /// For Unconfirmed users: when and by whom, expiry, delivery.
    pub invitation: Vec<InvitationLine>,
}

/// A line about a user's invitation: words, perhaps a time (shown relative, with the reader's
/// local time in its title), more words.
pub struct InvitationLine {
    pub before: String,
    pub time: Option<LocalTime>,
    pub after: String,
}

impl InvitationLine {
    fn text(text: impl Into<String>) -> Self {
        Self {
            before: text.into(),
            time: None,
            after: String::new(),
        }
    }
}

pub(super) fn full_name(first: Option<&str>, last: &str) -> String {
    match first {
        Some(first) => format!("{first} {last}"),
        None => last.to_owned(),
    }
}

pub(super) fn initials(first: Option<&str>, last: &str) -> String {
    first
        .and_then(|first| first.chars().next())
        .into_iter()
        .chain(last.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

fn delivery_label(state: Option<&str>, error: Option<&str>) -> Option<String> {
    let reason = error.unwrap_or("no reason given");
    match state? {
        "queued" | "sending" => Some("Email: Queued".to_owned()),
        "sent" => Some("Email: Sent".to_owned()),
        "retrying" => Some(format!("Email: Retrying: {reason}")),
        "failed" => Some(format!("Email: Could not be delivered: {reason}")),
        _ => None,
    }
}

/// The colour of a user's initials, the same wherever they are shown.
pub(super) fn avatar_class(user_id: &str) -> String {
    let hash = user_id.bytes().fold(0u32, |sum, byte| {
        sum.wrapping_mul(31).wrapping_add(u32::from(byte))
    });
    format!("avatar-{}", hash % 8)
}

fn list_item(row: DirectoryRow, times: &LocalTimes) -> UserListItem {
    let status = row.status.parse::<UserStatus>().ok();
    let mut invitation = Vec::new();
    if status == Some(UserStatus::Unconfirmed) {
        match (row.invited_at, row.invitation_expires_at) {
            (Some(invited_at), Some(expires_at)) => {
                let by = row
                    .inviter_last_name
                    .as_deref()
                    .map(|last| {
                        format!(" by {}", full_name(row.inviter_first_name.as_deref(), last))
                    })
                    .unwrap_or_default();
                invitation.push(InvitationLine {
                    before: "Invited ".to_owned(),
                    time: Some(times.at(invited_at)),
                    after: by,
                });
                let expires_at = times.at(expires_at);
                invitation.push(InvitationLine {
                    before: if expires_at.is_past() {
                        "Invitation expired "
                    } else {
                        "Expires "
                    }
                    .to_owned(),
                    time: Some(expires_at),
                    after: String::new(),
                });
                invitation.extend(
                    delivery_label(row.delivery_state.as_deref(), row.delivery_error.as_deref())
                        .map(InvitationLine::text),
                );
            }
            _ => invitation.push(InvitationLine::text(
                "No live invitation; reinvite to send one",
            )),
        }
    }
    UserListItem {
        full_name: full_name(row.first_name.as_deref(), &row.last_name),
        initials: initials(row.first_name.as_deref(), &row.last_name),
        avatar_class: avatar_class(&row.id),
        picture_url: None,
        status: status.map_or("Unknown", UserStatus::label),
        id: row.id,
        email: row.email,
        username: row.username,
        role: row.role_name,
        profile: row.profile_name,
        invitation,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    views: Vec<ViewOption>,
    view: &'static str,
    unconfirmed_view: bool,
    search: String,
    /// For the Personal Message box beside Reinvite.
    personal_message_limit: usize,
    users: Vec<UserListItem>,
    paging: Paging,
    notice: Option<String>,
    outcome: Option<BulkOutcome>,
}

/// What the Users page says after New User saves. The email is only queued then (the outbox
/// worker sends it, and the mail server may be down): the notice says so rather than promise a
/// delivery nobody has seen yet. The first sentence is the one the spec names.
fn invited_notice(email: &str) -> String {
    format!(
        "Invitation sent to {email}. The email is queued and goes out as soon as the mail server accepts it."
    )
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct UsersQuery {
    view: Option<String>,
    #[serde(default)]
    q: String,
    /// Paging (see `users_paging`): the row to go on from, or the last page, and the position
    /// of the page's first row.
    after: Option<String>,
    before: Option<String>,
    last: Option<String>,
    first_row: Option<String>,
    /// The id of the user just invited, for the notice naming their email (see [`invited_notice`]).
    invited: Option<String>,
}

async fn users_page(
    state: &AppState,
    user: &SignedInSession,
    view: View,
    search: &str,
    request: &PageRequest,
    notice: Option<String>,
    outcome: Option<BulkOutcome>,
) -> Result<UsersPage, WebError> {
    let store = &state.services.store;
    let counts = store.view_counts(&user.scope).await?;
    let total = if search.is_empty() {
        Total::Exact(view.count(&counts))
    } else {
        let counted = store
            .count_matches(&user.scope, view.filter(), search, SEARCH_COUNT_LIMIT + 1)
            .await?;
        Total::of_search(counted)
    };
    let (rows, paging) = load_page(
        store,
        &user.scope,
        (view.filter(), view.key()),
        search,
        request,
        total,
    )
    .await?;
    let times = LocalTimes::for_reader(user, &state.services);
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let mut pictures = store.picture_digests(&user.scope, &ids).await?;
    let users = rows
        .into_iter()
        .map(|row| {
            let picture_url = pictures
                .remove(&row.id)
                .map(|digest| super::pictures::picture_url(&row.id, &digest));
            UserListItem {
                picture_url,
                ..list_item(row, &times)
            }
        })
        .collect();
    Ok(UsersPage {
        shell: Some(Shell::of(user)),
        title: "Users",
        csrf_token: user.csrf_token.clone(),
        views: View::ALL
            .into_iter()
            .map(|option| ViewOption {
                key: option.key(),
                label: format!("{} ({})", option.label(), option.count(&counts)),
                selected: option == view,
            })
            .collect(),
        view: view.key(),
        unconfirmed_view: view == View::Unconfirmed,
        search: search.to_owned(),
        personal_message_limit: PersonalMessage::MAX_LENGTH,
        users,
        paging,
        notice,
        outcome,
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    jar: CookieJar,
    Query(query): Query<UsersQuery>,
) -> Result<Response, WebError> {
    // What an action that ends here said (Delete on a user's page).
    let (jar, said) = flash::take(jar, state.settings.https, "/setup/users");
    let notice = match &query.invited {
        Some(user_id) => state
            .services
            .store
            .user_email(
                &user.scope,
                &UserId::parse(user_id).ok_or(WebError::NotFound)?,
            )
            .await?
            .map(|email| invited_notice(&email)),
        None => (!said.is_empty()).then(|| said.join(" ")),
    };
    let request = PageRequest::parse(
        query.after.as_deref(),
        query.before.as_deref(),
        query.last.as_deref(),
        query.first_row.as_deref(),
    );
    users_page(
        &state,
        &user,
        View::parse(query.view.as_deref()),
        query.q.trim(),
        &request,
        notice,
        None,
    )
    .await
    .map(|page| (jar, page).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    action: String,
    /// Repeated: `ids=a&ids=b`.
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    view: String,
    #[serde(default)]
    q: String,
    /// Sent with Reinvite, the same to every selected user.
    #[serde(default)]
    personal_message: String,
}

impl CarriesCsrfToken for BulkForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The bulk buttons: "Reinvite", "Delete", "Deactivate", "Activate". The result names what
/// happened to each user, on the same view.
pub async fn bulk(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    CsrfForm(form): CsrfForm<BulkForm>,
) -> Result<Response, WebError> {
    let services = &state.services;
    let ip = Some(client.ip.as_str());
    let outcome = if form.ids.is_empty() {
        Ok(BulkOutcome {
            summary: "Select at least one user first.".to_owned(),
            skipped: Vec::new(),
        })
    } else {
        match form.action.as_str() {
            "reinvite" => {
                reinvite_users(services, &user, &form.ids, &form.personal_message, ip).await
            }
            "delete" => delete_users(services, &user, &form.ids, ip).await,
            "deactivate" => set_users_status(services, &user, &form.ids, true, ip).await,
            "activate" => set_users_status(services, &user, &form.ids, false, ip).await,
            _ => {
                return Err(WebError::BadRequest(
                    "Choose one of the buttons above the list.".to_owned(),
                ));
            }
        }
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(
            error @ (ManageUsersError::TooManySelected
            | ManageUsersError::InvalidPersonalMessage(_)),
        ) => BulkOutcome {
            summary: error.to_string(),
            skipped: Vec::new(),
        },
        Err(ManageUsersError::Internal(error)) => return Err(WebError::Internal(error)),
    };
    let page = users_page(
        &state,
        &user,
        View::parse(Some(&form.view)),
        form.q.trim(),
        &PageRequest::FIRST,
        None,
        Some(outcome),
    )
    .await?;
    Ok(page.into_response())
}

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
    roles: Vec<RoleRow>,
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
        profiles: options.profiles.into_iter().map(profile_choice).collect(),
        roles: options.roles,
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
        profile_id: options
            .profiles
            .last()
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
