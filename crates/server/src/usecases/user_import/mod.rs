//! Import Users: a CSV file of people, each invited exactly as New User's Save invites one
//! (Unconfirmed user, invitation, email in the outbox, audit events, the grant rule), as a
//! background job. The web pages and `onestop users import` call these functions.
//!
//! The steps: [`upload`] keeps the file as a job waiting for confirmation (no user is written);
//! [`preview`] checks every row under the chosen column mapping and defaults; [`start`] checks
//! them again and writes the rows and the job, queued; a [`runner::ImportRunner`] (started by
//! `serve`) invites the rows a chunk at a time, each chunk in one transaction, and a job whose
//! runner stopped is resumed by the next runner once its lease has run out.
//!
//! The hourly invitation caps (`ONESTOP_INVITATIONS_PER_HOUR`,
//! `ONESTOP_INVITATIONS_PER_ADMINISTRATOR_PER_HOUR`) bound the *emails* of an import, not the
//! import: every user and invitation of the file is created at once, and the emails beyond what
//! the caps leave in the current hour are queued due in the following hours (the caps' number
//! an hour), so the outbox sends them within the caps. Each invitation is dated when its email
//! is due, and expires a full lifetime after that, so the caps' counts (kept from invitations)
//! see the scheduled emails in their hours, and New User and Reinvite stay within the caps too.

pub mod columns;
pub mod csv_file;
pub mod preview;
pub mod runner;

use super::Services;
use super::invite_user::{GrantOptions, grant_options, grant_options_of, invitation_caps};
use super::sessions::SignedInSession;
use crate::store::{ImportJob, InvitationCaps, NewImportRow, StoreError};
use crate::tenancy::OrganizationScope;
use columns::ColumnMapping;
use csv_file::{CsvFileError, CsvTable};
use onestop_domain::{Grantor, PermissionSet, ProfileGrant, RoleId};
use preview::{ImportChoices, Preview, PreviewError};
use std::time::Duration;

/// Who imports: an administrator signed in, or the operator on the command line (with the
/// built-in Administrator's grant rights; audited without an actor).
#[derive(Debug, Clone, Copy)]
pub enum Importer<'a> {
    Administrator(&'a SignedInSession),
    Operator(&'a OrganizationScope),
}

impl Importer<'_> {
    pub fn scope(&self) -> &OrganizationScope {
        match self {
            Self::Administrator(session) => &session.scope,
            Self::Operator(scope) => scope,
        }
    }

    fn user_id(&self) -> Option<&str> {
        match self {
            Self::Administrator(session) => Some(session.user_id.as_str()),
            Self::Operator(_) => None,
        }
    }

    /// What this importer may grant (the one grant rule).
    pub async fn grant_options(&self, services: &Services) -> Result<GrantOptions, StoreError> {
        match self {
            Self::Administrator(session) => grant_options(services, session).await,
            Self::Operator(scope) => {
                // The built-in Administrator grants every profile and any role; its own role
                // plays no part then.
                let no_role = RoleId::from_trusted(String::new());
                let grantor = Grantor {
                    profile: ProfileGrant {
                        permissions: PermissionSet::all(),
                        builtin_administrator: true,
                    },
                    role_id: &no_role,
                };
                grant_options_of(services, scope, grantor).await
            }
        }
    }

    /// The hourly caps the import's emails are scheduled within.
    fn caps<'a>(&'a self, services: &Services) -> InvitationCaps<'a> {
        match self {
            Self::Administrator(session) => invitation_caps(services, session),
            // No sender to count: the company's cap alone.
            Self::Operator(_) => InvitationCaps {
                sender_id: "",
                per_sender: services.reinvite_limits.per_organization_per_hour,
                per_organization: services.reinvite_limits.per_organization_per_hour,
                since: services.clock.now().minus(Duration::from_secs(60 * 60)),
            },
        }
    }
}

