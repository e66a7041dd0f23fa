//! `/metrics` in Prometheus's text format: on the main port behind the operator's bearer token
//! (`ONESTOP_METRICS_TOKEN`; without one it is 404 there), and on `ONESTOP_METRICS_LISTEN`, a
//! listener of its own for a private network, without a token. Also the layer that counts and
//! times every request by its route pattern.

use super::AppState;
use crate::metrics::{ScrapeGauges, record_request, render};
use crate::usecases::Services;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use onestop_domain::token::sha256_hex;

/// GET /metrics on the main port.
pub async fn metrics_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.settings.metrics_token else {
        return super::pages::not_found().await.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same_secret(presented.trim(), expected.expose()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "A metrics token is needed: send Authorization: Bearer <ONESTOP_METRICS_TOKEN>.\n",
        )
            .into_response();
    }
    scrape(&state.services).await
}

/// Compares digests of both, byte by byte without stopping early: the time taken tells nothing
/// about how much of the token was right, nor its length.
fn same_secret(presented: &str, expected: &str) -> bool {
    let presented = sha256_hex(presented.as_bytes());
    let expected = sha256_hex(expected.as_bytes());
    presented
        .bytes()
        .zip(expected.bytes())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// Refreshes the gauges read from the database and renders every metric.
async fn scrape(services: &Services) -> Response {
    let gauges = match ScrapeGauges::read(services).await {
        Ok(gauges) => gauges,
        Err(error) => {
            tracing::error!(error = %error, "the metrics gauges could not be read");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database could not be read for the metrics.\n",
            )
                .into_response();
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(gauges),
    )
        .into_response()
}

/// The router of `ONESTOP_METRICS_LISTEN`: `/metrics` without a token, nothing else.
pub fn private_router(services: Services) -> Router {
    crate::metrics::install();
    Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(services): State<Services>| async move {
                scrape(&services).await
            }),
        )
        .with_state(services)
}

/// Counts and times each request by method, route pattern (never the concrete path, which may
/// hold a one-time code) and status class.
pub async fn measure_request(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    record_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn only_the_same_token_is_the_same_secret() {
        assert!(same_secret("0123456789abcdef", "0123456789abcdef"));
        assert!(!same_secret("0123456789abcdeX", "0123456789abcdef"));
        assert!(!same_secret("", "0123456789abcdef"));
        assert!(!same_secret("0123456789abcdef0", "0123456789abcdef"));
    }
}
