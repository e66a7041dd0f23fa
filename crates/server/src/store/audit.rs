//! Writing audit events inside the transaction of the change they record.

use crate::tenancy::OrganizationScope;
use onestop_domain::{AuditAction, OrganizationId, Timestamp};

/// One event to record; ids are those of users, kept without foreign keys.
#[derive(Debug, Clone, Copy)]
pub struct AuditEvent<'a> {
    pub org_id: &'a OrganizationId,
    pub actor_user_id: Option<&'a str>,
    pub action: AuditAction,
    pub target_user_id: Option<&'a str>,
    pub details: &'a str,
    pub ip: Option<&'a str>,
    pub at: Timestamp,
}

pub(crate) const INSERT_AUDIT_EVENT: &str = "INSERT INTO audit_events \
     (id, org_id, actor_user_id, action, target_user_id, details, ip, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Executes the insert of `$event` (an [`AuditEvent`]) on `$executor`.
macro_rules! insert_audit_event {
    ($executor:expr, $event:expr) => {{
        let event: &$crate::store::AuditEvent<'_> = $event;
        sqlx::query($crate::store::audit::INSERT_AUDIT_EVENT)
            .bind($crate::store::new_id())
            .bind(event.org_id)
            .bind(event.actor_user_id)
            .bind(event.action.as_str())
            .bind(event.target_user_id)
            .bind(event.details)
            .bind(event.ip)
            .bind(event.at.unix_millis())
            .execute($executor)
            .await
            .map(|_| ())
    }};
}

pub(crate) use insert_audit_event;

impl super::Store {
    /// Records an event that changes nothing else (a failed sign-in, say).
    pub async fn record_audit_event(
        &self,
        event: &AuditEvent<'_>,
    ) -> Result<(), super::StoreError> {
        super::on_writer!(self, |pool| insert_audit_event!(pool, event))?;
        Ok(())
    }

    /// The actions recorded for an organization, oldest first (for tests and, later, the Audit Log).
    pub async fn audit_actions(
        &self,
        scope: &OrganizationScope,
    ) -> Result<Vec<String>, super::StoreError> {
        let actions = super::on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT action FROM audit_events WHERE org_id = $1 ORDER BY at, id")
                .bind(scope.id())
                .fetch_all(pool)
                .await
        })?;
        Ok(actions)
    }
}

/// One line of the Audit Log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditLogEntry {
    pub action: String,
    pub details: String,
    pub ip: Option<String>,
    pub at: i64,
    pub actor_first_name: Option<String>,
    pub actor_last_name: Option<String>,
    pub target_first_name: Option<String>,
    pub target_last_name: Option<String>,
}

/// What the Audit Log is filtered by; empty strings and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    /// A user id: events where they acted or were acted on.
    pub person: Option<String>,
    /// Words of a name, email or username: events where someone who matches acted or was
    /// acted on.
    pub person_search: Option<String>,
    pub from: Option<i64>,
    pub until: Option<i64>,
}

impl super::Store {
    /// A page of the organization's events, newest first, and how many match in all.
    pub async fn audit_log(
        &self,
        scope: &OrganizationScope,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditLogEntry>, i64), super::StoreError> {
        let conditions = audit_conditions();
        let rows_sql = sqlx::AssertSqlSafe(format!(
            "SELECT e.action, e.details, e.ip, e.at, \
                    actor.first_name AS actor_first_name, actor.last_name AS actor_last_name, \
                    target.first_name AS target_first_name, target.last_name AS target_last_name \
               FROM audit_events e \
               LEFT JOIN users actor ON actor.id = e.actor_user_id \
               LEFT JOIN users target ON target.id = e.target_user_id \
              WHERE {conditions} ORDER BY e.at DESC, e.id DESC LIMIT $7 OFFSET $8"
        ));
        let count_sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM audit_events e WHERE {conditions}"
        ));
        let (action, person, from, until, person_search) = filter.arguments();
        let result = super::on_pool!(self, |pool| {
            let rows = sqlx::query_as::<_, AuditLogEntry>(rows_sql)
                .bind(scope.id())
                .bind(&action)
                .bind(&person)
                .bind(from)
                .bind(until)
                .bind(&person_search)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total: i64 = sqlx::query_scalar(count_sql)
                .bind(scope.id())
                .bind(&action)
                .bind(&person)
                .bind(from)
                .bind(until)
                .bind(&person_search)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        Ok(result)
    }
}

