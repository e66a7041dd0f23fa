//! Storage on SQLite or PostgreSQL.
//!
//! One [`Store`] holds a native sqlx pool of either kind. Each method is sized to one step of a use
//! case and runs in its own transaction. The SQL text is written once and is portable (`$1`
//! placeholders, TEXT ids, BIGINT times); the [`on_pool!`] and [`in_transaction!`] macros compile
//! each body once per backend, so both are type-checked and the differences (how a write
//! transaction begins, how a unique violation is reported) are handled here, in the open, rather
//! than hidden behind `sqlx::Any`.

mod account;
pub(crate) mod api_tokens;
pub(crate) mod audit;
mod connect;
mod dashboard;
mod directory;
mod first_run;
mod first_steps;
pub mod hot_queries;
mod idempotency;
mod invitations;
mod organizations;
pub(crate) mod outbox;
mod passkeys;
mod password_resets;
pub(crate) mod pictures;
mod profiles;
mod roles;
mod scim;
mod seed;
mod sessions;
mod sso;
mod terms;
mod throttle;
pub(crate) mod two_step;
mod two_step_admin;
mod user_admin;
mod user_directory;
mod user_imports;
pub mod user_record;
mod users;

pub use account::AccountRow;
pub use api_tokens::{ApiTokenRecord, ApiTokenRow, NewApiToken};
pub use audit::{AuditEvent, AuditEventRow, AuditFilter, AuditLogEntry};
pub use connect::{DatabaseKind, connect};
pub use dashboard::{CardEntry, Dashboard};
pub use directory::{ADMINISTRATOR_PROFILE, ProfileRow, RoleRow};
pub use first_steps::FirstStep;
pub use idempotency::{IdempotencyClaim, StoredResponse};
pub use invitations::{
    InvitationRecord, InviteStoreError, JoinCredentials, JoinProof, JoinStoreError, NewInvitedUser,
};
pub use organizations::{
    CreateOrganizationError, FirstAdministrator, NewOrganization, OrganizationSummary,
};
pub use outbox::{
    ClaimedEmail, Delivery, DeliveryOutcome, NewEmail, OpenedEmail, OutboxStatus, SealedEmail,
};
pub use passkeys::{CeremonyPurpose, NewPasskey, StoredPasskey};
pub use password_resets::PasswordResetRecord;
pub use pictures::StoredPicture;
pub use profiles::{ProfileStoreError, ProfileWithCount};
pub use roles::{NewStep, RoleDetails, RoleStoreError, StepItem};
pub use scim::{ScimUserQuery, ScimUserRow};
pub use seed::{SeedPlan, SeededUser};
pub use sessions::{NewSession, SessionRecord};
pub use sso::{
    NewSsoProvider, SsoAttempt, SsoAttemptLookup, SsoProviderRecord, SsoUser, TakenSsoAttempt,
};
pub use terms::{AcceptanceRecord, TermsHistoryEntry, TermsVersion};
pub use throttle::{CountedAttempt, ThrottleKey, ThrottleLimit};
pub use two_step::{
    AddedMethod, FinishOutcome, FinishSecondStep, MethodOwner, NewTotpMethod, RemoveOutcome,
    SecondStepProof, TotpMethodRow, TwoStepMethodRow,
};
pub use two_step_admin::{TwoStepCoverage, TwoStepMethodSummary, TwoStepResetCounts};
pub use user_admin::{
    Actor, BulkTarget, CapReached, InvitationCaps, Reinvitation, ReinviteResult, UserAdminError,
};
pub use user_directory::{
    DirectoryRow, PageStart, RowKey, SortColumn, SortOrder, SortValue, UserFilters, UserMatch,
    ViewCounts, ViewFilter,
};
pub use user_imports::{
    ChunkOutcome, ClaimedImport, ImportChunkError, ImportInvitation, ImportJob, ImportLetterNames,
    ImportRowResult, NewImportRow, PendingImportRow,
};
pub use user_record::{EmailHistoryRow, InvitationHistoryRow, SessionSummary, UserRecord};
pub use users::{NewActiveUser, SignInCandidate};

use onestop_domain::OrganizationId;
use sqlx::{PgPool, SqlitePool};

/// The database, whichever it is.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

