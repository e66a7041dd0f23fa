//! How each database would run the hot queries (`store::hot_queries`, the store's own text) and
//! the lookups that deleting a user makes for every foreign key that refers to it: all through
//! indexes. SQLite's `EXPLAIN QUERY PLAN` must show no `SCAN` of a table (a `SEARCH ... USING
//! INDEX` is fine); PostgreSQL's `EXPLAIN`, with sequential scans priced out of reach
//! (`enable_seqscan = off`), must show no `Seq Scan`, which then means no index could serve.

use crate::helpers::{TestApp, on_both_databases};
use onestop_server::store::hot_queries::{HotQuery, SampleArgument, hot_queries};
use onestop_server::store::{DatabaseKind, Store};
use sqlx::{Connection, Row};

on_both_databases!(
    every_hot_query_uses_an_index,
    every_reference_to_a_deleted_user_is_found_by_an_index,
);

/// One line of a plan, with its place in the tree (SQLite numbers its nodes; PostgreSQL's lines
/// carry their nesting as indentation, and only SQLite's nesting is needed here).
struct PlanLine {
    id: i64,
    parent: i64,
    detail: String,
}

fn bind_all<'q, Database: sqlx::Database>(
    mut query: sqlx::query::Query<'q, Database, <Database as sqlx::Database>::Arguments>,
    arguments: &'q [SampleArgument],
) -> sqlx::query::Query<'q, Database, <Database as sqlx::Database>::Arguments>
where
    &'q str: sqlx::Encode<'q, Database> + sqlx::Type<Database>,
    i64: sqlx::Encode<'q, Database> + sqlx::Type<Database>,
{
    for argument in arguments {
        query = match argument {
            SampleArgument::Text(text) => query.bind(text.as_str()),
            SampleArgument::Integer(number) => query.bind(*number),
        };
    }
    query
}

/// Asks the app's database for plans: SQLite through the app's readers, PostgreSQL through one
/// connection of its own (so `enable_seqscan = off` stays out of the app's pool), opened once for
/// the hundreds of statements a test explains.
struct Planner<'a> {
    app: &'a TestApp,
    postgres: Option<sqlx::PgConnection>,
}

impl<'a> Planner<'a> {
    async fn new(app: &'a TestApp) -> Self {
        let postgres = match &app.store {
            Store::Sqlite(_) => None,
            Store::Postgres(_) => {
                let mut connection = sqlx::PgConnection::connect(&app.database_url)
                    .await
                    .unwrap();
                sqlx::query("SET enable_seqscan = off")
                    .execute(&mut connection)
                    .await
                    .unwrap();
                Some(connection)
            }
        };
        Self { app, postgres }
    }

    /// The plan's lines.
    async fn plan_of(&mut self, sql: &str, arguments: &[SampleArgument]) -> Vec<PlanLine> {
        if let Some(connection) = &mut self.postgres {
            let explain = sqlx::AssertSqlSafe(format!("EXPLAIN {sql}"));
            let rows = bind_all(sqlx::query(explain), arguments)
                .fetch_all(connection)
                .await
                .expect("PostgreSQL explains it");
            return rows
                .iter()
                .map(|row| PlanLine {
                    id: 0,
                    parent: 0,
                    detail: row.get(0),
                })
                .collect();
        }
        let Store::Sqlite(pools) = &self.app.store else {
            unreachable!("a PostgreSQL app has its planner connection");
        };
        let explain = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"));
        let rows = bind_all(sqlx::query(explain), arguments)
            .fetch_all(&pools.reader)
            .await
            .expect("SQLite explains it");
        rows.iter()
            .map(|row| PlanLine {
                id: row.get("id"),
                parent: row.get("parent"),
                detail: row.get("detail"),
            })
            .collect()
    }

    /// What is wrong with `query`'s plan, if anything.
    async fn problems_of(&mut self, query: &HotQuery) -> Option<String> {
        let plan = self.plan_of(&query.sql, &query.arguments).await;
        let scans = full_scans(self.app.store.kind(), &plan, query.ordered_by_index);
        let plan: Vec<String> = plan
            .iter()
            .map(|line| format!("{} {} {}", line.id, line.parent, line.detail))
            .collect();
        (!scans.is_empty()).then(|| {
            format!(
                "{}: {scans:?}\n  plan: {plan:#?}\n  sql: {}",
                query.name, query.sql
            )
        })
    }
}

/// Whether `line` reads the rows of a subquery that SQLite materialized beside it (`MATERIALIZE
/// page` or `CO-ROUTINE matches`, then `SCAN page`): rows a LIMIT already bounded, not a table.
fn scans_a_subquery(line: &PlanLine, plan: &[PlanLine]) -> bool {
    let Some(name) = line.detail.strip_prefix("SCAN ") else {
        return false;
    };
    let name = name.split(' ').next().unwrap_or_default();
    plan.iter().any(|other| {
        other.parent == line.parent
            && (other.detail == format!("MATERIALIZE {name}")
                || other.detail == format!("CO-ROUTINE {name}"))
    })
}

