//! The statements that run on every page view, sign-in or worker tick, with sample arguments, so
//! that a test can ask each database how it would run them (tests/api/query_plans.rs). The text
//! is the store's own: a plan that turns into a full scan fails that test, not production.

use super::outbox::claim_due_emails_sql;
use super::user_directory::{
    Argument, PageStart, RowKey, SortColumn, SortOrder, SortValue, Statement, UserFilters,
    UserMatch, VIEW_COUNTS, ViewFilter, count_statement, matching_ids_statement, page_statement,
};
use super::{
    DatabaseKind, api_tokens, invitations, pictures, sessions, throttle, user_admin, user_record,
    users,
};
use onestop_domain::{ProfileId, RoleId};

/// A value to bind for one placeholder; the plan does not depend on it.
pub type SampleArgument = Argument;

fn text(text: &str) -> SampleArgument {
    Argument::Text(text.to_owned())
}

fn integer(number: i64) -> SampleArgument {
    Argument::Integer(number)
}

/// One statement as the store runs it, named for the failure message.
#[derive(Debug, Clone)]
pub struct HotQuery {
    pub name: String,
    pub sql: String,
    pub arguments: Vec<SampleArgument>,
    /// Whether the ORDER BY must come from an index: a page that sorts reads every row of its
    /// view before it can show 50.
    pub ordered_by_index: bool,
}

const ORGANIZATION_ID: &str = "01900000-0000-7000-8000-000000000001";
const USER: &str = "01900000-0000-7000-8000-000000000002";
const PROFILE: &str = "01900000-0000-7000-8000-000000000003";
const ROLE: &str = "01900000-0000-7000-8000-000000000004";

fn organization() -> SampleArgument {
    text(ORGANIZATION_ID)
}

fn hash() -> SampleArgument {
    text("5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")
}

fn query(
    name: impl Into<String>,
    sql: impl Into<String>,
    arguments: Vec<SampleArgument>,
) -> HotQuery {
    HotQuery {
        name: name.into(),
        sql: sql.into(),
        arguments,
        ordered_by_index: false,
    }
}

fn statement_query(name: String, statement: Statement, ordered_by_index: bool) -> HotQuery {
    HotQuery {
        ordered_by_index,
        ..query(name, statement.sql, statement.arguments)
    }
}

/// The Users page: the counts, the bounded count of a search or filter, "select all matching",
/// and a page of every view, with each filter, in every sort order and direction, from every
/// kind of start.
fn users_page_queries() -> Vec<HotQuery> {
    let mut queries = vec![query(
        "users page: view counts",
        VIEW_COUNTS,
        vec![organization()],
    )];
    let profile = ProfileId::parse(PROFILE);
    let role = RoleId::parse(ROLE);
    let filters = [
        UserFilters::default(),
        UserFilters {
            profile: profile.clone(),
            role: None,
        },
        UserFilters {
            profile: None,
            role: role.clone(),
        },
        UserFilters { profile, role },
    ];
    for view in ViewFilter::ALL {
        for filters in &filters {
            let matching = UserMatch {
                view,
                search: String::new(),
                filters: filters.clone(),
            };
            let searching = UserMatch {
                search: "ada".to_owned(),
                ..matching.clone()
            };
            let what = format!("{view:?} with {filters:?}");
            queries.push(statement_query(
                format!("users page: count of {what} and a search"),
                count_statement(ORGANIZATION_ID, &searching, 1001),
                false,
            ));
            queries.push(statement_query(
                format!("users page: every match of {what}"),
                matching_ids_statement(ORGANIZATION_ID, &matching, 1001),
                false,
            ));
            for column in SortColumn::ALL {
                let sort_value = match column {
                    SortColumn::Name => None,
                    column if column.is_time() => Some(SortValue::Time(1_700_000_000_000)),
                    _ => Some(SortValue::Text("Manager".to_owned())),
                };
                let key = RowKey {
                    sort_value,
                    last_name: "Lovelace".to_owned(),
                    id: USER.to_owned(),
                };
                let starts = [
                    PageStart::First,
                    PageStart::After(key.clone()),
                    PageStart::Before(key),
                    PageStart::Last,
                ];
                for descending in [false, true] {
                    let sort = SortOrder { column, descending };
                    for start in &starts {
                        queries.push(statement_query(
                            format!("users page: {what} by {sort:?} from {start:?}"),
                            page_statement(ORGANIZATION_ID, &matching, sort, start, 51),
                            true,
                        ));
                    }
                }
            }
        }
    }
    queries.push(query(
        "users page: the pictures of a page",
        pictures::picture_digests_sql(2),
        vec![organization(), text(USER), text(USER)],
    ));
    queries
}

/// A user's page: one user's row, invitations, reset emails, sessions and audit events; none
/// may read the whole outbox, trail or session table.
fn user_page_queries() -> Vec<HotQuery> {
    let user = || vec![organization(), text(USER)];
    let with_limit = |second: SampleArgument| vec![organization(), second, integer(20)];
    vec![
        query("user's page: the user", user_record::USER_RECORD, user()),
        query(
            "user's page: invitations and their emails",
            user_record::INVITATION_HISTORY,
            with_limit(text(USER)),
        ),
        query(
            "user's page: password reset emails",
            user_record::RESET_EMAIL_HISTORY,
            with_limit(text("ada@example.com")),
        ),
        query("user's page: sessions", user_record::USER_SESSIONS, user()),
        query(
            "user's page: audit events",
            user_record::USER_AUDIT_EVENTS,
            with_limit(text(USER)),
        ),
    ]
}

/// Every statement on a hot path of `kind`'s database.
pub fn hot_queries(kind: DatabaseKind) -> Vec<HotQuery> {
    let mut queries = users_page_queries();
    queries.extend(user_page_queries());
    queries.extend([
        query("session by token", sessions::FIND_SESSION, vec![hash()]),
        query(
            "API token by its hash",
            api_tokens::FIND_API_TOKEN,
            vec![hash()],
        ),
        query(
            "picture by user",
            pictures::FIND_PICTURE,
            vec![text(USER), organization()],
        ),
        query(
            "invitation by token",
            invitations::FIND_INVITATION,
            vec![hash()],
        ),
        query(
            "sign-in by email",
            users::SIGN_IN_BY_EMAIL,
            vec![text("ada@example.com")],
        ),
        query(
            "sign-in by username",
            users::SIGN_IN_BY_USERNAME,
            vec![text("ada")],
        ),
        query("throttle counter", throttle::THROTTLE_COUNTER, vec![hash()]),
        query(
            "throttle attempt",
            throttle::COUNT_ATTEMPT,
            vec![hash(), integer(2), integer(1)],
        ),
        query(
            "invitations sent in the last hour (caps)",
            user_admin::INVITATIONS_SENT_SINCE,
            vec![text(USER), organization(), integer(29_000_000)],
        ),
        query(
            "outbox claim",
            claim_due_emails_sql(kind),
            vec![integer(1), integer(2), integer(10), text(USER)],
        ),
    ]);
    queries
}
