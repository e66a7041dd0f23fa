//! Setup > Users > Import Users: upload a CSV file, map its columns, preview every row, import
//! as a background job, follow its progress (the page reloads itself with a `Refresh` header
//! while the job runs, so no JavaScript is needed) and download the per-row result.

use super::Shell;
use super::role_choices::{RoleChoice, role_choices};
use super::users::{ProfileChoice, profile_choice};
use crate::store::ImportJob;
use crate::usecases::FieldErrors;
use crate::usecases::invite_user::least_powerful;
use crate::usecases::sessions::SignedInSession;
use crate::usecases::user_import::columns::{ColumnMapping, Target};
use crate::usecases::user_import::csv_file::{CsvFileError, CsvTable};
use crate::usecases::user_import::preview::{ImportChoices, Preview, PreviewError};
use crate::usecases::user_import::{self, Importer, StartError, UploadError};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::{IdPath, ManageUsers, RequirePermission};
use crate::web::uploads::{CsrfCsvUpload, Upload};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::ImportId;

/// How often the progress page reloads itself while the import runs.
const REFRESH_SECONDS: &str = "3";

#[derive(Template, WebTemplate)]
#[template(path = "user_import.html")]
pub struct UploadPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    error: Option<String>,
    recent: Vec<RecentImport>,
}

/// An earlier import, linked from the upload page.
pub struct RecentImport {
    id: String,
    started: LocalTime,
    summary: String,
}

/// How many earlier imports the upload page lists.
const RECENT_IMPORTS: i64 = 5;

async fn upload_page(
    state: &AppState,
    user: &SignedInSession,
    error: Option<String>,
) -> Result<UploadPage, WebError> {
    let times = LocalTimes::for_reader(user, &state.services);
    let recent = state
        .services
        .store
        .recent_imports(&user.scope, RECENT_IMPORTS)
        .await?
        .into_iter()
        .map(|job| RecentImport {
            started: times.at(job.created_at),
            summary: if job.is_done() {
                format!(
                    "{} invited, {} failed, {} left out",
                    thousands(job.invited_rows),
                    thousands(job.failed_rows),
                    thousands(job.skipped_rows)
                )
            } else {
                format!(
                    "running: {} of {} rows",
                    thousands(job.processed_rows()),
                    thousands(job.total_rows)
                )
            },
            id: job.id,
        })
        .collect();
    Ok(UploadPage {
        shell: Some(Shell::of(user)),
        title: "Import Users",
        csrf_token: user.csrf_token.clone(),
        error,
        recent,
    })
}

pub async fn upload_form(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
) -> Result<UploadPage, WebError> {
    upload_page(&state, &user, None).await
}

/// Keeps the file and goes on to the mapping; a file that cannot be read gets the form back
/// with what to do.
pub async fn upload(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    CsrfCsvUpload(upload): CsrfCsvUpload,
) -> Result<Response, WebError> {
    let bytes = match upload {
        Upload::File(bytes) => bytes,
        Upload::TooLarge => {
            let page = upload_page(&state, &user, Some(CsvFileError::TooLarge.to_string())).await?;
            return Ok((StatusCode::PAYLOAD_TOO_LARGE, page).into_response());
        }
    };
    if bytes.is_empty() {
        let page = upload_page(
            &state,
            &user,
            Some("Choose a CSV file to upload.".to_owned()),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    match user_import::upload(&state.services, Importer::Administrator(&user), &bytes).await {
        Ok((import_id, _)) => {
            Ok(Redirect::to(&format!("/setup/users/import/{import_id}")).into_response())
        }
        Err(UploadError::File(error)) => {
            let status = if error == CsvFileError::TooLarge {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = upload_page(&state, &user, Some(error.to_string())).await?;
            Ok((status, page).into_response())
        }
        Err(UploadError::Store(error)) => Err(error.into()),
    }
}

/// A target of the mapping, as its select shows it.
pub struct TargetChoice {
    field: &'static str,
    label: &'static str,
    selected: Option<usize>,
    required: bool,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "user_import_mapping.html")]
pub struct MappingPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    import_id: String,
    headers: Vec<String>,
    /// The first rows of the file, to recognize the columns by.
    samples: Vec<Vec<String>>,
    row_count: usize,
    targets: Vec<TargetChoice>,
    profiles: Vec<ProfileChoice>,
    roles: Vec<RoleChoice>,
    default_profile_id: String,
    default_role_id: String,
    errors: FieldErrors,
}

/// The mapping form (sent again, hidden, by the preview's Import button).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    first_name_column: String,
    #[serde(default)]
    last_name_column: String,
    #[serde(default)]
    email_column: String,
    #[serde(default)]
    profile_column: String,
    #[serde(default)]
    role_column: String,
    #[serde(default)]
    default_profile_id: String,
    #[serde(default)]
    default_role_id: String,
}

