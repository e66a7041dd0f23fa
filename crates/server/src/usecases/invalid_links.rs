//! Guessing one-time links (Join Now and password reset): each invalid link an address opens is
//! counted, and an address over the limit waits before it may open any more. One budget covers
//! both kinds of link, so a guesser gains nothing by switching between them.

use super::Services;
use crate::store::{StoreError, ThrottleKey, ThrottleLimit};
use std::time::Duration;

/// Invalid links one address may open in a window before it must wait: enough for typos and mail
/// scanners, far too few to guess a 256-bit token (which is hopeless anyway).
pub const INVALID_LINK_LIMIT: ThrottleLimit = ThrottleLimit {
    attempts: 30,
    window: Duration::from_secs(15 * 60),
};

fn key(ip: &str) -> ThrottleKey {
    ThrottleKey::new("invalid link address", ip)
}

/// How long this address must wait before opening more one-time links, if it opened too many
/// invalid ones.
pub async fn links_blocked(services: &Services, ip: &str) -> Result<Option<Duration>, StoreError> {
    services
        .store
        .throttle_wait(&key(ip), INVALID_LINK_LIMIT, services.clock.now())
        .await
}

/// Counts one invalid (unknown, used, superseded, malformed) link against the address.
pub async fn record_invalid_link(services: &Services, ip: &str) -> Result<(), StoreError> {
    services
        .store
        .register_attempt(&[(&key(ip), INVALID_LINK_LIMIT)], services.clock.now())
        .await
        .map(|_| ())
}
