//! My Account > Two-step verification (`/account/two-step`): the user's methods (name, kind,
//! added, last used), adding an authenticator app, renaming and removing, and recovery codes.
//! The same "add an authenticator app" page is the setup gate (`/account/two-step/setup`) of a
//! user whose profile requires two-step verification; passkeys add their button through
//! `templates/_passkey_add.html`.
//!
//! Secrets and recovery codes are shown only in answers sent with `Cache-Control: no-store`.

use super::Shell;
use crate::usecases::FieldErrors;
use crate::usecases::sessions::SignedInSession;
use crate::usecases::two_step::recovery_codes::as_text_file;
use crate::usecases::two_step::{
    ConfirmAuthenticator, DEFAULT_TOTP_NAME, EnrolmentOffer, TwoStepError, confirm_authenticator,
    offer_authenticator, overview, regenerate_recovery_codes, remove_method, rename_method,
    reoffer_authenticator,
};
use crate::web::AppState;
use crate::web::client::Client;
use crate::web::csrf::{CarriesCsrfToken, CsrfForm};
use crate::web::error::WebError;
use crate::web::local_time::{LocalTime, LocalTimes};
use crate::web::session::{SignedInAnyEnrolment, SignedInUser};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use onestop_domain::LocalRedirect;

const PAGE: &str = "/account/two-step";

/// One method in the list.
#[derive(Debug, Clone)]
pub struct MethodLine {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub added: LocalTime,
    pub last_used: Option<LocalTime>,
}

#[derive(Template, WebTemplate)]
#[template(path = "two_step.html")]
pub struct TwoStepPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    methods: Vec<MethodLine>,
    unused_recovery_codes: i64,
    required: bool,
    notice: Option<&'static str>,
    /// What went wrong with a rename or a removal.
    failure: Option<String>,
    /// Why a new name was refused, and the method it was for.
    name_error: Option<String>,
    name_error_for: String,
    /// Where "Add passkey" (`_passkey_add.html`) comes back to.
    next: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct TwoStepQuery {
    added: Option<String>,
    renamed: Option<String>,
    removed: Option<String>,
}

