//! Export Users: the users of a view, search and filters, in the list's order, as CSV. The web
//! (Setup > Users > "Export CSV") and the command line (`onestop users export`) both call this.
//!
//! The export is counted and audited first, in its own statement, and only then produced: a
//! download that is cut off (or a client that stops reading) is still on record. It is produced
//! [`CHUNK_ROWS`] users at a time by keyset on the list's order (the Users page's own statement),
//! so 100,000 users are never in memory at once. Every field goes through
//! [`crate::csv_safety::neutralize_formula`]; the header names First Name, Last Name, Email,
//! Profile and Role as Import Users guesses them, so an export imports back.

use crate::csv_safety::neutralize_formula;
use crate::store::{AuditEvent, DirectoryRow, PageStart, SortOrder, Store, StoreError, UserMatch};
use crate::tenancy::OrganizationScope;
use crate::usecases::Services;
use onestop_domain::{AuditAction, UserId, UserStatus};

/// The columns, in order.
pub const HEADER: [&str; 9] = [
    "First Name",
    "Last Name",
    "Email",
    "Username",
    "Profile",
    "Role",
    "Status",
    "Invited",
    "Last sign-in",
];

/// How many users one statement reads (and one chunk of the download holds).
pub const CHUNK_ROWS: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not write the CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Who asked, for the audit trail.
#[derive(Debug, Clone, Copy)]
pub enum Exporter<'a> {
    /// A signed-in user (Setup > Users), from this address.
    User { id: &'a UserId, ip: &'a str },
    /// Whoever runs the server (`onestop users export`).
    Operator,
}

/// An export under way: [`UserExport::next_chunk`] gives the CSV piece by piece.
#[derive(Debug)]
pub struct UserExport {
    store: Store,
    scope: OrganizationScope,
    matching: UserMatch,
    sort: SortOrder,
    /// Where the next chunk starts; `None` once the last one is out.
    next: Option<PageStart>,
    header_written: bool,
    /// How many users the chunks so far held.
    written: u64,
    /// How many users matched when the export started (the audited count).
    pub counted: i64,
}

/// Counts the users that match, records the export, and returns it ready to produce.
pub async fn start_export(
    services: &Services,
    scope: &OrganizationScope,
    exporter: Exporter<'_>,
    matching: UserMatch,
    sort: SortOrder,
) -> Result<UserExport, StoreError> {
    let store = &services.store;
    let counted = store.count_matches(scope, &matching, i64::MAX).await?;
    let (actor, ip) = match exporter {
        Exporter::User { id, ip } => (Some(id.as_str()), Some(ip)),
        Exporter::Operator => (None, None),
    };
    let details = format!(
        "{counted} {} exported as CSV{}",
        if counted == 1 { "user" } else { "users" },
        describe(&matching)
    );
    store
        .record_audit_event(&AuditEvent {
            org_id: scope.id(),
            actor_user_id: actor,
            action: AuditAction::UsersExported,
            target_user_id: None,
            details: &details,
            ip,
            at: services.clock.now(),
        })
        .await?;
    Ok(UserExport {
        store: store.clone(),
        scope: scope.clone(),
        matching,
        sort,
        next: Some(PageStart::First),
        header_written: false,
        written: 0,
        counted,
    })
}

/// What the audit event says about which users: the search, if any (the view and filters are
/// ids and keys, which the count already reflects).
fn describe(matching: &UserMatch) -> String {
    let search = matching.search.trim();
    if search.is_empty() {
        String::new()
    } else {
        format!(" (search \"{search}\")")
    }
}

impl UserExport {
    /// The next piece of the CSV (the header with the first), or `None` when all is out.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ExportError> {
        let Some(start) = self.next.take() else {
            return Ok(None);
        };
        let rows = self
            .store
            .sorted_user_page(&self.scope, &self.matching, self.sort, &start, CHUNK_ROWS)
            .await?;
        if rows.len() as i64 == CHUNK_ROWS {
            self.next = rows
                .last()
                .map(|row| PageStart::After(row.key(self.sort.column)));
        }
        let mut writer = csv::Writer::from_writer(Vec::new());
        if !self.header_written {
            writer.write_record(HEADER)?;
            self.header_written = true;
        }
        for row in &rows {
            for field in record(row) {
                writer.write_field(&*neutralize_formula(&field))?;
            }
            writer.write_record(None::<&[u8]>)?;
            self.written += 1;
        }
        writer.flush().map_err(csv::Error::from)?;
        let bytes = writer
            .into_inner()
            .map_err(|error| csv::Error::from(error.into_error()))?;
        Ok(Some(bytes))
    }

    /// The whole CSV into `output`, chunk by chunk; returns how many users were written.
    pub async fn write_all(mut self, output: &mut impl std::io::Write) -> Result<u64, ExportError> {
        while let Some(chunk) = self.next_chunk().await? {
            output.write_all(&chunk).map_err(csv::Error::from)?;
        }
        output.flush().map_err(csv::Error::from)?;
        Ok(self.written)
    }
}

/// One user's fields, in [`HEADER`]'s order; times in UTC, ISO 8601.
fn record(row: &DirectoryRow) -> [String; 9] {
    [
        row.first_name.clone().unwrap_or_default(),
        row.last_name.clone(),
        row.email.clone(),
        row.username.clone().unwrap_or_default(),
        row.profile_name.clone(),
        row.role_name.clone(),
        row.status
            .parse::<UserStatus>()
            .map_or_else(|_| row.status.clone(), |status| status.label().to_owned()),
        iso_8601(row.created_at),
        row.last_sign_in_at.map(iso_8601).unwrap_or_default(),
    ]
}

/// `2026-12-01T09:30:00Z`: a moment in unix milliseconds, to the second, in UTC.
pub fn iso_8601(unix_millis: i64) -> String {
    jiff::Timestamp::from_second(unix_millis.div_euclid(1000))
        .map(|time| time.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::iso_8601;

    #[test]
    fn times_are_iso_8601_in_utc_to_the_second() {
        assert_eq!(iso_8601(1_795_752_000_123), "2026-11-27T04:00:00Z");
        assert_eq!(iso_8601(0), "1970-01-01T00:00:00Z");
    }
}