/// SQLite runs one write transaction at a time. Rather than let every connection try and wait in
/// SQLite's busy handler (which sleeps in steps of up to 100 ms, however soon the lock frees),
/// writes go through a pool of one connection, where they queue in order and start the moment
/// the previous one commits. Reads use the other pool, whose connections refuse to write
/// (`query_only`), so a write sent the wrong way fails in the tests instead of contending.
#[derive(Clone, Debug)]
pub struct SqlitePools {
    pub reader: SqlitePool,
    pub writer: SqlitePool,
}

/// Errors of the storage layer that callers can act on; everything else is `Database`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a row with this {0} already exists")]
    Duplicate(&'static str),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Runs `$body`, which only reads, with `$pool` bound to the backend's native pool.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(pools) => {
                let $pool = &pools.reader;
                $body
            }
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body`, a single statement that writes, with `$pool` bound to the pool writes go
/// through (on SQLite, the queue of [`SqlitePools::writer`]).
macro_rules! on_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(pools) => {
                let $pool = &pools.writer;
                $body
            }
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body`, which yields a `Result`, inside a write transaction bound to `$transaction`; the
/// transaction commits when the body yields `Ok` and rolls back otherwise (an early `?` or
/// `return` drops it, which rolls it back too). On SQLite it runs on the one writer connection
/// ([`SqlitePools`]), and begins IMMEDIATE so that a writer in another process (the command line)
/// is waited for (busy_timeout) rather than failing with "database is locked" on the upgrade from
/// reading to writing.
macro_rules! in_transaction {
    ($store:expr, |$transaction:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(pools) => {
                let mut $transaction = pools.writer.begin_with("BEGIN IMMEDIATE").await?;
                let result = $body;
                if result.is_ok() {
                    $transaction.commit().await?;
                }
                result
            }
            $crate::store::Store::Postgres(pool) => {
                let mut $transaction = pool.begin().await?;
                let result = $body;
                if result.is_ok() {
                    $transaction.commit().await?;
                }
                result
            }
        }
    };
}

pub(crate) use {in_transaction, on_pool, on_writer};

/// Makes concurrent changes to one organization's users take turns for the rest of the
/// transaction, at what that costs on each database: on PostgreSQL, whose READ COMMITTED
/// transactions would otherwise each count the other's administrators as still active or each
/// stay under an hourly cap, it takes the organization row's lock; SQLite needs nothing, because
/// its write transactions begin IMMEDIATE and so already run one at a time.
///
/// (The portable `UPDATE organizations SET id = id` this replaces made SQLite check every table
/// that refers to organizations for rows of the old key, and took PostgreSQL's strongest row
/// lock, which also held back every insert that refers to the organization, sign-ins' sessions
/// among them.)
pub(crate) trait LockOrganization {
    async fn lock_organization(&mut self, org_id: &OrganizationId) -> Result<(), sqlx::Error>;
}

impl LockOrganization for sqlx::SqliteConnection {
    async fn lock_organization(&mut self, _: &OrganizationId) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl LockOrganization for sqlx::PgConnection {
    /// `FOR NO KEY UPDATE`: lockers take turns, while inserts that merely refer to the
    /// organization (which take `KEY SHARE`) go on.
    async fn lock_organization(&mut self, org_id: &OrganizationId) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR NO KEY UPDATE")
            .bind(org_id)
            .fetch_optional(&mut *self)
            .await
            .map(drop)
    }
}

impl Store {
    pub fn kind(&self) -> DatabaseKind {
        match self {
            Self::Sqlite(_) => DatabaseKind::Sqlite,
            Self::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// Whether the database answers and every migration this binary knows is applied.
    pub async fn is_ready(&self) -> bool {
        let latest = connect::latest_migration_version(self.kind());
        let applied: Result<Option<i64>, sqlx::Error> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(pool)
                .await
        });
        matches!(applied, Ok(Some(version)) if version >= latest)
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pools) => {
                pools.reader.close().await;
                pools.writer.close().await;
            }
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// Maps a unique violation on one of `columns` to [`StoreError::Duplicate`] naming it.
pub(crate) fn classify(error: sqlx::Error, columns: &[&'static str]) -> StoreError {
    if let sqlx::Error::Database(database_error) = &error
        && database_error.is_unique_violation()
    {
        // PostgreSQL names the index; SQLite names the columns in its message.
        let described = format!(
            "{} {}",
            database_error.constraint().unwrap_or_default(),
            database_error.message()
        );
        if let Some(column) = columns.iter().find(|column| described.contains(*column)) {
            return StoreError::Duplicate(column);
        }
    }
    StoreError::Database(error)
}

/// A fresh id: UUID v7, so ids sort by creation time.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
