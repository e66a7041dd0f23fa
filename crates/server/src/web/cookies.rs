//! Our cookies: their names (with the `__Host-` prefix over HTTPS) and their flags.

use axum_extra::extract::cookie::{Cookie, SameSite};

pub const SESSION: &str = "onestop_session";
/// Carries the CSRF token of forms shown to visitors who are not signed in yet.
pub const FORM_TOKEN: &str = "onestop_form";

/// Carries the raw invitation token from `/join/{token}` to `/join`, so the token leaves the
/// address bar at once; short-lived.
pub const JOIN: &str = "onestop_join";
/// Carries a password reset token from `/password/reset/{token}` to `/password/reset`.
pub const RESET: &str = "onestop_reset";
/// Remembers a browser after a second step, when the company allows it: a random token whose
/// SHA-256 is in `remembered_browsers`; lasts 30 days.
pub const REMEMBERED_BROWSER: &str = "onestop_remembered";
/// Binds a single sign-on sent to the provider to this browser until it comes back (the
/// server keeps its hash); short-lived.
pub const SSO: &str = "onestop_sso";
/// Carries what an action said to the page it redirects to (see `web::flash`); short-lived.
pub const FLASH: &str = "onestop_notice";

/// `__Host-` binds a cookie to this exact host, HTTPS and path `/`: a sibling subdomain cannot
/// plant or overwrite it.
pub fn name(base: &str, https: bool) -> String {
    if https {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// A browser-session cookie (no expiry date): HttpOnly, SameSite=Lax, path `/`, and Secure over
/// HTTPS. The server decides when the session ends.
pub fn build(base: &str, value: String, https: bool) -> Cookie<'static> {
    Cookie::build((name(base, https), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(https)
        .path("/")
        .build()
}

/// Deletes the cookie in the browser.
pub fn removal(base: &str, https: bool) -> Cookie<'static> {
    let mut cookie = build(base, String::new(), https);
    cookie.make_removal();
    cookie
}

/// A cookie that lasts `max_age` (the join cookie).
pub fn build_expiring(
    base: &str,
    value: String,
    https: bool,
    max_age: std::time::Duration,
) -> Cookie<'static> {
    let mut cookie = build(base, value, https);
    let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    cookie
}