impl CarriesCsrfToken for MappingForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl MappingForm {
    fn column(&self, target: Target) -> &str {
        match target {
            Target::FirstName => &self.first_name_column,
            Target::LastName => &self.last_name_column,
            Target::Email => &self.email_column,
            Target::Profile => &self.profile_column,
            Target::Role => &self.role_column,
        }
    }

    /// The choices as typed: a column is its number (from 0), or empty for none. Something
    /// else is a column no file has, which the preview names.
    fn choices(&self) -> ImportChoices {
        let mut mapping = ColumnMapping::default();
        for target in Target::ALL {
            let typed = self.column(target).trim();
            let column = if typed.is_empty() {
                None
            } else {
                Some(typed.parse::<usize>().unwrap_or(usize::MAX))
            };
            mapping.set(target, column);
        }
        ImportChoices {
            mapping,
            default_profile_id: self.default_profile_id.clone(),
            default_role_id: self.default_role_id.clone(),
        }
    }
}

async fn mapping_page(
    state: &AppState,
    user: &SignedInSession,
    import_id: &str,
    table: &CsvTable,
    choices: Option<ImportChoices>,
    errors: FieldErrors,
) -> Result<MappingPage, WebError> {
    let options = Importer::Administrator(user)
        .grant_options(&state.services)
        .await?;
    let choices = choices.unwrap_or_else(|| ImportChoices {
        mapping: ColumnMapping::guess(&table.headers),
        default_profile_id: least_powerful(&options.profiles)
            .map(|profile| profile.id.to_string())
            .unwrap_or_default(),
        default_role_id: options
            .roles
            .last()
            .map(|role| role.id.to_string())
            .unwrap_or_default(),
    });
    let targets = Target::ALL
        .into_iter()
        .map(|target| TargetChoice {
            field: target.field(),
            label: target.label(),
            selected: choices.mapping.get(target),
            required: matches!(target, Target::LastName | Target::Email),
            error: errors.get(target.field()).map(str::to_owned),
        })
        .collect();
    Ok(MappingPage {
        shell: Some(Shell::of(user)),
        title: "Import Users: columns",
        csrf_token: user.csrf_token.clone(),
        import_id: import_id.to_owned(),
        headers: table.headers.clone(),
        samples: table
            .rows
            .iter()
            .take(3)
            .map(|row| {
                (0..table.headers.len())
                    .map(|column| row.cell(Some(column)).to_owned())
                    .collect()
            })
            .collect(),
        row_count: table.rows.len(),
        targets,
        roles: role_choices(&options.roles),
        profiles: options.profiles.into_iter().map(profile_choice).collect(),
        default_profile_id: choices.default_profile_id,
        default_role_id: choices.default_role_id,
        errors,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "user_import_progress.html")]
pub struct ProgressPage {
    shell: Option<Shell>,
    title: &'static str,
    import_id: String,
    done: bool,
    /// For the `<progress>` element.
    processed: i64,
    total: i64,
    /// "1,200 of 10,000 rows", and the outcomes so far.
    processed_text: String,
    total_text: String,
    invited: String,
    failed: String,
    skipped: String,
}

impl ProgressPage {
    fn of(user: &SignedInSession, job: &ImportJob) -> Self {
        Self {
            shell: Some(Shell::of(user)),
            title: "Import Users: progress",
            import_id: job.id.clone(),
            done: job.is_done(),
            processed: job.processed_rows(),
            total: job.total_rows,
            processed_text: thousands(job.processed_rows()),
            total_text: thousands(job.total_rows),
            invited: thousands(job.invited_rows),
            failed: thousands(job.failed_rows),
            skipped: thousands(job.skipped_rows),
        }
    }
}

/// The job: its mapping step while it waits for confirmation, else its progress.
pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    IdPath(import_id): IdPath<ImportId>,
) -> Result<Response, WebError> {
    let Some((job, draft)) =
        user_import::job(&state.services, &user.scope, import_id.as_str()).await?
    else {
        return Err(WebError::NotFound);
    };
    if let Some(draft) = draft {
        let page = mapping_page(
            &state,
            &user,
            import_id.as_str(),
            &draft.table,
            None,
            FieldErrors::default(),
        )
        .await?;
        return Ok(page.into_response());
    }
    let page = ProgressPage::of(&user, &job);
    if page.done {
        Ok(page.into_response())
    } else {
        Ok(([(header::REFRESH, REFRESH_SECONDS)], page).into_response())
    }
}