async fn list_page(state: &AppState, user: &SignedInSession) -> Result<TwoStepPage, WebError> {
    let overview = overview(&state.services, user).await?;
    let times = LocalTimes::for_reader(user, &state.services);
    Ok(TwoStepPage {
        shell: Some(Shell::of(user)),
        title: "Two-step verification",
        csrf_token: user.csrf_token.clone(),
        methods: overview
            .methods
            .into_iter()
            .map(|method| MethodLine {
                id: method.id,
                name: method.name,
                kind: method.kind_label,
                added: times.of(method.added),
                last_used: method.last_used.map(|at| times.of(at)),
            })
            .collect(),
        unused_recovery_codes: overview.unused_recovery_codes,
        required: overview.required,
        notice: None,
        failure: None,
        name_error: None,
        name_error_for: String::new(),
        next: PAGE.to_owned(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: SignedInUser,
    Query(query): Query<TwoStepQuery>,
) -> Result<TwoStepPage, WebError> {
    let mut page = list_page(&state, &user).await?;
    page.notice = if query.added.as_deref() == Some("passkey") {
        Some("Your passkey is added. You can use it for the second step when you sign in.")
    } else if query.added.is_some() {
        Some("Your authenticator app is set up. You will be asked for its code when you sign in.")
    } else if query.renamed.is_some() {
        Some("The name is saved.")
    } else if query.removed.is_some() {
        Some("The method is removed.")
    } else {
        None
    };
    Ok(page)
}

#[derive(Template, WebTemplate)]
#[template(path = "two_step_add.html")]
pub struct AddAuthenticatorPage {
    shell: Option<Shell>,
    title: &'static str,
    csrf_token: String,
    /// The setup gate: the profile requires two-step verification.
    setup: bool,
    /// The user owes the setup (no method yet).
    owed: bool,
    offer: EnrolmentOffer,
    name: String,
    errors: FieldErrors,
    /// Where to go once set up (the setup gate).
    next: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct AddQuery {
    next: Option<String>,
}

pub(super) fn local(next: &str) -> String {
    LocalRedirect::parse(next).map_or_else(|| "/".to_owned(), |next| next.as_str().to_owned())
}

pub(super) fn no_store(response: impl IntoResponse) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], response).into_response()
}

fn add_page(
    user: &SignedInSession,
    setup: bool,
    offer: EnrolmentOffer,
    next: &str,
) -> AddAuthenticatorPage {
    AddAuthenticatorPage {
        shell: Some(Shell::of(user)),
        title: if setup {
            "Set up two-step verification"
        } else {
            "Add an authenticator app"
        },
        csrf_token: user.csrf_token.clone(),
        setup,
        owed: user.must_enrol_two_step,
        offer,
        name: DEFAULT_TOTP_NAME.to_owned(),
        errors: FieldErrors::default(),
        next: local(next),
    }
}

fn offer(state: &AppState, user: &SignedInSession) -> Result<EnrolmentOffer, WebError> {
    offer_authenticator(&state.services, user).map_err(|error| match error {
        TwoStepError::Internal(error) => WebError::Internal(error),
        other => WebError::Internal(other.into()),
    })
}

/// `GET /account/two-step/authenticator`: a new secret, its QR code, and the form to confirm.
pub async fn add_form(
    State(state): State<AppState>,
    SignedInAnyEnrolment(user): SignedInAnyEnrolment,
    Query(query): Query<AddQuery>,
) -> Result<Response, WebError> {
    let offer = offer(&state, &user)?;
    let setup = user.must_enrol_two_step;
    let next = query.next.unwrap_or_else(|| PAGE.to_owned());
    Ok(no_store(add_page(&user, setup, offer, &next)))
}

/// `GET /account/two-step/setup`: the gate of a user whose profile requires two-step
/// verification; afterwards they go on to `next` (through the Terms, if not accepted yet).
pub async fn setup(
    State(state): State<AppState>,
    SignedInAnyEnrolment(user): SignedInAnyEnrolment,
    Query(query): Query<AddQuery>,
) -> Result<Response, WebError> {
    let offer = offer(&state, &user)?;
    let next = query.next.unwrap_or_else(|| "/".to_owned());
    Ok(no_store(add_page(&user, true, offer, &next)))
}

#[derive(Debug, serde::Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf_token: String,
    /// The sealed secret of the offer.
    #[serde(default)]
    secret: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    setup: Option<String>,
    #[serde(default)]
    next: String,
}

impl CarriesCsrfToken for AddForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

const EXPIRED_OFFER: &str = "This setup form has expired or was not made for your account. Open \u{201c}Add an authenticator app\u{201d} again: it shows a new secret to scan.";

