//! Opening the database named by a URL, with the settings each backend needs, and migrating it.

use super::Store;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

fn migrator(kind: DatabaseKind) -> &'static Migrator {
    match kind {
        DatabaseKind::Sqlite => &SQLITE_MIGRATIONS,
        DatabaseKind::Postgres => &POSTGRES_MIGRATIONS,
    }
}

pub(super) fn latest_migration_version(kind: DatabaseKind) -> i64 {
    migrator(kind)
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0)
}

/// Connects to `url` (`sqlite://...` or `postgres://...`) and applies pending migrations.
pub async fn connect(url: &str) -> anyhow::Result<Store> {
    let store = match DatabaseKind::of_url(url) {
        Some(DatabaseKind::Sqlite) => {
            // Durable by default: WAL with synchronous=FULL; a writer in another process is
            // waited for up to 10 s.
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // Deleted and overwritten content is zeroed, not left in free pages.
                .pragma("secure_delete", "ON")
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // The writer first: it creates the file and the WAL the readers open.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone())
                .await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.pragma("query_only", "ON"))
                .await?;
            Store::Sqlite(super::SqlitePools { reader, writer })
        }
        Some(DatabaseKind::Postgres) => {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Store::Postgres(pool)
        }
        None => anyhow::bail!("the database URL must start with sqlite:// or postgres://"),
    };
    match &store {
        Store::Sqlite(pools) => SQLITE_MIGRATIONS.run(&pools.writer).await?,
        Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
    }
    Ok(store)
}
