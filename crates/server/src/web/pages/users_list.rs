//! Setup > Users, the list: views, search, filters by profile and role, sortable columns and
//! keyset paging, all kept in the address so that a link, a reload or the way back from a bulk
//! action shows the same list. The bulk actions are in `users_bulk`.

use super::Shell;
use super::role_choices::{RoleChoice, role_choices};
use super::users_paging::{
    PageRequest, Paging, SEARCH_COUNT_LIMIT, Total, link, load_page, position,
};
use crate::store::{
    DirectoryRow, SortColumn, SortOrder, UserFilters, UserMatch, ViewCounts, ViewFilter,
};
use crate::usecases::manage_users::BulkOutcome;
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::flash;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::{ManageUsers, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::{PersonalMessage, ProfileId, RoleId, UserId, UserStatus};

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

    pub fn parse(key: Option<&str>) -> Self {
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

    pub fn filter(self) -> ViewFilter {
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

/// A sortable column: its key in the address and its heading.
fn column_key(column: SortColumn) -> &'static str {
    match column {
        SortColumn::Name => "name",
        SortColumn::Status => "status",
        SortColumn::Role => "role",
        SortColumn::Profile => "profile",
        SortColumn::Invited => "invited",
        SortColumn::LastSignIn => "last_sign_in",
    }
}

fn column_label(column: SortColumn) -> &'static str {
    match column {
        SortColumn::Name => "Name",
        SortColumn::Status => "Status",
        SortColumn::Role => "Role",
        SortColumn::Profile => "Profile",
        SortColumn::Invited => "Invited",
        SortColumn::LastSignIn => "Last sign-in",
    }
}

/// What the list shows: the view, the search, the filters and the order. Every link of the page
/// and the bulk actions' way back carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListState {
    pub view: View,
    pub search: String,
    pub filters: UserFilters,
    pub sort: SortOrder,
}

impl ListState {
    /// Reads the address; an unknown view, column or direction, or a malformed id, is ignored.
    pub fn parse(query: &UsersQuery) -> Self {
        let column = SortColumn::ALL
            .into_iter()
            .find(|column| query.sort.as_deref() == Some(column_key(*column)))
            .unwrap_or(SortColumn::Name);
        Self {
            view: View::parse(query.view.as_deref()),
            search: query.q.trim().to_owned(),
            filters: UserFilters {
                profile: query.profile.as_deref().and_then(ProfileId::parse),
                role: query.role.as_deref().and_then(RoleId::parse),
            },
            sort: SortOrder {
                column,
                descending: query.dir.as_deref() == Some("desc"),
            },
        }
    }

    /// The users this state lists.
    pub fn matching(&self) -> UserMatch {
        UserMatch {
            view: self.view.filter(),
            search: self.search.clone(),
            filters: self.filters.clone(),
        }
    }

    /// The state as link parameters, leaving out what is the default.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        self.pairs_sorted(self.sort)
    }

    fn pairs_sorted(&self, sort: SortOrder) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("view", self.view.key().to_owned())];
        if !self.search.is_empty() {
            pairs.push(("q", self.search.clone()));
        }
        if let Some(profile) = &self.filters.profile {
            pairs.push(("profile", profile.to_string()));
        }
        if let Some(role) = &self.filters.role {
            pairs.push(("role", role.to_string()));
        }
        if sort != SortOrder::BY_NAME {
            pairs.push(("sort", column_key(sort.column).to_owned()));
            if sort.descending {
                pairs.push(("dir", "desc".to_owned()));
            }
        }
        pairs
    }
}

pub struct ViewOption {
    pub key: &'static str,
    pub label: String,
    pub selected: bool,
}

pub struct FilterOption {
    pub id: String,
    pub label: String,
    pub indent: String,
    pub selected: bool,
}

/// A column heading: a link that sorts by it (again: the other way), and `aria-sort` when the
/// list is sorted by it.
pub struct SortHeading {
    pub label: &'static str,
    pub link: String,
    pub aria_sort: Option<&'static str>,
    /// What following the link does, for the link's accessible name.
    pub action: &'static str,
    /// ▲ or ▼ beside the sorted column (hidden from screen readers, which hear `aria-sort`).
    pub arrow: &'static str,
}

