//! The web face: pages (server-rendered, askama), operations endpoints, and the layers every
//! request passes through. Handlers are thin: they extract, call one use case, and map the result.

pub mod api;
mod assets;
pub mod bearer;
mod client;
mod cookies;
mod csrf;
mod error;
mod flash;
#[doc(hidden)]
pub mod form_bodies;
pub mod local_time;
pub mod metrics_endpoint;
mod nul_text;
mod operations;
mod pages;
mod routes;
pub mod scim;
mod security;
mod session;
mod uploads;

pub use error::WebError;
use routes::routes;
pub use routes::{Access, RouteInfo, route_table};

use crate::usecases::Services;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use url::Url;

/// Forms are small; a larger body is refused before anything reads it (and before any hashing):
/// at once when its declared length is larger, or as soon as reading passes the limit.
pub(crate) const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What the web layer knows beyond the use cases.
#[derive(Debug)]
pub struct WebSettings {
    /// Base of every absolute link; never taken from the request's Host header.
    pub public_url: Url,
    /// Served over HTTPS: cookies get `Secure` and the `__Host-` prefix, responses get HSTS.
    pub https: bool,
    /// Reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: onestop_domain::TrustedProxies,
    /// The bearer token of `/metrics` (`ONESTOP_METRICS_TOKEN`); `None`: `/metrics` is 404.
    pub metrics_token: Option<crate::config::Secret>,
}

#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    pub settings: Arc<WebSettings>,
}

pub fn router(state: AppState) -> Router {
    crate::metrics::install();
    routes()
        .router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::load_session,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::reject_cross_origin_writes,
        ))
        .layer(axum::middleware::from_fn(nul_text::refuse_nul_in_query))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::add_security_headers,
        ))
        .layer(axum::middleware::from_fn(metrics_endpoint::measure_request))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// Who reads the answers under an address, and so in which form a refusal must be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    /// `/api/...`: problem documents (`application/problem+json`).
    Api,
    /// `/scim/...`: SCIM error documents.
    Scim,
    /// Everything else: pages.
    Pages,
}

impl Face {
    pub(crate) fn of(path: &str) -> Self {
        if path == "/api" || path.starts_with("/api/") {
            Self::Api
        } else if path == "/scim" || path.starts_with("/scim/") {
            Self::Scim
        } else {
            Self::Pages
        }
    }
}

/// An address nobody serves, said in its face's form.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    match Face::of(uri.path()) {
        Face::Api => api::not_found().await.into_response(),
        Face::Scim => scim::ScimResponse::not_found().into_response(),
        Face::Pages => pages::not_found().await.into_response(),
    }
}

/// A method the address does not take (axum adds the `Allow` header): said in the face's form,
/// never an empty answer.
async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let message = format!(
        "This address does not take {method} requests; the Allow header says which it takes."
    );
    match Face::of(uri.path()) {
        Face::Api => api::Problem::new(StatusCode::METHOD_NOT_ALLOWED, message).into_response(),
        Face::Scim => {
            scim::ScimResponse::new(StatusCode::METHOD_NOT_ALLOWED, None, message).into_response()
        }
        Face::Pages => error::render_error(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", &message),
    }
}

/// Logs the route pattern, never the concrete path: paths can hold one-time codes.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    tracing::info_span!("request", method = %request.method(), route)
}
