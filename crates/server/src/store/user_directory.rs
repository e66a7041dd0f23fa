//! The Users page: the counts of every view from `user_view_counts` (kept by triggers, see
//! migration 0006), and a page of rows with each unconfirmed user's live invitation and its
//! delivery state, found by keyset on the sort column, last name and id. A constant number of statements, each an
//! index seek, whatever the size of the organization: page 2,000 costs what page 1 costs.

use super::{Store, StoreError, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{ProfileId, RoleId};

/// Which users a view shows; the SQL fragments are fixed text, never user input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewFilter {
    All,
    Active,
    Unconfirmed,
    Deactivated,
    Admins,
}

impl ViewFilter {
    pub const ALL: [ViewFilter; 5] = [
        Self::All,
        Self::Active,
        Self::Unconfirmed,
        Self::Deactivated,
        Self::Admins,
    ];

    /// Each condition leaves an index on `users` to walk in name order: (org_id, last_name, id),
    /// (org_id, status, last_name, id), or for administrators (org_id, profile_id, last_name, id)
    /// with the profile found first, which a join on `profiles` would not let the planner do.
    fn condition(self) -> &'static str {
        match self {
            Self::All => "",
            Self::Active => " AND u.status = 'active'",
            Self::Unconfirmed => " AND u.status = 'unconfirmed'",
            Self::Deactivated => " AND u.status = 'deactivated'",
            Self::Admins => {
                " AND u.profile_id = (SELECT ap.id FROM profiles ap \
                   WHERE ap.org_id = $1 AND ap.builtin = 'administrator')"
            }
        }
    }
}

/// The column a page is sorted by. Every sort but Name goes on by last name, then id, so the
/// order is total and a keyset can go on from any row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Name,
    Status,
    Role,
    Profile,
    Invited,
    LastSignIn,
}

impl SortColumn {
    /// In the order of the Users page's columns.
    pub const ALL: [SortColumn; 6] = [
        Self::Name,
        Self::Role,
        Self::Profile,
        Self::Status,
        Self::Invited,
        Self::LastSignIn,
    ];

    /// The column ahead of (last name, id); each has its indexes (migration 0009).
    fn expression(self) -> Option<&'static str> {
        match self {
            Self::Name => None,
            Self::Status => Some("u.status"),
            Self::Role => Some("u.role_name"),
            Self::Profile => Some("u.profile_name"),
            Self::Invited => Some("u.created_at"),
            Self::LastSignIn => Some("u.sign_in_order"),
        }
    }

    /// Whether the column holds times (an integer) rather than text.
    pub fn is_time(self) -> bool {
        matches!(self, Self::Invited | Self::LastSignIn)
    }
}

/// A column and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortOrder {
    pub column: SortColumn,
    pub descending: bool,
}

impl SortOrder {
    pub const BY_NAME: Self = Self {
        column: SortColumn::Name,
        descending: false,
    };
}

/// The filters beside the view; each is an equality an index leads with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilters {
    pub profile: Option<ProfileId>,
    pub role: Option<RoleId>,
}

impl UserFilters {
    pub fn is_empty(&self) -> bool {
        self.profile.is_none() && self.role.is_none()
    }
}

/// Which users: a view, a search and the filters. The same text finds a page, counts the
/// matches and selects every match for a bulk action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMatch {
    pub view: ViewFilter,
    pub search: String,
    pub filters: UserFilters,
}

impl UserMatch {
    pub fn view(view: ViewFilter) -> Self {
        Self {
            view,
            search: String::new(),
            filters: UserFilters::default(),
        }
    }

    /// Whether the view's count from `user_view_counts` is the number of matches.
    pub fn is_whole_view(&self) -> bool {
        self.search.trim().is_empty() && self.filters.is_empty()
    }
}

/// The value of a row's sort column, carried by the cursor of a page link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Time(i64),
}

/// A row's place in the order of the Users page: the sort column's value (none when sorted by
/// name), last name, then id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub sort_value: Option<SortValue>,
    pub last_name: String,
    pub id: String,
}

