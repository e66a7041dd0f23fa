//! Health endpoints for load balancers and orchestrators.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied. Email trouble (the SMTP server refusing
/// our credentials) is reported but does not take the instance out of service: pages still work
/// and the messages wait in the outbox.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if !state.services.store.is_ready().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database not ready".to_owned(),
        );
    }
    match state.services.mail_health.problem() {
        Some(problem) => (StatusCode::OK, format!("ready; mail degraded: {problem}")),
        None => (StatusCode::OK, "ready".to_owned()),
    }
}
