//! `onestop users import FILE --org ID [--dry-run] [--profile NAME] [--role NAME]`: the same
//! import as Setup > Users > Import Users, as the operator (the built-in Administrator's grant
//! rights; audited without an actor), with the columns guessed from the header, every row's
//! errors printed, and a terminal progress bar (hidden when standard error is not a terminal).

use crate::config::Config;
use crate::server::open_store;
use crate::store::ProfileRow;
use crate::tenancy::OrganizationScope;
use crate::usecases::Services;
use crate::usecases::invite_user::least_powerful;
use crate::usecases::user_import::columns::{ColumnMapping, Target};
use crate::usecases::user_import::csv_file::{self, CsvTable};
use crate::usecases::user_import::preview::{ImportChoices, Preview, PreviewError};
use crate::usecases::user_import::runner::{ImportRunner, Step};
use crate::usecases::user_import::{self, Importer, StartError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use onestop_domain::OrganizationId;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

pub struct ImportArgs {
    pub file: std::path::PathBuf,
    pub org: String,
    pub dry_run: bool,
    pub profile: Option<String>,
    pub role: Option<String>,
}

/// Bad usage or input: the message, and exit code 2.
fn refuse(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("onestop: {message}");
    eprintln!("Nothing was imported.");
    Ok(ExitCode::from(2))
}

pub async fn import_users(args: ImportArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let Some(org_id) = OrganizationId::parse(&args.org) else {
        return refuse(format!(
            "--org: \u{201c}{}\u{201d} is not an organization id.",
            args.org
        ));
    };
    let bytes = match std::fs::metadata(&args.file) {
        Ok(metadata) if metadata.len() > csv_file::MAX_FILE_BYTES as u64 => {
            return refuse(format!(
                "{}: {}",
                args.file.display(),
                csv_file::CsvFileError::TooLarge
            ));
        }
        Ok(_) => std::fs::read(&args.file),
        Err(error) => Err(error),
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(error) => return refuse(format!("{}: {error}", args.file.display())),
    };
    let table = match csv_file::decode(&bytes).and_then(|text| csv_file::parse(&text)) {
        Ok(table) => table,
        Err(error) => return refuse(format!("{}: {error}", args.file.display())),
    };
    let store = open_store(config).await?;
    let services = Services::start(store.clone(), config).await?;
    let result = import(&services, &args, &bytes, &table, org_id).await;
    store.close().await;
    result
}

async fn import(
    services: &Services,
    args: &ImportArgs,
    bytes: &[u8],
    table: &CsvTable,
    org_id: OrganizationId,
) -> anyhow::Result<ExitCode> {
    let scope = OrganizationScope::operator(org_id);
    let importer = Importer::Operator(&scope);
    let options = importer.grant_options(services).await?;
    if options.profiles.is_empty() {
        return refuse(format!(
            "--org: there is no organization with id {}.",
            args.org
        ));
    }
    let profile = match &args.profile {
        Some(name) => match named(&options.profiles, name, |profile: &ProfileRow| {
            &profile.name
        }) {
            Some(profile) => profile,
            None => {
                let names: Vec<&str> = options.profiles.iter().map(|p| p.name.as_str()).collect();
                return refuse(format!(
                    "--profile: there is no profile named \u{201c}{name}\u{201d}; the profiles are: {}.",
                    names.join(", ")
                ));
            }
        },
        None => match least_powerful(&options.profiles) {
            Some(profile) => profile,
            None => return refuse("the organization has no profile."),
        },
    };
    let role = match &args.role {
        Some(name) => match named(&options.roles, name, |role| &role.name) {
            Some(role) => role,
            None => {
                let names: Vec<&str> = options.roles.iter().map(|r| r.name.as_str()).collect();
                return refuse(format!(
                    "--role: there is no role named \u{201c}{name}\u{201d}; the roles are: {}.",
                    names.join(", ")
                ));
            }
        },
        None => match options.roles.last() {
            Some(role) => role,
            None => return refuse("the organization has no role."),
        },
    };
    let choices = ImportChoices {
        mapping: ColumnMapping::guess(&table.headers),
        default_profile_id: profile.id.to_string(),
        default_role_id: role.id.to_string(),
    };
    let preview = match user_import::preview_table(services, importer, table, &choices).await {
        Ok(preview) => preview,
        Err(PreviewError::Invalid(errors)) => return refuse_mapping(table, &errors),
        Err(PreviewError::Store(error)) => return Err(error.into()),
    };
    print_preview(&preview);
    if args.dry_run {
        println!("Dry run: nothing was written.");
        return Ok(ExitCode::SUCCESS);
    }
    if preview.ready == 0 {
        return refuse("no row can be imported.");
    }
    let (import_id, _) = user_import::upload(services, importer, bytes).await?;
    match user_import::start(services, importer, &import_id, table, &choices, None).await {
        Ok(_) => {}
        Err(StartError::NothingToImport(_)) => return refuse("no row can be imported."),
        Err(StartError::Preview(PreviewError::Invalid(errors))) => {
            return refuse_mapping(table, &errors);
        }
        Err(StartError::AlreadyStarted) => anyhow::bail!("the import was started twice"),
        Err(StartError::Preview(PreviewError::Store(error)) | StartError::Store(error)) => {
            return Err(error.into());
        }
    }
    run_with_progress(services, &scope, &import_id, preview.ready).await?;
    let Some(job) = services.store.import_job(&scope, &import_id).await? else {
        anyhow::bail!("the import {import_id} has disappeared");
    };
    for row in services.store.import_results(&scope, &import_id).await? {
        if row.outcome == "failed" {
            println!("row {}: {}: {}", row.row_number, row.email, row.message);
        }
    }
    println!(
        "Imported (id {import_id}): {} invited, {} failed, {} left out for errors. The emails go out while `onestop serve` (or `onestop worker`) runs, within the hourly invitation limits.",
        job.invited_rows, job.failed_rows, job.skipped_rows
    );
    Ok(if job.failed_rows > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn named<'a, T>(items: &'a [T], name: &str, name_of: impl Fn(&T) -> &String) -> Option<&'a T> {
    let key = name.trim().to_lowercase();
    items
        .iter()
        .find(|item| name_of(item).to_lowercase() == key)
}

fn refuse_mapping(
    table: &CsvTable,
    errors: &crate::usecases::FieldErrors,
) -> anyhow::Result<ExitCode> {
    for target in [Target::Email, Target::LastName] {
        if errors.get(target.field()).is_some() {
            eprintln!(
                "onestop: the file has no column recognized as {}; its columns are: {}.",
                target.label(),
                table.headers.join(", ")
            );
        }
    }
    refuse("name the columns First Name, Last Name and Email in the file's first line.")
}

fn print_preview(preview: &Preview) {
    for row in &preview.rows {
        if !row.errors.is_empty() {
            println!("row {}: {}", row.row_number, row.errors.join(" "));
        }
    }
    println!(
        "{} rows ready, {} with errors (left out).",
        preview.ready, preview.with_errors
    );
}

/// Runs the job here, a chunk at a time, with the bar. When a running server's runner has
/// claimed it first, follows its progress instead.
async fn run_with_progress(
    services: &Services,
    scope: &OrganizationScope,
    import_id: &str,
    total: usize,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(total as u64);
    if std::io::stderr().is_terminal() {
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {elapsed}") {
            bar.set_style(style);
        }
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let mut runner = ImportRunner::new(services.clone());
    loop {
        match runner.step(Some(import_id)).await? {
            Step::Chunk {
                invited, failed, ..
            } => bar.inc((invited + failed) as u64),
            Step::Finished { .. } => break,
            Step::Idle | Step::LeaseLost { .. } => {
                let Some(job) = services.store.import_job(scope, import_id).await? else {
                    break;
                };
                bar.set_position(u64::try_from(job.processed_rows()).unwrap_or(0));
                if job.is_done() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    bar.finish_and_clear();
    Ok(())
}
