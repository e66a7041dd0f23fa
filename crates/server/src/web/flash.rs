//! What an action says after it redirects ("Deactivated 1 user.", "Grace Hopper has a profile or
//! role above yours"): a short-lived cookie for the page the action redirects to, read and
//! removed by that page's next GET. So every action ends in a redirect (reloading the page it
//! lands on repeats nothing and shows the message once), and the message is the use case's own
//! wording, which no link can forge.

use super::cookies;
use axum_extra::extract::CookieJar;
use std::time::Duration;

/// Long enough for the redirect to be followed.
const LIFETIME: Duration = Duration::from_secs(60);
/// Messages are a few short sentences; longer ones are cut so the cookie stays small.
const MAX_CHARACTERS: usize = 1500;

/// Leaves `lines` for the next GET of `page` (a path such as `/setup/users/{id}`).
pub fn leave(jar: CookieJar, https: bool, page: &str, lines: &[String]) -> CookieJar {
    let mut value = url::form_urlencoded::Serializer::new(String::new());
    value.append_pair("page", page);
    let mut left = MAX_CHARACTERS;
    for line in lines {
        let line: String = line.chars().take(left).collect();
        left -= line.chars().count();
        value.append_pair("line", &line);
    }
    jar.add(cookies::build_expiring(
        cookies::FLASH,
        value.finish(),
        https,
        LIFETIME,
    ))
}

/// The lines left for `page`, if any, and the jar that removes them. Lines left for another
/// page stay for it.
pub fn take(jar: CookieJar, https: bool, page: &str) -> (CookieJar, Vec<String>) {
    let Some(cookie) = jar.get(&cookies::name(cookies::FLASH, https)) else {
        return (jar, Vec::new());
    };
    let mut for_page = None;
    let mut lines = Vec::new();
    for (key, value) in url::form_urlencoded::parse(cookie.value().as_bytes()) {
        match key.as_ref() {
            "page" => for_page = Some(value.into_owned()),
            "line" => lines.push(value.into_owned()),
            _ => {}
        }
    }
    if for_page.as_deref() != Some(page) {
        return (jar, Vec::new());
    }
    (jar.add(cookies::removal(cookies::FLASH, https)), lines)
}
