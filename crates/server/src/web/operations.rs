//! Health endpoints for load balancers and orchestrators.

use super::AppState;
use super::session::CurrentSession;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use onestop_domain::Permission;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied. Email trouble (the SMTP server refusing
/// our credentials) is reported but does not take the instance out of service: pages still work
/// and the messages wait in the outbox. The mail server's own words are in the log, and shown
/// here only to a signed-in user who may view Setup: they can name hosts and accounts.
pub async fn readyz(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentSession>,
) -> (StatusCode, String) {
    if !state.services.store.is_ready().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database not ready".to_owned(),
        );
    }
    match state.services.mail_health.problem() {
        Some(problem)
            if current.0.as_ref().is_some_and(|session| {
                !session.second_step_pending && session.permissions.contains(Permission::ViewSetup)
            }) =>
        {
            (StatusCode::OK, format!("ready; mail degraded: {problem}"))
        }
        Some(_) => (StatusCode::OK, "ready; mail degraded".to_owned()),
        None => (StatusCode::OK, "ready".to_owned()),
    }
}