/// SQLite: a `SCAN` of a table, or (where the order must come from an index) a sort that is not
/// over the rows of a bounded subquery.
fn is_full_scan_in_sqlite(line: &PlanLine, plan: &[PlanLine], ordered_by_index: bool) -> bool {
    let detail = line.detail.as_str();
    if detail.starts_with("SCAN ") {
        return detail != "SCAN CONSTANT ROW" && !scans_a_subquery(line, plan);
    }
    ordered_by_index
        && detail.contains("TEMP B-TREE FOR ORDER BY")
        && !plan
            .iter()
            .any(|other| other.parent == line.parent && scans_a_subquery(other, plan))
}

/// The lines of `plan` that read a whole table, or sort what an index should have ordered.
fn full_scans(kind: DatabaseKind, plan: &[PlanLine], ordered_by_index: bool) -> Vec<String> {
    plan.iter()
        .filter(|line| match kind {
            DatabaseKind::Sqlite => is_full_scan_in_sqlite(line, plan, ordered_by_index),
            DatabaseKind::Postgres => line.detail.contains("Seq Scan"),
        })
        .map(|line| line.detail.clone())
        .collect()
}

async fn every_hot_query_uses_an_index(app: TestApp) {
    let mut planner = Planner::new(&app).await;
    // The check itself can fail: a lookup by a column without an index is a full scan.
    let unindexed = HotQuery {
        name: "users by first name".to_owned(),
        sql: "SELECT id FROM users WHERE first_name = $1".to_owned(),
        arguments: vec![SampleArgument::Text("Ada".to_owned())],
        ordered_by_index: false,
    };
    assert!(planner.problems_of(&unindexed).await.is_some());
    // ...and on SQLite so can a page that sorts its view before it limits it.
    let sorted_page = HotQuery {
        name: "a page of users by first name".to_owned(),
        sql: "SELECT page.id FROM (SELECT id, first_name FROM users WHERE org_id = $1 \
              ORDER BY first_name LIMIT 51) page ORDER BY page.first_name"
            .to_owned(),
        arguments: vec![SampleArgument::Text("org".to_owned())],
        ordered_by_index: true,
    };
    if app.store.kind() == DatabaseKind::Sqlite {
        assert!(planner.problems_of(&sorted_page).await.is_some());
    }

    let queries = hot_queries(app.store.kind());
    assert!(
        queries.len() > 20,
        "the Users page views and the other hot paths"
    );
    let mut problems = Vec::new();
    for query in &queries {
        problems.extend(planner.problems_of(query).await);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A foreign key: `child.column` refers to `parent`; `cascades` when deleting the parent row
/// deletes the child rows too.
struct ForeignKey {
    child: String,
    column: String,
    parent: String,
    cascades: bool,
}

async fn foreign_keys(app: &TestApp) -> Vec<ForeignKey> {
    let rows: Vec<(String, String, String, bool)> = match &app.store {
        Store::Sqlite(pools) => sqlx::query_as(
            "SELECT m.name, f.\"from\", f.\"table\", f.on_delete = 'CASCADE' \
               FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
              WHERE m.type = 'table'",
        )
        .fetch_all(&pools.reader)
        .await
        .unwrap(),
        Store::Postgres(pool) => sqlx::query_as(
            "SELECT child.relname::TEXT, a.attname::TEXT, parent.relname::TEXT, c.confdeltype = 'c' \
               FROM pg_constraint c \
               JOIN pg_class child ON child.oid = c.conrelid \
               JOIN pg_class parent ON parent.oid = c.confrelid \
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
              WHERE c.contype = 'f'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    rows.into_iter()
        .map(|(child, column, parent, cascades)| ForeignKey {
            child,
            column,
            parent,
            cascades,
        })
        .collect()
}

/// Deleting a user makes the database look, for each foreign key referring to `users` (and to
/// the tables whose rows the deletion cascades to), for rows that still refer to the deleted
/// ones. Without an index on the referring column that is a scan of the whole table, per user.
async fn every_reference_to_a_deleted_user_is_found_by_an_index(app: TestApp) {
    let keys = foreign_keys(&app).await;
    let mut deleted = vec!["users".to_owned()];
    while let Some(cascaded) = keys
        .iter()
        .find(|key| key.cascades && deleted.contains(&key.parent) && !deleted.contains(&key.child))
    {
        deleted.push(cascaded.child.clone());
    }
    let lookups: Vec<HotQuery> = keys
        .iter()
        .filter(|key| deleted.contains(&key.parent))
        .map(|key| HotQuery {
            name: format!("{}.{} refers to {}", key.child, key.column, key.parent),
            sql: format!("SELECT 1 FROM {} WHERE {} = $1", key.child, key.column),
            arguments: vec![SampleArgument::Text(
                "01900000-0000-7000-8000-000000000002".to_owned(),
            )],
            ordered_by_index: false,
        })
        .collect();
    assert!(
        lookups
            .iter()
            .any(|lookup| lookup.name == "users.invited_by refers to users"),
        "the schema's foreign keys are found: {:?}",
        lookups
            .iter()
            .map(|lookup| &lookup.name)
            .collect::<Vec<_>>()
    );
    let mut planner = Planner::new(&app).await;
    let mut problems = Vec::new();
    for lookup in &lookups {
        problems.extend(planner.problems_of(lookup).await);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