/// Reads an uploaded file and keeps it as a job waiting for its mapping; yields the job's id and
/// the file read. Nothing else is written.
pub async fn upload(
    services: &Services,
    importer: Importer<'_>,
    bytes: &[u8],
) -> Result<(String, CsvTable), UploadError> {
    let text = csv_file::decode(bytes)?;
    let table = csv_file::parse(&text)?;
    let id = services
        .store
        .create_import_draft(
            importer.scope(),
            importer.user_id(),
            &text,
            services.clock.now(),
        )
        .await?;
    Ok((id, table))
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    File(#[from] CsvFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A job waiting for confirmation: its file read again, and the mapping guessed from its header.
pub struct Draft {
    pub table: CsvTable,
    pub guessed: ColumnMapping,
}

/// The job, and for one still to confirm its file. `None` for another company's job or none.
pub async fn job(
    services: &Services,
    scope: &OrganizationScope,
    import_id: &str,
) -> Result<Option<(ImportJob, Option<Draft>)>, StoreError> {
    let Some(job) = services.store.import_job(scope, import_id).await? else {
        return Ok(None);
    };
    if !job.is_uploaded() {
        return Ok(Some((job, None)));
    }
    let Some(text) = services.store.import_file(scope, import_id).await? else {
        return Ok(Some((job, None)));
    };
    // The file was read when it was uploaded; a file that no longer reads is treated as gone.
    let Ok(table) = csv_file::parse(&text) else {
        return Ok(Some((job, None)));
    };
    let guessed = ColumnMapping::guess(&table.headers);
    Ok(Some((job, Some(Draft { table, guessed }))))
}

/// Every row checked under `choices`; writes nothing.
pub async fn preview_table(
    services: &Services,
    importer: Importer<'_>,
    table: &CsvTable,
    choices: &ImportChoices,
) -> Result<Preview, PreviewError> {
    let options = importer.grant_options(services).await?;
    preview::preview(services, importer.scope(), &options, table, choices).await
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The mapping cannot work.
    #[error(transparent)]
    Preview(#[from] PreviewError),
    /// No row of the file can be imported.
    #[error("no row can be imported")]
    NothingToImport(Box<Preview>),
    /// The job was confirmed already (or is not waiting for confirmation).
    #[error("the import has started already")]
    AlreadyStarted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Confirms a job: checks every row again (what the preview showed may have changed), writes
/// the rows, and queues the job for a runner. Yields what the preview found.
pub async fn start(
    services: &Services,
    importer: Importer<'_>,
    import_id: &str,
    table: &CsvTable,
    choices: &ImportChoices,
    ip: Option<&str>,
) -> Result<Preview, StartError> {
    let preview = preview_table(services, importer, table, choices).await?;
    if preview.ready == 0 {
        return Err(StartError::NothingToImport(Box::new(preview)));
    }
    let messages: Vec<String> = preview
        .rows
        .iter()
        .map(|row| row.errors.join(" "))
        .collect();
    let rows: Vec<NewImportRow<'_>> = preview
        .rows
        .iter()
        .zip(&messages)
        .map(|(row, message)| NewImportRow {
            row_number: i64::try_from(row.row_number).unwrap_or(i64::MAX),
            email: &row.email,
            first_name: Some(row.first_name.as_str()).filter(|name| !name.is_empty()),
            last_name: &row.last_name,
            target: row
                .ready
                .as_ref()
                .map(|ready| (&ready.profile.id, &ready.role.id)),
            message,
        })
        .collect();
    let started = services
        .store
        .start_import(
            importer.scope(),
            import_id,
            importer.user_id(),
            &rows,
            &importer.caps(services),
            ip,
            services.clock.now(),
        )
        .await?;
    if !started {
        return Err(StartError::AlreadyStarted);
    }
    services.import_signal.notify_one();
    Ok(preview)
}

/// The per-row result file: row number, email, outcome, message; every field guarded against
/// formulas ([`crate::csv_safety::neutralize_formula`]). `None` for another company's job.
pub async fn result_csv(
    services: &Services,
    scope: &OrganizationScope,
    import_id: &str,
) -> Result<Option<String>, StoreError> {
    if services.store.import_job(scope, import_id).await?.is_none() {
        return Ok(None);
    }
    let rows = services.store.import_results(scope, import_id).await?;
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 64));
    let guard = crate::csv_safety::neutralize_formula;
    let write = |writer: &mut csv::Writer<Vec<u8>>, fields: [&str; 4]| {
        writer
            .write_record(fields.map(guard).iter().map(|field| field.as_ref()))
            .map_err(|error| StoreError::Corrupt(error.to_string()))
    };
    write(&mut writer, ["row", "email", "outcome", "message"])?;
    for row in &rows {
        write(
            &mut writer,
            [
                &row.row_number.to_string(),
                &row.email,
                &row.outcome,
                &row.message,
            ],
        )?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|error| StoreError::Corrupt(error.to_string()))
}