/// Which rows of a view a page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// The first rows in the page's order.
    First,
    /// The rows that follow this one (Next).
    After(RowKey),
    /// The rows that come just before this one (Previous).
    Before(RowKey),
    /// The last rows in the page's order.
    Last,
}

/// A value bound to one placeholder of a statement built here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Argument {
    Text(String),
    Integer(i64),
}

/// A statement with its arguments, in placeholder order.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub arguments: Vec<Argument>,
}

impl Statement {
    /// Starts with `$1` the organization and `$2` the search pattern.
    fn new(organization: &str, search: &str) -> Self {
        Self {
            sql: String::new(),
            arguments: vec![
                Argument::Text(organization.to_owned()),
                Argument::Text(like_pattern(search)),
            ],
        }
    }

    /// Binds `argument` to the next placeholder and returns its name.
    fn bind(&mut self, argument: Argument) -> String {
        self.arguments.push(argument);
        format!("${}", self.arguments.len())
    }

    /// The conditions of a view, its filters and its search, after `u.org_id = $1`.
    fn conditions(&mut self, matching: &UserMatch) -> String {
        let mut conditions = matching.view.condition().to_owned();
        if let Some(profile) = &matching.filters.profile {
            let placeholder = self.bind(Argument::Text(profile.to_string()));
            conditions.push_str(&format!(" AND u.profile_id = {placeholder}"));
        }
        if let Some(role) = &matching.filters.role {
            let placeholder = self.bind(Argument::Text(role.to_string()));
            conditions.push_str(&format!(" AND u.role_id = {placeholder}"));
        }
        conditions.push_str(SEARCH_CONDITION);
        conditions
    }
}

/// How many users each view holds.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct ViewCounts {
    pub all_users: i64,
    pub active: i64,
    pub unconfirmed: i64,
    pub deactivated: i64,
    pub admins: i64,
}

/// One row of the Users page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DirectoryRow {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub username: Option<String>,
    pub status: String,
    pub profile_id: String,
    pub profile_name: String,
    pub role_id: String,
    pub role_name: String,
    /// When the user was created, which is when they were first invited.
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    pub invited_at: Option<i64>,
    pub invitation_expires_at: Option<i64>,
    pub inviter_first_name: Option<String>,
    pub inviter_last_name: Option<String>,
    pub delivery_state: Option<String>,
    pub delivery_error: Option<String>,
}

impl DirectoryRow {
    /// Where this row sits in a page sorted by `column`, for the Next and Previous links.
    pub fn key(&self, column: SortColumn) -> RowKey {
        let sort_value = match column {
            SortColumn::Name => None,
            SortColumn::Status => Some(SortValue::Text(self.status.clone())),
            SortColumn::Role => Some(SortValue::Text(self.role_name.clone())),
            SortColumn::Profile => Some(SortValue::Text(self.profile_name.clone())),
            SortColumn::Invited => Some(SortValue::Time(self.created_at)),
            SortColumn::LastSignIn => Some(SortValue::Time(self.last_sign_in_at.unwrap_or(0))),
        };
        RowKey {
            sort_value,
            last_name: self.last_name.clone(),
            id: self.id.clone(),
        }
    }
}

/// Escapes `%`, `_` and `\` so a search for them matches them literally.
pub(super) fn like_pattern(search: &str) -> String {
    let escaped: String = search
        .trim()
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            other => vec![other],
        })
        .collect();
    format!("%{escaped}%")
}

const SEARCH_CONDITION: &str = " AND ($2 = '%%' OR u.name_search LIKE $2 ESCAPE '\\' \
     OR u.email_normalized LIKE $2 ESCAPE '\\' OR COALESCE(u.username_normalized, '') LIKE $2 ESCAPE '\\')";

/// The counts of every view: one row of `user_view_counts`.
pub const VIEW_COUNTS: &str = "SELECT all_users, active, unconfirmed, deactivated, admins \
     FROM user_view_counts WHERE org_id = $1";

