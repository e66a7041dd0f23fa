//! Our cookies: their names (with the `__Host-` prefix over HTTPS) and their flags.

use axum_extra::extract::cookie::{Cookie, SameSite};

pub const SESSION: &str = "onestop_session";
/// Carries the CSRF token of forms shown to visitors who are not signed in yet.
pub const FORM_TOKEN: &str = "onestop_form";

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