/// `POST /account/two-step/authenticator`: saves the app once its code is right; the first
/// method's recovery codes are shown in the answer.
pub async fn add(
    State(state): State<AppState>,
    SignedInAnyEnrolment(user): SignedInAnyEnrolment,
    client: Client,
    CsrfForm(form): CsrfForm<AddForm>,
) -> Result<Response, WebError> {
    let setup = form.setup.is_some() || user.must_enrol_two_step;
    let confirm = ConfirmAuthenticator {
        sealed: &form.secret,
        name: &form.name,
        code: &form.code,
    };
    let continue_to = if setup {
        local(&form.next)
    } else {
        format!("{PAGE}?added=1")
    };
    match confirm_authenticator(&state.services, &user, &confirm, Some(&client.ip)).await {
        Ok(Some(codes)) => Ok(no_store(codes_page(&user, codes, continue_to, true))),
        Ok(None) => Ok(Redirect::to(&continue_to).into_response()),
        Err(TwoStepError::Invalid(errors)) => {
            let offer = reoffer_authenticator(&state.services, &user, &form.secret)
                .map_err(|_| WebError::BadRequest(EXPIRED_OFFER.to_owned()))?;
            let mut page = add_page(&user, setup, offer, &form.next);
            page.name = form.name.trim().to_owned();
            page.errors = errors;
            Ok(no_store((StatusCode::UNPROCESSABLE_ENTITY, page)))
        }
        Err(TwoStepError::ExpiredOffer) => Err(WebError::BadRequest(EXPIRED_OFFER.to_owned())),
        Err(error) => Err(WebError::Internal(error.into())),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    shell: Option<Shell>,
    title: &'static str,
    codes: Vec<String>,
    /// The codes as a text file, percent-encoded for a `data:` link.
    download: String,
    continue_to: String,
    /// Shown right after the first method was added.
    first: bool,
}

/// The page that shows new recovery codes once (send it with [`no_store`]); passkeys' first
/// enrolment shows it too.
pub(super) fn codes_page(
    user: &SignedInSession,
    codes: Vec<String>,
    continue_to: String,
    first: bool,
) -> RecoveryCodesPage {
    let text = as_text_file(&codes, &format!("{} ({})", user.full_name(), user.email));
    RecoveryCodesPage {
        shell: Some(Shell::of(user)),
        title: "Your recovery codes",
        download: url::form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20"),
        codes,
        continue_to,
        first,
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct CodesForm {
    #[serde(default)]
    csrf_token: String,
}

impl CarriesCsrfToken for CodesForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /account/two-step/recovery-codes`: ten new codes; the old ones stop working.
pub async fn regenerate(
    State(state): State<AppState>,
    user: SignedInUser,
    client: Client,
    CsrfForm(_form): CsrfForm<CodesForm>,
) -> Result<Response, WebError> {
    match regenerate_recovery_codes(&state.services, &user, Some(&client.ip)).await {
        Ok(codes) => Ok(no_store(codes_page(&user, codes, PAGE.to_owned(), false))),
        Err(TwoStepError::NotFound) => Err(WebError::BadRequest(
            "Recovery codes come with an authenticator app or a passkey. Set one up first: its recovery codes are shown then.".to_owned(),
        )),
        Err(error) => Err(WebError::Internal(error.into())),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct MethodForm {
    #[serde(default)]
    csrf_token: String,
    /// `rename` or `remove`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    method_id: String,
    #[serde(default)]
    name: String,
}

impl CarriesCsrfToken for MethodForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /account/two-step/methods`: renames or removes one of the user's own methods.
pub async fn change_method(
    State(state): State<AppState>,
    user: SignedInUser,
    client: Client,
    CsrfForm(form): CsrfForm<MethodForm>,
) -> Result<Response, WebError> {
    let (result, done) = match form.action.as_str() {
        "rename" => (
            rename_method(&state.services, &user, &form.method_id, &form.name).await,
            "renamed",
        ),
        "remove" => (
            remove_method(&state.services, &user, &form.method_id, Some(&client.ip)).await,
            "removed",
        ),
        _ => {
            return Err(WebError::BadRequest(
                "Choose Rename or Remove for one of your methods.".to_owned(),
            ));
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{PAGE}?{done}=1")).into_response()),
        Err(TwoStepError::NotFound) => Err(WebError::NotFound),
        Err(TwoStepError::LastMethodRequired) => {
            let mut page = list_page(&state, &user).await?;
            page.failure = Some(
                "Your profile requires two-step verification, so your only method cannot be removed. Add another authenticator app or passkey first, then remove this one.".to_owned(),
            );
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(TwoStepError::Invalid(errors)) => {
            let mut page = list_page(&state, &user).await?;
            page.name_error = errors.get("name").map(str::to_owned);
            page.name_error_for = form.method_id.clone();
            page.failure = Some("The name was not saved.".to_owned());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(WebError::Internal(error.into())),
    }
}
