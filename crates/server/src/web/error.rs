//! One error type for every page: it logs the cause inside the request's span and shows the
//! visitor a safe page, never SQL, paths or stack traces.

use super::pages::{ErrorPage, Shell};
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::any::Any;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the CSRF token or origin did not match")]
    CsrfRejected,
    #[error("cookies are disabled")]
    CookiesDisabled,
    #[error("too many requests")]
    TooManyRequests {
        message: String,
        retry_after: Duration,
    },
    /// Not signed in: go to the sign-in page and come back to `next` afterwards.
    #[error("sign-in required")]
    SignInRequired { next: String },
    /// Signed in but the current Terms of Service are not accepted yet.
    #[error("terms of service not accepted")]
    TermsRequired,
    /// The password was checked but the second step of the sign-in is still owed.
    #[error("second step of sign-in owed")]
    SecondStepRequired,
    /// The profile requires two-step verification and the user has not set up a method yet:
    /// set it up, then come back to `next`.
    #[error("two-step verification not set up")]
    TwoStepSetupRequired { next: String },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for WebError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// Where a session that owes the second step of its sign-in is sent.
pub const SECOND_STEP_PAGE: &str = "/login/two-step";
/// Where a session whose profile requires two-step verification, not yet set up, is sent.
pub const TWO_STEP_SETUP_PAGE: &str = "/account/two-step/setup";

/// `page?next=...`, or `page` alone when `next` is the homepage.
pub fn with_next(page: &str, next: &str) -> String {
    if next == "/" || next.is_empty() {
        page.to_owned()
    } else {
        format!(
            "{page}?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    }
}

pub const COOKIES_DISABLED: &str =
    "Cookie is disabled in your browser. Please enable the Cookie to continue.";

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            Self::SignInRequired { next } => {
                let target = if next == "/" {
                    "/login".to_owned()
                } else {
                    format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>())
                };
                return Redirect::to(&target).into_response();
            }
            Self::TermsRequired => return Redirect::to("/terms").into_response(),
            Self::SecondStepRequired => return Redirect::to(SECOND_STEP_PAGE).into_response(),
            Self::TwoStepSetupRequired { next } => {
                return Redirect::to(&with_next(TWO_STEP_SETUP_PAGE, next)).into_response();
            }
            Self::NotFound => (StatusCode::NOT_FOUND, "Page not found", "There is no page at this address. Check the link, or start again from the homepage.".to_owned()),
            Self::Forbidden => (StatusCode::FORBIDDEN, "Not allowed", "Your profile does not allow this. Ask an administrator if you need access.".to_owned()),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "Something is wrong with this request", message.clone()),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too much data",
                "This form sent far more data than any field accepts. Shorten what you typed and try again.".to_owned(),
            ),
            Self::CsrfRejected => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was sent from another site or has expired. Go back, reload the page and try again.".to_owned(),
            ),
            Self::CookiesDisabled => (
                StatusCode::BAD_REQUEST,
                "Cookies are needed",
                format!("{COOKIES_DISABLED} Turn on cookies for this site in your browser's settings (private or incognito windows may block them), or open the page in another browser, then try again."),
            ),
            Self::TooManyRequests { message, .. } => (StatusCode::TOO_MANY_REQUESTS, "Please wait", message.clone()),
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "We could not complete this request. Please try again in a moment.".to_owned(),
                )
            }
        };
        let mut response = render_error(status, title, &message);
        if let Self::TooManyRequests { retry_after, .. } = &self
            && let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// What an error page says, kept on its response so that the session layer can render it again
/// with the signed-in header ([`with_header`]).
#[derive(Debug, Clone)]
pub struct ErrorPageContent {
    title: String,
    message: String,
}

pub fn render_error(status: StatusCode, title: &str, message: &str) -> Response {
    let mut response = render_error_page(status, title, message, None);
    response.extensions_mut().insert(ErrorPageContent {
        title: title.to_owned(),
        message: message.to_owned(),
    });
    response
}

fn render_error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    shell: Option<Shell>,
) -> Response {
    let page = ErrorPage {
        shell,
        title,
        message,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "error page failed to render");
            (status, title.to_owned()).into_response()
        }
    }
}

/// An error page for a signed-in visitor keeps the header (account, Sign Out, Setup), so the
/// way back is where it always is; its status and headers stay as they were.
pub fn with_header(response: Response, shell: Shell) -> Response {
    let Some(content) = response.extensions().get::<ErrorPageContent>().cloned() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    let rendered = render_error_page(parts.status, &content.title, &content.message, Some(shell));
    let (rendered_parts, body) = rendered.into_parts();
    if let Some(length) = rendered_parts.headers.get(header::CONTENT_LENGTH) {
        parts.headers.insert(header::CONTENT_LENGTH, length.clone());
    } else {
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    Response::from_parts(parts, body)
}

/// A panic in a handler becomes an ordinary 500 page; the panic message goes to the log only.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "handler panicked");
    render_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "We could not complete this request. Please try again in a moment.",
    )
}
