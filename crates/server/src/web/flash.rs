//! What an action says after it redirects ("Deactivated 1 user.", "Grace Hopper has a profile or
//! role above yours"): a short-lived cookie for the page the action redirects to, read and
//! removed by that page's next GET. So every action ends in a redirect (reloading the page it
//! lands on repeats nothing and shows the message once), and the message is the use case's own
//! wording, which no link can forge.
//!
//! A browser keeps at most 4 KB a cookie and drops a larger one whole, so the message is bounded
//! in bytes, not characters (a non-Latin letter takes 6 to 9 bytes percent-encoded): each line
//! is cut to [`LINE_LENGTH`] characters, at most [`MORE_LINES`] lines follow the first, and lines
//! that would pass [`MAX_BYTES`] are left out and counted ("…and 3 more.").

use super::cookies;
use axum_extra::extract::CookieJar;
use std::time::Duration;

/// Long enough for the redirect to be followed.
const LIFETIME: Duration = Duration::from_secs(60);
/// How many lines may follow the first (a bulk action's summary, then whom it skipped).
const MORE_LINES: usize = 10;
const LINE_LENGTH: usize = 200;
/// The longest cookie value written: well under the 4 KB browsers keep.
const MAX_BYTES: usize = 3000;

fn shortened(line: &str) -> String {
    if line.chars().count() <= LINE_LENGTH {
        line.to_owned()
    } else {
        let mut short: String = line.chars().take(LINE_LENGTH - 1).collect();
        short.push('…');
        short
    }
}

fn pair(name: &str, value: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish()
}

/// `page=` the page, `line=` each line kept, `more=` how many were left out. Percent-encoded, so
/// it holds only characters a cookie may.
fn encode(page: &str, lines: &[String]) -> String {
    let mut value = pair("page", page);
    let mut kept = 0;
    for line in lines.iter().take(MORE_LINES + 1) {
        let piece = pair("line", &shortened(line));
        if value.len() + piece.len() + 1 > MAX_BYTES {
            break;
        }
        value.push('&');
        value.push_str(&piece);
        kept += 1;
    }
    let more = lines.len() - kept;
    if more > 0 {
        value.push('&');
        value.push_str(&pair("more", &more.to_string()));
    }
    value
}

/// The page a cookie value is for, and its lines (with the count of those left out as a last
/// line); `None` for a malformed value.
fn decode(value: &str) -> Option<(String, Vec<String>)> {
    let mut page = None;
    let mut lines = Vec::new();
    let mut more = 0usize;
    for (name, value) in url::form_urlencoded::parse(value.as_bytes()) {
        match name.as_ref() {
            "page" => page = Some(value.into_owned()),
            "line" if lines.len() <= MORE_LINES => lines.push(shortened(&value)),
            "more" => more = value.parse().ok()?,
            _ => {}
        }
    }
    if more > 0 {
        lines.push(format!("…and {more} more."));
    }
    page.map(|page| (page, lines))
}

/// Leaves `lines` for the next GET of `page` (a path such as `/setup/users/{id}`).
pub fn leave(jar: CookieJar, https: bool, page: &str, lines: &[String]) -> CookieJar {
    jar.add(cookies::build_expiring(
        cookies::FLASH,
        encode(page, lines),
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
    match decode(cookie.value()) {
        Some((for_page, lines)) if for_page == page => {
            (jar.add(cookies::removal(cookies::FLASH, https)), lines)
        }
        _ => (jar, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_the_cookie_with_its_longest_lines_cut_and_the_rest_counted() {
        let mut lines = vec!["Deactivated 3 users.".to_owned()];
        lines.extend(
            (0..12)
                .map(|index| format!("User {index} is already deactivated; {}", "x".repeat(300))),
        );
        let value = encode("/setup/users", &lines);
        assert!(value.len() <= MAX_BYTES, "{} bytes", value.len());
        assert!(
            value
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"%&=+*-._".contains(&byte))
        );
        let (page, back) = decode(&value).unwrap();
        assert_eq!(page, "/setup/users");
        assert_eq!(back[0], "Deactivated 3 users.");
        assert!(back[1].ends_with('…'));
        assert_eq!(back.len(), MORE_LINES + 2);
        assert_eq!(back[MORE_LINES + 1], "…and 2 more.");
        assert!(decode("line=no+page").is_none());
    }

    #[test]
    fn lines_in_a_script_that_takes_many_bytes_stay_under_the_limit() {
        let mut lines = vec!["Deactivated 0 users.".to_owned()];
        lines.extend(vec!["山田太郎はすでに無効です".repeat(20); 10]);
        let value = encode("/setup/users", &lines);
        assert!(value.len() <= MAX_BYTES, "{} bytes", value.len());
        let (_, back) = decode(&value).unwrap();
        assert!(back.last().unwrap().starts_with("…and "), "{back:?}");
    }
}
