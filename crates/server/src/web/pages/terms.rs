//! `/terms`: the Terms of Service gate, with "I Agree" and "Decline".

use super::Shell;
use crate::usecases::terms::{AcceptTermsError, accept_terms, current_terms, decline_terms};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::cookies;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm, TokenOnly};
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::SignedInAnyTerms;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

#[derive(Template, WebTemplate)]
#[template(path = "terms.html")]
pub struct TermsPage {
    shell: Option<Shell>,
    title: &'static str,
    company_name: String,
    version: i64,
    version_id: String,
    published: LocalTime,
    body: String,
    /// What changed, for versions after the first.
    changes: Option<String>,
    already_accepted: bool,
    csrf_token: String,
    notice: Option<&'static str>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedInAnyTerms(user): SignedInAnyTerms,
) -> Result<TermsPage, WebError> {
    render(&state, &user, None).await
}

async fn render(
    state: &AppState,
    user: &crate::usecases::sessions::SignedInSession,
    notice: Option<&'static str>,
) -> Result<TermsPage, WebError> {
    let terms = current_terms(&state.services, &user.scope).await?;
    Ok(TermsPage {
        shell: Some(Shell::of(user)),
        title: "Terms of Service",
        company_name: user.company_name.clone(),
        version: terms.version,
        version_id: terms.id,
        published: LocalTimes::for_reader(user, &state.services).at(terms.published_at),
        body: terms.body,
        changes: (terms.version > 1).then_some(terms.summary),
        already_accepted: user.accepted_current_terms,
        csrf_token: user.csrf_token.clone(),
        notice,
    })
}

#[derive(Debug, serde::Deserialize)]
pub struct AgreeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    version_id: String,
}

impl CarriesCsrfToken for AgreeForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub async fn accept(
    State(state): State<AppState>,
    SignedInAnyTerms(user): SignedInAnyTerms,
    client: Client,
    CsrfForm(form): CsrfForm<AgreeForm>,
) -> Result<Response, WebError> {
    match accept_terms(&state.services, &user, &form.version_id, &client.ip, &client.user_agent).await {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(AcceptTermsError::VersionChanged) => Ok(render(
            &state,
            &user,
            Some("The Terms of Service were updated while you were reading them. Please read this version."),
        )
        .await?
        .into_response()),
        Err(AcceptTermsError::Store(error)) => Err(error.into()),
    }
}

pub async fn decline(
    State(state): State<AppState>,
    SignedInAnyTerms(user): SignedInAnyTerms,
    client: Client,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    decline_terms(&state.services, &user, &client.ip).await?;
    let jar = jar.add(cookies::removal(cookies::SESSION, state.settings.https));
    Ok((jar, Redirect::to("/login?declined=1")).into_response())
}
