//! Who the client is: its address (for throttles, the audit trail and the Terms evidence) and
//! its user agent.

use super::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use onestop_domain::TrustedProxies;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The client's address and user agent, cut to a sane length.
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// The TCP peer, unless it is one of the operator's trusted proxies
/// (`ONESTOP_TRUSTED_PROXIES`): then the nearest untrusted hop of `Forwarded` /
/// `X-Forwarded-For` ([`TrustedProxies::client_address`]).
pub fn client_address(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted_proxies: &TrustedProxies,
) -> IpAddr {
    if trusted_proxies.is_empty() {
        return peer;
    }
    let lines = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
    };
    trusted_proxies.client_address(peer, lines("forwarded"), lines("x-forwarded-for"))
}

impl FromRequestParts<AppState> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(
                || "unknown".to_owned(),
                |ConnectInfo(peer)| {
                    client_address(peer.ip(), &parts.headers, &state.settings.trusted_proxies)
                        .to_string()
                },
            );
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(512)
            .collect();
        Ok(Self { ip, user_agent })
    }
}