/// One row as the preview shows it.
pub struct RowView {
    row_number: u64,
    first_name: String,
    last_name: String,
    email: String,
    profile: String,
    role: String,
    errors: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "user_import_preview.html")]
pub struct PreviewPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    import_id: String,
    form: MappingForm,
    ready: String,
    with_errors: String,
    can_import: bool,
    rows: Vec<RowView>,
}

fn preview_page(
    user: &SignedInSession,
    import_id: &str,
    form: MappingForm,
    preview: Preview,
) -> PreviewPage {
    PreviewPage {
        shell: Some(Shell::of(user)),
        title: "Import Users: preview",
        csrf_token: user.csrf_token.clone(),
        import_id: import_id.to_owned(),
        form,
        ready: thousands(preview.ready),
        with_errors: thousands(preview.with_errors),
        can_import: preview.ready > 0,
        rows: preview
            .rows
            .into_iter()
            .map(|row| RowView {
                row_number: row.row_number,
                first_name: row.first_name,
                last_name: row.last_name,
                email: row.email,
                profile: row.profile,
                role: row.role,
                errors: row.errors,
            })
            .collect(),
    }
}

/// The file of a job still waiting for confirmation; a job already started shows its progress.
async fn draft_table(
    state: &AppState,
    user: &SignedInSession,
    import_id: &str,
) -> Result<Result<CsvTable, Response>, WebError> {
    match user_import::job(&state.services, &user.scope, import_id).await? {
        None => Err(WebError::NotFound),
        Some((_, Some(draft))) => Ok(Ok(draft.table)),
        Some((_, None)) => Ok(Err(Redirect::to(&format!(
            "/setup/users/import/{import_id}"
        ))
        .into_response())),
    }
}

/// Every row with its errors; nothing is written.
pub async fn preview(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    IdPath(import_id): IdPath<ImportId>,
    CsrfForm(form): CsrfForm<MappingForm>,
) -> Result<Response, WebError> {
    let table = match draft_table(&state, &user, import_id.as_str()).await? {
        Ok(table) => table,
        Err(started) => return Ok(started),
    };
    let choices = form.choices();
    match user_import::preview_table(
        &state.services,
        Importer::Administrator(&user),
        &table,
        &choices,
    )
    .await
    {
        Ok(preview) => Ok(preview_page(&user, import_id.as_str(), form, preview).into_response()),
        Err(PreviewError::Invalid(errors)) => {
            let page = mapping_page(
                &state,
                &user,
                import_id.as_str(),
                &table,
                Some(choices),
                errors,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(PreviewError::Store(error)) => Err(error.into()),
    }
}

/// Import: the rows are checked again, written with the job, and the runner takes over.
pub async fn start(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    client: Client,
    IdPath(import_id): IdPath<ImportId>,
    CsrfForm(form): CsrfForm<MappingForm>,
) -> Result<Response, WebError> {
    let table = match draft_table(&state, &user, import_id.as_str()).await? {
        Ok(table) => table,
        Err(started) => return Ok(started),
    };
    let choices = form.choices();
    let progress = Redirect::to(&format!("/setup/users/import/{import_id}")).into_response();
    match user_import::start(
        &state.services,
        Importer::Administrator(&user),
        import_id.as_str(),
        &table,
        &choices,
        Some(&client.ip),
    )
    .await
    {
        Ok(_) | Err(StartError::AlreadyStarted) => Ok(progress),
        Err(StartError::NothingToImport(preview)) => {
            let page = preview_page(&user, import_id.as_str(), form, *preview);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(StartError::Preview(PreviewError::Invalid(errors))) => {
            let page = mapping_page(
                &state,
                &user,
                import_id.as_str(),
                &table,
                Some(choices),
                errors,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(StartError::Preview(PreviewError::Store(error)) | StartError::Store(error)) => {
            Err(error.into())
        }
    }
}

/// Row, email, outcome and message of every row of the file.
pub async fn result_csv(
    State(state): State<AppState>,
    user: RequirePermission<ManageUsers>,
    IdPath(import_id): IdPath<ImportId>,
) -> Result<Response, WebError> {
    let Some(csv) =
        user_import::result_csv(&state.services, &user.scope, import_id.as_str()).await?
    else {
        return Err(WebError::NotFound);
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"import-result.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// "9,980": counts as the pages write them.
pub fn thousands(count: impl std::fmt::Display) -> String {
    let digits = count.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1200), "1,200");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
