//! The Users page: one query for the counts of every view, one for a page of rows with each
//! unconfirmed user's live invitation and its delivery state. Constant in number, whatever the
//! size of the organization.

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
    fn condition(self) -> &'static str {
        match self {
            Self::All => "",
            Self::Active => " AND u.status = 'active'",
            Self::Unconfirmed => " AND u.status = 'unconfirmed'",
            Self::Deactivated => " AND u.status = 'deactivated'",
            Self::Admins => " AND p.builtin = 'administrator'",
        }
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
    pub profile_name: String,
    pub role_name: String,
    pub invited_at: Option<i64>,
    pub invitation_expires_at: Option<i64>,
    pub inviter_first_name: Option<String>,
    pub inviter_last_name: Option<String>,
    pub delivery_state: Option<String>,
    pub delivery_error: Option<String>,
}

/// Escapes `%`, `_` and `\` so a search for them matches them literally.
fn like_pattern(search: &str) -> String {
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

impl Store {
    pub async fn view_counts(&self, scope: &OrganizationScope) -> Result<ViewCounts, StoreError> {
        let counts = on_pool!(self, |pool| {
            sqlx::query_as::<_, ViewCounts>(
                "SELECT COUNT(*) AS all_users, \
                        COALESCE(SUM(CASE WHEN u.status = 'active' THEN 1 ELSE 0 END), 0) AS active, \
                        COALESCE(SUM(CASE WHEN u.status = 'unconfirmed' THEN 1 ELSE 0 END), 0) AS unconfirmed, \
                        COALESCE(SUM(CASE WHEN u.status = 'deactivated' THEN 1 ELSE 0 END), 0) AS deactivated, \
                        COALESCE(SUM(CASE WHEN p.builtin = 'administrator' THEN 1 ELSE 0 END), 0) AS admins \
                   FROM users u JOIN profiles p ON p.id = u.profile_id WHERE u.org_id = $1",
            )
            .bind(scope.id())
            .fetch_one(pool)
            .await
        })?;
        Ok(counts)
    }

    /// How many users match a view and a search (for paging).
    pub async fn count_users(
        &self,
        scope: &OrganizationScope,
        view: ViewFilter,
        search: &str,
    ) -> Result<i64, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM users u JOIN profiles p ON p.id = u.profile_id WHERE u.org_id = $1{}{SEARCH_CONDITION}",
            view.condition()
        ));
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar(sql)
                .bind(scope.id())
                .bind(like_pattern(search))
                .fetch_one(pool)
                .await
        })?;
        Ok(count)
    }

    /// One page of a view, ordered by last name then id (stable across pages).
    pub async fn user_page(
        &self,
        scope: &OrganizationScope,
        view: ViewFilter,
        search: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<DirectoryRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT u.id, u.first_name, u.last_name, u.email, u.username, u.status, \
                    p.name AS profile_name, r.name AS role_name, \
                    i.created_at AS invited_at, i.expires_at AS invitation_expires_at, \
                    inviter.first_name AS inviter_first_name, inviter.last_name AS inviter_last_name, \
                    o.state AS delivery_state, o.last_error AS delivery_error \
               FROM users u \
               JOIN profiles p ON p.id = u.profile_id \
               JOIN roles r ON r.id = u.role_id \
               LEFT JOIN invitations i ON i.user_id = u.id AND i.consumed_at IS NULL \
                    AND i.superseded_at IS NULL AND i.revoked_at IS NULL \
               LEFT JOIN users inviter ON inviter.id = i.sent_by \
               LEFT JOIN outbox o ON o.invitation_id = i.id \
              WHERE u.org_id = $1{}{SEARCH_CONDITION} \
              ORDER BY u.last_name, u.id LIMIT $3 OFFSET $4",
            view.condition()
        ));
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, DirectoryRow>(sql)
                .bind(scope.id())
                .bind(like_pattern(search))
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
        })?;
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