/// How many users match a search or filters, counting at most `at_most`: a search is a
/// `LIKE '%...%'` that no index serves, and a filter's count is kept nowhere, so an unbounded
/// count would read the whole company on every page. Beyond the bound the page says "more than".
pub fn count_statement(organization: &str, matching: &UserMatch, at_most: i64) -> Statement {
    let mut statement = Statement::new(organization, &matching.search);
    let conditions = statement.conditions(matching);
    let limit = statement.bind(Argument::Integer(at_most));
    statement.sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM users u WHERE u.org_id = $1{conditions} \
         LIMIT {limit}) matches"
    );
    statement
}

/// The ids of the users that match, at most `at_most` of them: "Select all matching users".
pub fn matching_ids_statement(organization: &str, matching: &UserMatch, at_most: i64) -> Statement {
    let mut statement = Statement::new(organization, &matching.search);
    let conditions = statement.conditions(matching);
    let limit = statement.bind(Argument::Integer(at_most));
    statement.sql =
        format!("SELECT u.id FROM users u WHERE u.org_id = $1{conditions} LIMIT {limit}");
    statement
}

/// The page's users are found first, on their own (the ordered index walk stops after `limit`
/// rows), and only those are joined with their invitation, inviter and email. A planner that
/// misjudges the view's size (PostgreSQL right after a bulk insert, before its statistics catch
/// up) could otherwise hash-join and sort the whole view to show 50 rows. The role's and
/// profile's names are the user's own copies (migration 0009).
const PAGE_SELECT: &str = "SELECT u.id, u.first_name, u.last_name, u.email, u.username, u.status, \
        u.profile_id, u.profile_name, u.role_id, u.role_name, u.created_at, u.last_sign_in_at, \
        i.created_at AS invited_at, i.expires_at AS invitation_expires_at, \
        inviter.first_name AS inviter_first_name, inviter.last_name AS inviter_last_name, \
        o.state AS delivery_state, o.last_error AS delivery_error";

const PAGE_JOINS: &str = "LEFT JOIN invitations i ON i.user_id = u.id AND i.consumed_at IS NULL \
        AND i.superseded_at IS NULL AND i.revoked_at IS NULL \
   LEFT JOIN users inviter ON inviter.id = i.sent_by \
   LEFT JOIN outbox o ON o.invitation_id = i.id";

/// Whether a page from `start` walks the index upwards: forwards (First, Next) in an ascending
/// sort, backwards (Previous, Last) in a descending one.
fn walks_up(sort: SortOrder, start: &PageStart) -> bool {
    let forwards = matches!(start, PageStart::First | PageStart::After(_));
    forwards != sort.descending
}

