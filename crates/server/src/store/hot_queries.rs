//! The statements that run on every page view, sign-in or worker tick, with sample arguments, so
//! that a test can ask each database how it would run them (tests/api/query_plans.rs). The text
//! is the store's own: a plan that turns into a full scan fails that test, not production.

use super::outbox::claim_due_emails_sql;
use super::user_directory::{
    PageStart, RowKey, VIEW_COUNTS, ViewFilter, page_sql, search_count_sql,
};
use super::{
    DatabaseKind, invitations, pictures, sessions, throttle, user_admin, user_record, users,
};
use SampleArgument::{Integer, Text};

/// A value to bind for one placeholder; the plan does not depend on it.
#[derive(Debug, Clone)]
pub enum SampleArgument {
    Text(&'static str),
    Integer(i64),
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

const ORGANIZATION: SampleArgument = Text("01900000-0000-7000-8000-000000000001");
const USER: &str = "01900000-0000-7000-8000-000000000002";
const SEARCH: SampleArgument = Text("%ada%");
const HASH: SampleArgument =
    Text("5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");

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

/// The Users page: the counts, the bounded count of a search, and a page of every view from
/// every kind of start.
fn users_page_queries() -> Vec<HotQuery> {
    let key = RowKey {
        last_name: "Lovelace".to_owned(),
        id: USER.to_owned(),
    };
    let starts = [
        PageStart::First,
        PageStart::After(key.clone()),
        PageStart::Before(key),
        PageStart::Last,
    ];
    let mut queries = vec![query(
        "users page: view counts",
        VIEW_COUNTS,
        vec![ORGANIZATION],
    )];
    for view in ViewFilter::ALL {
        queries.push(query(
            format!("users page: search count of {view:?}"),
            search_count_sql(view),
            vec![ORGANIZATION, SEARCH, Integer(1001)],
        ));
        for start in &starts {
            let mut arguments = vec![ORGANIZATION, Text("%%")];
            if matches!(start, PageStart::After(_) | PageStart::Before(_)) {
                arguments.extend([Text("Lovelace"), Text(USER)]);
            }
            arguments.push(Integer(51));
            queries.push(HotQuery {
                ordered_by_index: true,
                ..query(
                    format!("users page: {view:?} from {start:?}"),
                    page_sql(view, start),
                    arguments,
                )
            });
        }
    }
    queries.push(query(
        "users page: the pictures of a page",
        pictures::picture_digests_sql(2),
        vec![ORGANIZATION, Text(USER), Text(USER)],
    ));
    queries
}

/// A user's page: one user's row, invitations, reset emails, sessions and audit events; none
/// may read the whole outbox, trail or session table.
fn user_page_queries() -> Vec<HotQuery> {
    let user = || vec![ORGANIZATION, Text(USER)];
    let with_limit = |second: SampleArgument| vec![ORGANIZATION, second, Integer(20)];
    vec![
        query("user's page: the user", user_record::USER_RECORD, user()),
        query(
            "user's page: invitations and their emails",
            user_record::INVITATION_HISTORY,
            with_limit(Text(USER)),
        ),
        query(
            "user's page: password reset emails",
            user_record::RESET_EMAIL_HISTORY,
            with_limit(Text("ada@example.com")),
        ),
        query("user's page: sessions", user_record::USER_SESSIONS, user()),
        query(
            "user's page: audit events",
            user_record::USER_AUDIT_EVENTS,
            with_limit(Text(USER)),
        ),
    ]
}

/// Every statement on a hot path of `kind`'s database.
pub fn hot_queries(kind: DatabaseKind) -> Vec<HotQuery> {
    let mut queries = users_page_queries();
    queries.extend(user_page_queries());
    queries.extend([
        query("session by token", sessions::FIND_SESSION, vec![HASH]),
        query(
            "picture by user",
            pictures::FIND_PICTURE,
            vec![Text(USER), ORGANIZATION],
        ),
        query(
            "invitation by token",
            invitations::FIND_INVITATION,
            vec![HASH],
        ),
        query(
            "sign-in by email",
            users::SIGN_IN_BY_EMAIL,
            vec![Text("ada@example.com")],
        ),
        query(
            "sign-in by username",
            users::SIGN_IN_BY_USERNAME,
            vec![Text("ada")],
        ),
        query("throttle counter", throttle::THROTTLE_COUNTER, vec![HASH]),
        query(
            "throttle attempt",
            throttle::COUNT_ATTEMPT,
            vec![HASH, Integer(2), Integer(1)],
        ),
        query(
            "invitations sent in the last hour (caps)",
            user_admin::INVITATIONS_SENT_SINCE,
            vec![Text(USER), ORGANIZATION, Integer(29_000_000)],
        ),
        query(
            "outbox claim",
            claim_due_emails_sql(kind),
            vec![Integer(1), Integer(2), Integer(10), Text(USER)],
        ),
    ]);
    queries
}
