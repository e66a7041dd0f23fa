//! `/first-run/{code}`: a fresh server's one-time page that creates the company, its account and
//! the first administrator, then signs them in (the Terms come next, then the homepage).

use super::Shell;
use crate::usecases::FieldErrors;
use crate::usecases::create_organization::{CreateError, OrganizationInput, create_organization};
use crate::usecases::first_run::{FirstRunRefusal, admit_first_run, first_run_code_is_valid};
use crate::usecases::sessions::{SecondStep, start_session};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::cookies;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm, form_token};
use crate::web::error::WebError;
use crate::web::session::CurrentSession;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onestop_domain::SecretToken;

#[derive(Template, WebTemplate)]
#[template(path = "first_run.html")]
pub struct FirstRunPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    code: String,
    form: FirstRunForm,
    errors: FieldErrors,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct FirstRunForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    account_name: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

impl CarriesCsrfToken for FirstRunForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn invalid_link() -> WebError {
    WebError::BadRequest(
        "This set-up link is not valid. It works once, and only until the first company is created. \
         If you are setting up this server, restart it to get a new link; otherwise sign in."
            .to_owned(),
    )
}

pub async fn show(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Extension(current): Extension<CurrentSession>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    if state.services.store.organization_count().await? > 0 {
        return Err(WebError::NotFound);
    }
    let code = SecretToken::parse(&code).ok_or_else(invalid_link)?;
    if !first_run_code_is_valid(&state.services, &code).await? {
        return Err(invalid_link());
    }
    let (jar, csrf_token) = form_token(&current, jar, state.settings.https);
    let page = FirstRunPage {
        shell: None,
        title: "Set up 1Stop",
        csrf_token,
        code: code.expose().to_owned(),
        form: FirstRunForm::default(),
        errors: FieldErrors::default(),
    };
    // The code is in this page's address: never send it on as a Referer.
    Ok(([(header::REFERRER_POLICY, "no-referrer")], jar, page).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<FirstRunForm>,
) -> Result<Response, WebError> {
    // Before any hashing: no company yet, the address within its limit, the code live.
    let code = match admit_first_run(
        &state.services,
        SecretToken::parse(&form.code).as_ref(),
        &client.ip,
    )
    .await
    {
        Ok(code) => code,
        Err(FirstRunRefusal::CompanyExists) => return Err(WebError::NotFound),
        Err(FirstRunRefusal::InvalidCode) => return Err(invalid_link()),
        Err(FirstRunRefusal::TooManyAttempts(wait)) => {
            return Err(WebError::TooManyRequests {
                message: format!(
                    "Too many set-up attempts from your network. Try again in {} seconds.",
                    wait.as_secs()
                ),
                retry_after: wait,
            });
        }
        Err(FirstRunRefusal::Store(error)) => return Err(error.into()),
    };
    let input = OrganizationInput {
        company_name: form.company_name.clone(),
        account_name: form.account_name.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        username: form.username.clone(),
        password: form.password.clone(),
        password_confirmation: Some(form.password_confirmation.clone()),
    };
    match create_organization(
        &state.services,
        &input,
        Some(&code.hash()),
        Some(&client.ip),
    )
    .await
    {
        Ok(summary) => {
            let tokens = start_session(
                &state.services,
                &summary.administrator_id,
                &summary.org_id,
                Some(&client.ip),
                None,
                SecondStep::Done,
            )
            .await?;
            tracing::info!(org_id = %summary.org_id, "first run created the organization");
            let jar = jar.add(cookies::build(
                cookies::SESSION,
                tokens.session_token.expose().to_owned(),
                state.settings.https,
            ));
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(CreateError::Invalid(errors)) => {
            let page = FirstRunPage {
                shell: None,
                title: "Set up 1Stop",
                csrf_token: form.csrf_token.clone(),
                code: form.code.clone(),
                form: FirstRunForm {
                    password: String::new(),
                    password_confirmation: String::new(),
                    ..form
                },
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(CreateError::FirstRunCodeInvalid) => Err(invalid_link()),
        Err(CreateError::Internal(error)) => Err(WebError::Internal(error)),
    }
}