/// One page: the users that match, in `sort`'s order from `start`, at most `limit`. Previous and
/// Last walk the other way; the caller gets the rows back in the page's order either way.
pub fn page_statement(
    organization: &str,
    matching: &UserMatch,
    sort: SortOrder,
    start: &PageStart,
    limit: i64,
) -> Statement {
    let mut statement = Statement::new(organization, &matching.search);
    let conditions = statement.conditions(matching);
    let up = walks_up(sort, start);
    let direction = if up { "ASC" } else { "DESC" };
    let mut columns: Vec<&str> = sort.column.expression().into_iter().collect();
    columns.extend(["u.last_name", "u.id"]);
    let keyset = match start {
        PageStart::After(key) | PageStart::Before(key) => {
            let mut values = Vec::new();
            if sort.column.expression().is_some() {
                values.push(statement.bind(match &key.sort_value {
                    Some(SortValue::Time(time)) => Argument::Integer(*time),
                    Some(SortValue::Text(text)) => Argument::Text(text.clone()),
                    // A cursor without a value for a sorted column is never made (the link
                    // parser refuses it); compare with the lowest text.
                    None => Argument::Text(String::new()),
                }));
            }
            values.push(statement.bind(Argument::Text(key.last_name.clone())));
            values.push(statement.bind(Argument::Text(key.id.clone())));
            format!(
                " AND ({}) {} ({})",
                columns.join(", "),
                if up { ">" } else { "<" },
                values.join(", ")
            )
        }
        PageStart::First | PageStart::Last => String::new(),
    };
    let limit = statement.bind(Argument::Integer(limit));
    let order_by = format!(
        "ORDER BY {}",
        columns
            .iter()
            .map(|column| format!("{column} {direction}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    statement.sql = format!(
        "{PAGE_SELECT} FROM (SELECT u.id, u.first_name, u.last_name, u.email, u.username, \
                u.status, u.profile_id, u.profile_name, u.role_id, u.role_name, u.created_at, \
                u.last_sign_in_at, u.sign_in_order \
           FROM users u WHERE u.org_id = $1{conditions}{keyset} \
          {order_by} LIMIT {limit}) u \
         {PAGE_JOINS} {order_by}"
    );
    statement
}

/// Binds a statement's arguments in order (inside `on_pool!`, once per backend).
macro_rules! bind_arguments {
    ($query:expr, $arguments:expr) => {{
        let mut query = $query;
        for argument in $arguments {
            query = match argument {
                Argument::Text(text) => query.bind(text.as_str()),
                Argument::Integer(number) => query.bind(*number),
            };
        }
        query
    }};
}

impl Store {
    pub async fn view_counts(&self, scope: &OrganizationScope) -> Result<ViewCounts, StoreError> {
        let counts = on_pool!(self, |pool| {
            sqlx::query_as::<_, ViewCounts>(VIEW_COUNTS)
                .bind(scope.id())
                .fetch_optional(pool)
                .await
        })?;
        Ok(counts.unwrap_or_default())
    }

    /// How many users match, counting no further than `at_most`.
    pub async fn count_matches(
        &self,
        scope: &OrganizationScope,
        matching: &UserMatch,
        at_most: i64,
    ) -> Result<i64, StoreError> {
        let statement = count_statement(scope.id().as_str(), matching, at_most);
        let sql = sqlx::AssertSqlSafe(statement.sql);
        let arguments = &statement.arguments;
        let count = on_pool!(self, |pool| {
            bind_arguments!(sqlx::query_scalar(sql), arguments)
                .fetch_one(pool)
                .await
        })?;
        Ok(count)
    }

    /// The ids of the users that match, at most `at_most` of them, in no particular order.
    pub async fn matching_user_ids(
        &self,
        scope: &OrganizationScope,
        matching: &UserMatch,
        at_most: i64,
    ) -> Result<Vec<String>, StoreError> {
        let statement = matching_ids_statement(scope.id().as_str(), matching, at_most);
        let sql = sqlx::AssertSqlSafe(statement.sql);
        let arguments = &statement.arguments;
        let ids = on_pool!(self, |pool| {
            bind_arguments!(sqlx::query_scalar(sql), arguments)
                .fetch_all(pool)
                .await
        })?;
        Ok(ids)
    }

    /// Up to `limit` rows of a view from `start`, in name order (last name, then id).
    pub async fn user_page(
        &self,
        scope: &OrganizationScope,
        view: ViewFilter,
        search: &str,
        start: &PageStart,
        limit: i64,
    ) -> Result<Vec<DirectoryRow>, StoreError> {
        let matching = UserMatch {
            search: search.to_owned(),
            ..UserMatch::view(view)
        };
        self.sorted_user_page(scope, &matching, SortOrder::BY_NAME, start, limit)
            .await
    }

    /// Up to `limit` rows that match, from `start`, in `sort`'s order.
    pub async fn sorted_user_page(
        &self,
        scope: &OrganizationScope,
        matching: &UserMatch,
        sort: SortOrder,
        start: &PageStart,
        limit: i64,
    ) -> Result<Vec<DirectoryRow>, StoreError> {
        let statement = page_statement(scope.id().as_str(), matching, sort, start, limit);
        let sql = sqlx::AssertSqlSafe(statement.sql);
        let arguments = &statement.arguments;
        let mut rows = on_pool!(self, |pool| {
            bind_arguments!(sqlx::query_as::<_, DirectoryRow>(sql), arguments)
                .fetch_all(pool)
                .await
        })?;
        if matches!(start, PageStart::Before(_) | PageStart::Last) {
            rows.reverse();
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_wildcards_are_matched_literally() {
        assert_eq!(like_pattern(" Ada_100% "), "%ada\\_100\\%%");
        assert_eq!(like_pattern(""), "%%");
    }
}
