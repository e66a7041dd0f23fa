//! The web face: pages (server-rendered, askama), operations endpoints, and the layers every
//! request passes through. Handlers are thin: they extract, call one use case, and map the result.

mod assets;
mod client;
mod cookies;
mod csrf;
mod error;
mod operations;
mod pages;
mod security;
mod session;

pub use error::WebError;

use crate::usecases::Services;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::routing::{get, post};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use url::Url;

/// Forms are small; a larger body is refused before anything reads it (and before any hashing).
const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// The Terms of Service form carries up to 100,000 characters, percent-encoded.
const TERMS_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// What the web layer knows beyond the use cases.
#[derive(Debug)]
pub struct WebSettings {
    /// Base of every absolute link; never taken from the request's Host header.
    pub public_url: Url,
    /// Served over HTTPS: cookies get `Secure` and the `__Host-` prefix, responses get HSTS.
    pub https: bool,
    /// Reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: onestop_domain::TrustedProxies,
}

#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    pub settings: Arc<WebSettings>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home::show))
        .route("/login", get(pages::login::show).post(pages::login::submit))
        .route("/logout", post(pages::login::sign_out))
        .route(
            "/password/forgot",
            get(pages::password::forgot_form).post(pages::password::forgot_submit),
        )
        .route("/password/reset/{token}", get(pages::password::open_link))
        .route(
            "/password/reset",
            get(pages::password::reset_form).post(pages::password::reset_submit),
        )
        .route("/terms", get(pages::terms::show))
        .route("/terms/accept", post(pages::terms::accept))
        .route("/terms/decline", post(pages::terms::decline))
        .route("/first-steps", post(pages::home::mark_first_step))
        .route("/setup", get(pages::setup::show))
        .route("/setup/users", get(pages::users::list))
        .route(
            "/setup/users/new",
            get(pages::users::new_form).post(pages::users::create),
        )
        .route("/setup/users/bulk", post(pages::users::bulk))
        .route(
            "/setup/users/{user_id}",
            get(pages::users::edit_form).post(pages::users::update),
        )
        .route("/setup/users/{user_id}/actions", post(pages::users::act))
        .route(
            "/setup/profiles",
            get(pages::profiles::list).post(pages::profiles::create),
        )
        .route(
            "/setup/profiles/{profile_id}",
            get(pages::profiles::edit_form).post(pages::profiles::update),
        )
        .route(
            "/setup/profiles/{profile_id}/clone",
            get(pages::profiles::clone_form),
        )
        .route(
            "/setup/profiles/{profile_id}/delete",
            post(pages::profiles::delete),
        )
        .route(
            "/setup/roles",
            get(pages::roles::list).post(pages::roles::create),
        )
        .route("/setup/roles/new", get(pages::roles::new_form))
        .route(
            "/setup/roles/{role_id}",
            get(pages::roles::edit_form).post(pages::roles::update),
        )
        .route("/setup/roles/{role_id}/delete", post(pages::roles::delete))
        .route(
            "/setup/terms",
            get(pages::terms_admin::show)
                .post(pages::terms_admin::publish)
                .layer(DefaultBodyLimit::max(TERMS_BODY_LIMIT_BYTES)),
        )
        .route(
            "/setup/terms/acceptances.csv",
            get(pages::terms_admin::acceptances_csv),
        )
        .route("/setup/audit", get(pages::audit::show))
        .route(
            "/setup/company",
            get(pages::company::show).post(pages::company::save),
        )
        .route("/join/request", post(pages::join::request_new))
        .route("/join/{token}", get(pages::join::open_link))
        .route("/join", get(pages::join::show).post(pages::join::submit))
        .route("/help", get(pages::help::index))
        .route("/help/{slug}", get(pages::help::article))
        .route("/first-run/{code}", get(pages::first_run::show))
        .route("/first-run", post(pages::first_run::submit))
        .route("/healthz", get(operations::healthz))
        .route("/readyz", get(operations::readyz))
        .route("/static/app.css", get(assets::stylesheet))
        .route("/static/favicon.svg", get(assets::favicon))
        .route("/static/new_user.js", get(assets::new_user_script))
        .route("/static/users.js", get(assets::users_script))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::load_session,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::reject_cross_origin_writes,
        ))
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
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// Logs the route pattern, never the concrete path: paths can hold one-time codes.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    tracing::info_span!("request", method = %request.method(), route)
}