/// The conditions of the Audit Log's filters: `$1` organization, `$2` action, `$3` person,
/// `$4`..`$5` the time range, `$6` a LIKE pattern of the person search ('' for none). The
/// matching people are found among the organization's users (as the Users page's search does),
/// and their events by the actor and target indexes.
fn audit_conditions() -> String {
    let matching_people = "SELECT m.id FROM users m WHERE m.org_id = $1 \
         AND (m.name_search LIKE $6 ESCAPE '\\' OR m.email_normalized LIKE $6 ESCAPE '\\' \
              OR COALESCE(m.username_normalized, '') LIKE $6 ESCAPE '\\')";
    format!(
        "e.org_id = $1 AND ($2 = '' OR e.action = $2) \
         AND ($3 = '' OR e.actor_user_id = $3 OR e.target_user_id = $3) AND e.at >= $4 AND e.at < $5 \
         AND ($6 = '' OR e.actor_user_id IN ({matching_people}) OR e.target_user_id IN ({matching_people}))"
    )
}

impl AuditFilter {
    /// `$2`..`$6` of [`audit_conditions`].
    fn arguments(&self) -> (String, String, i64, i64, String) {
        let person_search = self
            .person_search
            .as_deref()
            .map(str::trim)
            .filter(|search| !search.is_empty())
            .map(super::user_directory::like_pattern)
            .unwrap_or_default();
        (
            self.action.clone().unwrap_or_default(),
            self.person.clone().unwrap_or_default(),
            self.from.unwrap_or(i64::MIN),
            self.until.unwrap_or(i64::MAX),
            person_search,
        )
    }
}

/// One event as the JSON API lists it: with its id (the cursor goes on from it) and the ids of
/// the people in it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEventRow {
    pub id: String,
    pub action: String,
    pub details: String,
    pub ip: Option<String>,
    pub at: i64,
    pub actor_user_id: Option<String>,
    pub actor_first_name: Option<String>,
    pub actor_last_name: Option<String>,
    pub target_user_id: Option<String>,
    pub target_first_name: Option<String>,
    pub target_last_name: Option<String>,
}

impl super::Store {
    /// Up to `limit` of the organization's events that match, newest first, from just after
    /// `after` (the time and id of the last event of the previous page) by keyset: no offset,
    /// so a page deep in a long log costs what the first costs.
    pub async fn audit_events_page(
        &self,
        scope: &OrganizationScope,
        filter: &AuditFilter,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<AuditEventRow>, super::StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT e.id, e.action, e.details, e.ip, e.at, \
                    e.actor_user_id, actor.first_name AS actor_first_name, \
                    actor.last_name AS actor_last_name, \
                    e.target_user_id, target.first_name AS target_first_name, \
                    target.last_name AS target_last_name \
               FROM audit_events e \
               LEFT JOIN users actor ON actor.id = e.actor_user_id \
               LEFT JOIN users target ON target.id = e.target_user_id \
              WHERE {} AND (e.at < $7 OR (e.at = $7 AND e.id < $8)) \
              ORDER BY e.at DESC, e.id DESC LIMIT $9",
            audit_conditions()
        ));
        let (action, person, from, until, person_search) = filter.arguments();
        let (after_at, after_id) = after.unwrap_or((i64::MAX, ""));
        let rows = super::on_pool!(self, |pool| {
            sqlx::query_as::<_, AuditEventRow>(sql)
                .bind(scope.id())
                .bind(&action)
                .bind(&person)
                .bind(from)
                .bind(until)
                .bind(&person_search)
                .bind(after_at)
                .bind(after_id)
                .bind(limit)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }
}