fn headings(state: &ListState) -> Vec<SortHeading> {
    SortColumn::ALL
        .into_iter()
        .map(|column| {
            let current = state.sort.column == column;
            let descending = current && !state.sort.descending;
            let sort = SortOrder { column, descending };
            SortHeading {
                label: column_label(column),
                link: link(&state.pairs_sorted(sort), &[]),
                aria_sort: current.then_some(if state.sort.descending {
                    "descending"
                } else {
                    "ascending"
                }),
                action: if descending {
                    "sort descending"
                } else {
                    "sort ascending"
                },
                arrow: match (current, state.sort.descending) {
                    (false, _) => "",
                    (true, false) => " ▲",
                    (true, true) => " ▼",
                },
            }
        })
        .collect()
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
    pub invited: LocalTime,
    /// `None`: never signed in.
    pub last_sign_in: Option<LocalTime>,
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

pub fn full_name(first: Option<&str>, last: &str) -> String {
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

/// The colour of a user's initials, the same wherever they are shown.
pub(super) fn avatar_class(user_id: &str) -> String {
    let hash = user_id.bytes().fold(0u32, |sum, byte| {
        sum.wrapping_mul(31).wrapping_add(u32::from(byte))
    });
    format!("avatar-{}", hash % 8)
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

fn invitation_lines(row: &DirectoryRow, times: &LocalTimes) -> Vec<InvitationLine> {
    let (Some(invited_at), Some(expires_at)) = (row.invited_at, row.invitation_expires_at) else {
        return vec![InvitationLine::text(
            "No live invitation; reinvite to send one",
        )];
    };
    let by = row
        .inviter_last_name
        .as_deref()
        .map(|last| format!(" by {}", full_name(row.inviter_first_name.as_deref(), last)))
        .unwrap_or_default();
    let expires_at = times.at(expires_at);
    let mut lines = vec![
        InvitationLine {
            before: "Invited ".to_owned(),
            time: Some(times.at(invited_at)),
            after: by,
        },
        InvitationLine {
            before: if expires_at.is_past() {
                "Invitation expired "
            } else {
                "Expires "
            }
            .to_owned(),
            time: Some(expires_at),
            after: String::new(),
        },
    ];
    lines.extend(
        delivery_label(row.delivery_state.as_deref(), row.delivery_error.as_deref())
            .map(InvitationLine::text),
    );
    lines
}

fn list_item(row: DirectoryRow, times: &LocalTimes, picture_url: Option<String>) -> UserListItem {
    let status = row.status.parse::<UserStatus>().ok();
    let invitation = if status == Some(UserStatus::Unconfirmed) {
        invitation_lines(&row, times)
    } else {
        Vec::new()
    };
    UserListItem {
        full_name: full_name(row.first_name.as_deref(), &row.last_name),
        initials: initials(row.first_name.as_deref(), &row.last_name),
        avatar_class: avatar_class(&row.id),
        picture_url,
        status: status.map_or("Unknown", UserStatus::label),
        invited: times.at(row.created_at),
        last_sign_in: row.last_sign_in_at.map(|at| times.at(at)),
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
    unconfirmed_view: bool,
    search: String,
    profiles: Vec<FilterOption>,
    roles: Vec<FilterOption>,
    sort: &'static str,
    dir: &'static str,
    headings: Vec<SortHeading>,
    users: Vec<UserListItem>,
    /// "12345" or "more than 1000": how many users match, for "Select all … matching users".
    total: String,
    /// The page's own address parameters, which the bulk actions come back to.
    back: String,
    /// "Export CSV": every user of this view, search, filters and sort.
    export_link: String,
    paging: Paging,
    notice: Option<String>,
    outcome: Option<BulkOutcome>,
    /// For the Personal Message box beside Reinvite.
    personal_message_limit: usize,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct UsersQuery {
    pub view: Option<String>,
    #[serde(default)]
    pub q: String,
    pub profile: Option<String>,
    pub role: Option<String>,
    /// The sort column's key, and `desc` for the reverse order.
    pub sort: Option<String>,
    pub dir: Option<String>,
    /// Paging (see `users_paging`): the row to go on from (and its sort value), or the last
    /// page, and the position of the page's first row.
    pub after: Option<String>,
    pub before: Option<String>,
    pub last: Option<String>,
    pub at: Option<String>,
    pub first_row: Option<String>,
    /// The id of the user just invited, for the notice naming their email.
    pub invited: Option<String>,
}

impl UsersQuery {
    /// The page a link asks for, in the order of `state`.
    pub fn page_request(&self, state: &ListState) -> PageRequest {
        PageRequest::parse(
            (
                self.after.as_deref(),
                self.before.as_deref(),
                self.last.as_deref(),
            ),
            self.at.as_deref(),
            self.first_row.as_deref(),
            state.sort.column,
        )
    }
}

/// The list for `state` from `request`, with a notice or a bulk action's outcome above it.
pub async fn users_page(
    state: &AppState,
    user: &SignedInSession,
    list: &ListState,
    request: &PageRequest,
    notice: Option<String>,
    outcome: Option<BulkOutcome>,
) -> Result<UsersPage, WebError> {
    let store = &state.services.store;
    let counts = store.view_counts(&user.scope).await?;
    let matching = list.matching();
    let total = if matching.is_whole_view() {
        Total::Exact(list.view.count(&counts))
    } else {
        let counted = store
            .count_matches(&user.scope, &matching, SEARCH_COUNT_LIMIT + 1)
            .await?;
        Total::of_search(counted)
    };
    let pairs = list.pairs();
    let (rows, paging) = load_page(
        store,
        &user.scope,
        (&matching, list.sort),
        &pairs,
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
            list_item(row, &times, picture_url)
        })
        .collect();
    let profiles = store
        .profiles(&user.scope)
        .await?
        .into_iter()
        .map(|profile| FilterOption {
            selected: list.filters.profile.as_ref() == Some(&profile.id),
            id: profile.id.to_string(),
            label: profile.name,
            indent: String::new(),
        })
        .collect();
    let selected_role = list.filters.role.as_ref().map(ToString::to_string);
    let roles = role_choices(&store.roles(&user.scope).await?)
        .into_iter()
        .map(
            |RoleChoice {
                 id, name, indent, ..
             }| FilterOption {
                selected: selected_role.as_ref() == Some(&id),
                id,
                label: name,
                indent,
            },
        )
        .collect();
    let export_link = format!(
        "/setup/users/export.csv?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish()
    );
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs.iter().chain(&position(request)) {
        back.append_pair(name, value);
    }
    Ok(UsersPage {
        shell: Some(Shell::of(user)),
        title: "Users",
        csrf_token: user.csrf_token.clone(),
        views: View::ALL
            .into_iter()
            .map(|option| ViewOption {
                key: option.key(),
                label: format!("{} ({})", option.label(), option.count(&counts)),
                selected: option == list.view,
            })
            .collect(),
        unconfirmed_view: list.view == View::Unconfirmed,
        search: list.search.clone(),
        profiles,
        roles,
        sort: column_key(list.sort.column),
        dir: if list.sort.descending { "desc" } else { "asc" },
        headings: headings(list),
        users,
        total: total.to_string(),
        back: back.finish(),
        export_link,
        paging,
        notice,
        outcome,
        personal_message_limit: PersonalMessage::MAX_LENGTH,
    })
}

/// What the Users page says after New User saves. The email is only queued then (the outbox
/// worker sends it, and the mail server may be down): the notice says so rather than promise a
/// delivery nobody has seen yet. The first sentence is the one the spec names.
fn invited_notice(email: &str) -> String {
    format!(
        "Invitation sent to {email}. The email is queued and goes out as soon as the mail server accepts it."
    )
}

pub async fn list(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    jar: CookieJar,
    Query(query): Query<UsersQuery>,
) -> Result<Response, WebError> {
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
        None => None,
    };
    // What an action that ends here did: a bulk action, or Delete on a user's page.
    let (jar, said) = flash::take(jar, state.settings.https, "/setup/users");
    let outcome = BulkOutcome::from_lines(said);
    let list = ListState::parse(&query);
    let request = query.page_request(&list);
    let page = users_page(&state, &user, &list, &request, notice, outcome).await?;
    Ok((jar, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_sort_by_their_column_and_again_the_other_way() {
        let query = UsersQuery {
            view: Some("unconfirmed".to_owned()),
            q: " ada ".to_owned(),
            sort: Some("invited".to_owned()),
            ..UsersQuery::default()
        };
        let state = ListState::parse(&query);
        let headings = headings(&state);
        let invited = &headings[4];
        assert_eq!(invited.aria_sort, Some("ascending"));
        assert_eq!(
            invited.link,
            "/setup/users?view=unconfirmed&q=ada&sort=invited&dir=desc"
        );
        assert_eq!(headings[0].aria_sort, None);
        assert_eq!(headings[0].link, "/setup/users?view=unconfirmed&q=ada");
    }

    #[test]
    fn unknown_columns_directions_and_ids_are_ignored() {
        let query = UsersQuery {
            sort: Some("password_hash".to_owned()),
            dir: Some("sideways".to_owned()),
            profile: Some("not-an-id".to_owned()),
            ..UsersQuery::default()
        };
        let state = ListState::parse(&query);
        assert_eq!(state.sort, SortOrder::BY_NAME);
        assert_eq!(state.filters, UserFilters::default());
        assert_eq!(state.pairs(), vec![("view", "all".to_owned())]);
    }
}
