//! The Users page: the counts of every view from `user_view_counts` (kept by triggers, see
//! migration 0006), and a page of rows with each unconfirmed user's live invitation and its
//! delivery state, found by keyset on (last name, id). A constant number of statements, each an
//! index seek, whatever the size of the organization: page 2,000 costs what page 1 costs.

use super::{Store, StoreError, on_pool};
use crate::tenancy::OrganizationScope;

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

/// A row's place in the order of the Users page: last name, then id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub last_name: String,
    pub id: String,
}

/// Which rows of a view a page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// The first rows in name order.
    First,
    /// The rows that follow this one (Next).
    After(RowKey),
    /// The rows that come just before this one (Previous).
    Before(RowKey),
    /// The last rows in name order.
    Last,
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
    pub profile_name: String,
    pub role_name: String,
    pub invited_at: Option<i64>,
    pub invitation_expires_at: Option<i64>,
    pub inviter_first_name: Option<String>,
    pub inviter_last_name: Option<String>,
    pub delivery_state: Option<String>,
    pub delivery_error: Option<String>,
}

impl DirectoryRow {
    /// Where this row sits in the order of the page, for the Next and Previous links.
    pub fn key(&self) -> RowKey {
        RowKey {
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

/// How many users match a search, counting at most `$3`: a search is a `LIKE '%...%'` that no
/// index serves, so an unbounded count would read the whole company on every page of a search
/// that matches many. Beyond the bound the page says "more than".
pub fn search_count_sql(view: ViewFilter) -> String {
    format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM users u WHERE u.org_id = $1{}{SEARCH_CONDITION} \
         LIMIT $3) matches",
        view.condition()
    )
}

/// The page's users are found first, on their own (the ordered index walk stops after `limit`
/// rows), and only those are joined with their profile, role, invitation, inviter and email. A
/// planner that misjudges the view's size (PostgreSQL right after a bulk insert, before its
/// statistics catch up) could otherwise hash-join and sort the whole view to show 50 rows.
const PAGE_SELECT: &str = "SELECT u.id, u.first_name, u.last_name, u.email, u.username, u.status, \
        p.name AS profile_name, r.name AS role_name, \
        i.created_at AS invited_at, i.expires_at AS invitation_expires_at, \
        inviter.first_name AS inviter_first_name, inviter.last_name AS inviter_last_name, \
        o.state AS delivery_state, o.last_error AS delivery_error";

const PAGE_JOINS: &str = "JOIN profiles p ON p.id = u.profile_id \
   JOIN roles r ON r.id = u.role_id \
   LEFT JOIN invitations i ON i.user_id = u.id AND i.consumed_at IS NULL \
        AND i.superseded_at IS NULL AND i.revoked_at IS NULL \
   LEFT JOIN users inviter ON inviter.id = i.sent_by \
   LEFT JOIN outbox o ON o.invitation_id = i.id";

/// One page of a view: `$1` organization, `$2` search pattern, then the cursor (`$3` last name,
/// `$4` id) when there is one, then the limit. Previous and Last walk the index backwards; the
/// caller gets the rows back in name order either way.
pub fn page_sql(view: ViewFilter, start: &PageStart) -> String {
    let (keyset, order, limit) = match start {
        PageStart::First => ("", "ASC", "$3"),
        PageStart::After(_) => (" AND (u.last_name, u.id) > ($3, $4)", "ASC", "$5"),
        PageStart::Before(_) => (" AND (u.last_name, u.id) < ($3, $4)", "DESC", "$5"),
        PageStart::Last => ("", "DESC", "$3"),
    };
    let order_by = format!("ORDER BY u.last_name {order}, u.id {order}");
    format!(
        "{PAGE_SELECT} FROM (SELECT u.id, u.first_name, u.last_name, u.email, u.username, \
                u.status, u.profile_id, u.role_id \
           FROM users u WHERE u.org_id = $1{}{SEARCH_CONDITION}{keyset} \
          {order_by} LIMIT {limit}) u \
         {PAGE_JOINS} {order_by}",
        view.condition()
    )
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

    /// How many users match a view and a search, counting no further than `at_most`.
    pub async fn count_matches(
        &self,
        scope: &OrganizationScope,
        view: ViewFilter,
        search: &str,
        at_most: i64,
    ) -> Result<i64, StoreError> {
        let sql = sqlx::AssertSqlSafe(search_count_sql(view));
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar(sql)
                .bind(scope.id())
                .bind(like_pattern(search))
                .bind(at_most)
                .fetch_one(pool)
                .await
        })?;
        Ok(count)
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
        let sql = sqlx::AssertSqlSafe(page_sql(view, start));
        let cursor = match start {
            PageStart::After(key) | PageStart::Before(key) => Some(key),
            PageStart::First | PageStart::Last => None,
        };
        let mut rows = on_pool!(self, |pool| {
            let mut query = sqlx::query_as::<_, DirectoryRow>(sql)
                .bind(scope.id())
                .bind(like_pattern(search));
            if let Some(key) = cursor {
                query = query.bind(&key.last_name).bind(&key.id);
            }
            query.bind(limit).fetch_all(pool).await
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
