//! Setup > Company Details.

use super::Shell;
use crate::store::TwoStepCoverage;
use crate::usecases::FieldErrors;
use crate::usecases::company::{
    CompanyError, CompanyInput, company_details, update_company_details,
};
use crate::usecases::sessions::SignedInSession;
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::session::{ManageCompanyDetails, RequirePermission};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onestop_domain::TimeZoneName;

#[derive(Template, WebTemplate)]
#[template(path = "company.html")]
pub struct CompanyPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    form: CompanyInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
    time_zones: Vec<String>,
    /// Active users without two-step verification.
    coverage: TwoStepCoverage,
}

#[derive(Debug, serde::Deserialize)]
pub struct CompanyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    account_name: String,
    #[serde(default)]
    invitation_lifetime_hours: String,
    #[serde(default)]
    time_zone: String,
    /// The check box: present when ticked.
    #[serde(default)]
    remember_two_step_browsers: Option<String>,
}

impl CarriesCsrfToken for CompanyForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn page(
    state: &AppState,
    user: &SignedInSession,
    form: CompanyInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<CompanyPage, WebError> {
    let coverage = state.services.store.two_step_coverage(&user.scope).await?;
    Ok(CompanyPage {
        shell: Some(Shell::of(user)),
        title: "Company Details",
        csrf_token: user.csrf_token.clone(),
        time_zones: TimeZoneName::choices_with(&form.time_zone),
        form,
        errors,
        notice,
        coverage,
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ManageCompanyDetails>,
) -> Result<CompanyPage, WebError> {
    let form = company_details(&state.services, &user.scope).await?;
    page(&state, &user, form, FieldErrors::default(), None).await
}

pub async fn save(
    State(state): State<AppState>,
    user: RequirePermission<ManageCompanyDetails>,
    client: Client,
    CsrfForm(form): CsrfForm<CompanyForm>,
) -> Result<Response, WebError> {
    let input = CompanyInput {
        company_name: form.company_name,
        account_name: form.account_name,
        invitation_lifetime_hours: form.invitation_lifetime_hours,
        time_zone: form.time_zone,
        remember_two_step_browsers: form.remember_two_step_browsers.is_some(),
    };
    match update_company_details(&state.services, &user, &input, Some(&client.ip)).await {
        Ok(()) => {
            let saved = company_details(&state.services, &user.scope).await?;
            Ok(page(
                &state,
                &user,
                saved,
                FieldErrors::default(),
                Some("Company details saved."),
            )
            .await?
            .into_response())
        }
        Err(CompanyError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, &user, input, errors, None).await?,
        )
            .into_response()),
        Err(CompanyError::Store(error)) => Err(error.into()),
    }
}
