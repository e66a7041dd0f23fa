//! Response headers every page gets, and refusal of state-changing requests from other sites.

use super::AppState;
use super::error::WebError;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'";

/// New User's Preview email shows the email's HTML part in a sandboxed `srcdoc` frame, which
/// inherits the page's policy: inline styles are allowed on that one page so the email looks as
/// a mail client shows it (every value in it is escaped; scripts stay forbidden). A handler that
/// sets its own policy keeps it ([`add_security_headers`] only fills in a missing one).
pub const EMAIL_PREVIEW_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'";

/// CSP, nosniff, no framing, Referer only within this site (and never from the pages of one-time
/// links, see [`carries_a_link`]), no caching unless the handler says otherwise (static files
/// do), and HSTS when served over HTTPS.
pub async fn add_security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let referrer_policy = if carries_a_link(request.uri().path()) {
        "no-referrer"
    } else {
        "same-origin"
    };
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, referrer_policy);
    set(header::CACHE_CONTROL, "no-store");
    if state.settings.https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// Whether `path` is a page of a one-time link (Join Now, password reset, first run) or of the
/// steps right after one: every answer there, error pages and 429s included, is sent with
/// `Referrer-Policy: no-referrer`, so no page reached from it learns the link.
fn carries_a_link(path: &str) -> bool {
    ["/join", "/password/reset", "/first-run"]
        .iter()
        .any(|prefix| match path.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        })
}

/// Refuses POSTs (and other writes) that a browser says come from another site, or whose Origin
/// is neither the public URL nor the host the request was sent to.
pub async fn reject_cross_origin_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe_method = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe_method && !is_same_origin(request.headers(), &state) {
        tracing::info!("cross-origin write refused");
        return WebError::CsrfRejected.into_response();
    }
    next.run(request).await
}

fn is_same_origin(headers: &HeaderMap, state: &AppState) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        // Browsers send Origin with every POST; clients without it still need the CSRF token.
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if origin == "null" {
        // Pages served with `Referrer-Policy: no-referrer` make browsers send `Origin: null`;
        // then only the browser's own Sec-Fetch-Site (which pages cannot forge) can vouch.
        return headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes() == b"same-origin");
    }
    let public_origin = state.settings.public_url.origin().ascii_serialization();
    if origin == public_origin {
        return true;
    }
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    let request_host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    origin_host.is_some() && origin_host == request_host
}

/// Refuses a request whose declared body (`Content-Length`) is longer than `limit` bytes before
/// any of it is read: the client hears at once, and nothing waits for megabytes it would refuse.
/// (Reading stops at the limit anyway, for bodies sent without a declared length.)
pub async fn refuse_oversized_declared_body(
    State(limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX)) {
        tracing::info!(declared, limit, "request body too large");
        return WebError::PayloadTooLarge.into_response();
    }
    next.run(request).await
}
