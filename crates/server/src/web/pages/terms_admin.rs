//! Setup > Terms of Service: the current text, the version history, "Publish new version", and
//! who accepted which version (with a CSV export).

use super::Shell;
use crate::csv_safety::quoted_csv_field;
use crate::store::TermsHistoryEntry;
use crate::usecases::FieldErrors;
use crate::usecases::sessions::SignedInSession;
use crate::usecases::terms::{PublishTermsError, current_terms, publish_terms};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::{ManageTermsOfService, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use onestop_domain::Timestamp;

/// The page lists this many of the newest acceptances; the CSV has them all.
const ACCEPTANCES_SHOWN: usize = 100;

pub struct HistoryItem {
    pub version: i64,
    pub summary: String,
    pub published: LocalTime,
    pub publisher: String,
    pub acceptances: i64,
    pub sha256: String,
}

fn history_item(entry: TermsHistoryEntry, times: &LocalTimes) -> HistoryItem {
    HistoryItem {
        version: entry.version,
        published: times.at(entry.published_at),
        publisher: match (entry.publisher_first_name, entry.publisher_last_name) {
            (Some(first), Some(last)) => format!("{first} {last}"),
            (None, Some(last)) => last,
            _ => "1Stop (first version)".to_owned(),
        },
        summary: entry.summary,
        acceptances: entry.acceptances,
        sha256: entry.body_sha256,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "terms_admin.html")]
pub struct TermsAdminPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    current_version: i64,
    current_body: String,
    history: Vec<HistoryItem>,
    /// The newest acceptances: (name, version, when, address).
    acceptances: Vec<(String, i64, LocalTime, String)>,
    body: String,
    summary: String,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn page(
    state: &AppState,
    user: &SignedInSession,
    body: Option<String>,
    summary: String,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<TermsAdminPage, WebError> {
    let current = current_terms(&state.services, &user.scope).await?;
    let times = LocalTimes::for_reader(user, &state.services);
    let acceptances = state
        .services
        .store
        .acceptance_records(&user.scope)
        .await?
        .into_iter()
        .take(ACCEPTANCES_SHOWN)
        .map(|record| {
            let name = match &record.first_name {
                Some(first) => format!("{first} {}", record.last_name),
                None => record.last_name.clone(),
            };
            (
                name,
                record.version,
                times.at(record.accepted_at),
                record.ip,
            )
        })
        .collect();
    let history = state
        .services
        .store
        .terms_history(&user.scope)
        .await?
        .into_iter()
        .map(|entry| history_item(entry, &times))
        .collect();
    Ok(TermsAdminPage {
        shell: Some(Shell::of(user)),
        title: "Terms of Service",
        csrf_token: user.csrf_token.clone(),
        current_version: current.version,
        body: body.unwrap_or_else(|| current.body.clone()),
        current_body: current.body,
        history,
        acceptances,
        summary,
        errors,
        notice,
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ManageTermsOfService>,
) -> Result<TermsAdminPage, WebError> {
    page(
        &state,
        &user,
        None,
        String::new(),
        FieldErrors::default(),
        None,
    )
    .await
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    summary: String,
}

impl CarriesCsrfToken for PublishForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// "Publish": the new version takes effect at once; everyone agrees again on their next request.
pub async fn publish(
    State(state): State<AppState>,
    user: RequirePermission<ManageTermsOfService>,
    client: Client,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> Result<Response, WebError> {
    match publish_terms(&state.services, &user, &form.body, &form.summary, Some(&client.ip)).await {
        Ok(version) => Ok(page(
            &state,
            &user,
            None,
            String::new(),
            FieldErrors::default(),
            Some(format!("Version {version} published. Everyone, you included, will be asked to agree to it on their next page.")),
        )
        .await?
        .into_response()),
        Err(PublishTermsError::Invalid(errors)) => {
            let page = page(&state, &user, Some(form.body), form.summary, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(PublishTermsError::Store(error)) => Err(error.into()),
    }
}

/// Every acceptance: who, when, from where, which version and the SHA-256 of its text.
pub async fn acceptances_csv(
    State(state): State<AppState>,
    user: RequirePermission<ManageTermsOfService>,
) -> Result<Response, WebError> {
    let records = state.services.store.acceptance_records(&user.scope).await?;
    let mut csv = String::from("name,email,version,accepted_at_utc,ip,user_agent,text_sha256\r\n");
    for record in records {
        let name = match &record.first_name {
            Some(first) => format!("{first} {}", record.last_name),
            None => record.last_name.clone(),
        };
        let row = [
            quoted_csv_field(&name),
            quoted_csv_field(&record.email),
            record.version.to_string(),
            quoted_csv_field(&Timestamp::from_unix_millis(record.accepted_at).to_string()),
            quoted_csv_field(&record.ip),
            quoted_csv_field(&record.user_agent),
            quoted_csv_field(&record.body_sha256),
        ];
        csv.push_str(&row.join(","));
        csv.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"terms-acceptances.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
