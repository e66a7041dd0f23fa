//! Setup > Company Details.

use super::Shell;
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
}

impl CarriesCsrfToken for CompanyForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn page(
    user: &SignedInSession,
    form: CompanyInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> CompanyPage {
    CompanyPage {
        shell: Some(Shell::of(user)),
        title: "Company Details",
        csrf_token: user.csrf_token.clone(),
        time_zones: TimeZoneName::choices_with(&form.time_zone),
        form,
        errors,
        notice,
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ManageCompanyDetails>,
) -> Result<CompanyPage, WebError> {
    let form = company_details(&state.services, &user.scope).await?;
    Ok(page(&user, form, FieldErrors::default(), None))
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
    };
    match update_company_details(&state.services, &user, &input, Some(&client.ip)).await {
        Ok(()) => {
            let saved = company_details(&state.services, &user.scope).await?;
            Ok(page(
                &user,
                saved,
                FieldErrors::default(),
                Some("Company details saved."),
            )
            .into_response())
        }
        Err(CompanyError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&user, input, errors, None),
        )
            .into_response()),
        Err(CompanyError::Store(error)) => Err(error.into()),
    }
}
