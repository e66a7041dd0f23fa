//! Setup > Company Details.

use super::Shell;
use crate::usecases::FieldErrors;
use crate::usecases::company::{
    CompanyError, CompanyInput, company_details, update_company_details,
};
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

pub async fn show(
    State(state): State<AppState>,
    user: RequirePermission<ManageCompanyDetails>,
) -> Result<CompanyPage, WebError> {
    Ok(CompanyPage {
        shell: Some(Shell::of(&user)),
        title: "Company Details",
        csrf_token: user.csrf_token.clone(),
        form: company_details(&state.services, &user.scope).await?,
        errors: FieldErrors::default(),
        notice: None,
        time_zones: TimeZoneName::choices(),
    })
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
        Ok(()) => Ok(CompanyPage {
            shell: Some(Shell::of(&user)),
            title: "Company Details",
            csrf_token: user.csrf_token.clone(),
            form: company_details(&state.services, &user.scope).await?,
            errors: FieldErrors::default(),
            notice: Some("Company details saved."),
            time_zones: TimeZoneName::choices(),
        }
        .into_response()),
        Err(CompanyError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            CompanyPage {
                shell: Some(Shell::of(&user)),
                title: "Company Details",
                csrf_token: user.csrf_token.clone(),
                form: input,
                errors,
                notice: None,
                time_zones: TimeZoneName::choices(),
            },
        )
            .into_response()),
        Err(CompanyError::Store(error)) => Err(error.into()),
    }
}
