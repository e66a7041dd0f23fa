//! One-time links (Join Now and password reset): what their pages send, what a guesser gets, and
//! what a copy of the database holds once the emails are sent.

use crate::helpers::{Scope, Snapshot, TestApp, location, on_both_databases};
use crate::invitations::{
    GRACE_PASSWORD, assert_no_referrer, invite_grace, open_join_link, submit_join,
};
use crate::password_reset::{NEW_PASSWORD, ask_for_reset, choose, open_reset_link, reset_link};
use onestop_domain::SecretToken;
use onestop_server::store::Store;
use onestop_server::usecases::invalid_links::INVALID_LINK_LIMIT;
use std::time::Duration;

on_both_databases!(
    every_page_of_a_one_time_link_sends_no_referrer_and_no_location_holds_the_token,
    guessing_reset_links_is_throttled_with_retry_after_like_join_links,
    empty_tampered_truncated_padded_and_huge_tokens_get_one_generic_page,
    a_database_dump_holds_no_raw_token_once_the_emails_are_sent,
);

/// The token at the end of a link.
fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap_or_default().to_owned()
}

/// An invitation to Grace and a reset link for Ada: both links.
async fn both_links(app: &TestApp) -> (String, String) {
    let (_, join_link) = invite_grace(app).await;
    ask_for_reset(app, "ada").await;
    (join_link, reset_link(app, "ada@example.com").await)
}

/// Follows `response`'s redirects with GET (at most five), adding each Location to `locations`.
async fn follow(
    app: &TestApp,
    browser: &reqwest::Client,
    response: reqwest::Response,
    locations: &mut Vec<String>,
) {
    let mut target = location(&response);
    for _ in 0..5 {
        if target.is_empty() {
            return;
        }
        locations.push(target.clone());
        let response = browser.get(app.url(&target)).send().await.unwrap();
        target = location(&response);
    }
}

/// Every answer on the paths of the two kinds of link, whatever it is (the form, a refusal, a
/// redirect, an error page, the cookie message), carries `Referrer-Policy: no-referrer`; after
/// the link's own redirect, no Location (followed to its end) and no page holds the token.
async fn every_page_of_a_one_time_link_sends_no_referrer_and_no_location_holds_the_token(
    app: TestApp,
) {
    let (join_link, reset_link) = both_links(&app).await;
    let tokens = [token_of(&join_link), token_of(&reset_link)];
    let mut locations = Vec::new();
    let mut pages = Vec::new();

    // Join Now: the link, the form, a refused and an accepted Update, and on from there.
    let browser = app.new_client();
    let response = browser.get(&join_link).send().await.unwrap();
    assert_no_referrer(&response, "GET /join/{token}");
    assert_eq!(location(&response), "/join");
    let response = browser.get(app.url("/join")).send().await.unwrap();
    assert_no_referrer(&response, "GET /join");
    let form = response.text().await.unwrap();
    assert!(form.contains("Confirm Password"), "{form}");
    pages.push(form.clone());
    let refused = submit_join(&app, &browser, &form, "grace", "fourteen chars").await;
    assert_eq!(refused.status().as_u16(), 422);
    assert_no_referrer(&refused, "POST /join refused");
    pages.push(refused.text().await.unwrap());
    let joined = submit_join(&app, &browser, &form, "grace", GRACE_PASSWORD).await;
    assert_no_referrer(&joined, "POST /join accepted");
    follow(&app, &browser, joined, &mut locations).await;
    assert_eq!(locations, ["/", "/terms"], "Grace goes on to the Terms");
    let used = app.new_client().get(&join_link).send().await.unwrap();
    assert_no_referrer(&used, "a used Join Now link");
    assert!(
        used.text()
            .await
            .unwrap()
            .contains("This invitation has already been accepted.")
    );

    // Password reset: the same steps.
    let browser = app.new_client();
    let response = browser.get(&reset_link).send().await.unwrap();
    assert_no_referrer(&response, "GET /password/reset/{token}");
    assert_eq!(location(&response), "/password/reset");
    let response = browser
        .get(app.url("/password/reset"))
        .send()
        .await
        .unwrap();
    assert_no_referrer(&response, "GET /password/reset");
    let form = response.text().await.unwrap();
    assert!(form.contains("New Password"), "{form}");
    pages.push(form.clone());
    let refused = choose(&app, &browser, &form, "fourteen chars").await;
    assert_eq!(refused.status().as_u16(), 422);
    assert_no_referrer(&refused, "POST /password/reset refused");
    pages.push(refused.text().await.unwrap());
    let changed = choose(&app, &browser, &form, NEW_PASSWORD).await;
    assert_no_referrer(&changed, "POST /password/reset accepted");
    let before = locations.len();
    follow(&app, &browser, changed, &mut locations).await;
    assert_eq!(locations[before..], ["/login?password_changed=1"]);
    let used = app.new_client().get(&reset_link).send().await.unwrap();
    assert_eq!(used.status().as_u16(), 404);
    assert_no_referrer(&used, "a used reset link");

    // The other answers on these paths: unknown and empty links, no cookie, a refused form.
    let random = SecretToken::generate().expose().to_owned();
    for path in [
        format!("/join/{random}"),
        "/join/".to_owned(),
        "/join".to_owned(),
        format!("/password/reset/{random}"),
        "/password/reset/".to_owned(),
        "/password/reset".to_owned(),
    ] {
        let response = app.new_client().get(app.url(&path)).send().await.unwrap();
        assert_no_referrer(&response, &format!("GET {path}"));
    }
    for path in ["/join", "/password/reset"] {
        let response = app
            .new_client()
            .post(app.url(path))
            .form(&[("csrf_token", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            400,
            "POST {path} without cookies"
        );
        assert_no_referrer(&response, &format!("POST {path} without cookies"));
    }

    for token in &tokens {
        for target in &locations {
            assert!(!target.contains(token.as_str()), "{target} holds a token");
        }
        for page in &pages {
            assert!(
                !page.contains(token.as_str()),
                "a form page holds its token"
            );
        }
    }
}

/// Reset links are guessed like Join Now links, and throttled the same way and with the same
/// budget: after [`INVALID_LINK_LIMIT`] invalid reset links, the address gets 429 with
/// Retry-After for every link, real ones of either kind included, until the window ends.
async fn guessing_reset_links_is_throttled_with_retry_after_like_join_links(app: TestApp) {
    let (join_link, reset_link) = both_links(&app).await;
    let guesser = app.new_client();
    for attempt in 0..INVALID_LINK_LIMIT.attempts {
        let guess = app.url(&format!(
            "/password/reset/{}",
            SecretToken::generate().expose()
        ));
        let response = guesser.get(&guess).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "guess {attempt}");
    }
    for (what, link) in [
        ("the real reset link", &reset_link),
        ("the real Join Now link", &join_link),
        ("another guess", &app.url("/password/reset/")),
    ] {
        let blocked = guesser.get(link).send().await.unwrap();
        assert_eq!(blocked.status().as_u16(), 429, "{what} waits too");
        let retry_after: u64 = blocked.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (1..=INVALID_LINK_LIMIT.window.as_secs()).contains(&retry_after),
            "{what}: Retry-After {retry_after}"
        );
        assert_no_referrer(&blocked, what);
        assert!(
            blocked.headers().get("set-cookie").is_none(),
            "{what}: no token moves into a cookie while the address waits"
        );
        assert!(
            blocked
                .text()
                .await
                .unwrap()
                .contains("Too many invalid links were opened from your network"),
            "{what}"
        );
    }
    app.clock
        .advance(INVALID_LINK_LIMIT.window + Duration::from_secs(1));
    let (browser, form) = open_reset_link(&app, &reset_link).await;
    assert_eq!(
        location(&choose(&app, &browser, &form, NEW_PASSWORD).await),
        "/login?password_changed=1"
    );
    let (browser, form) = open_join_link(&app, &join_link).await;
    assert_eq!(
        location(&submit_join(&app, &browser, &form, "grace", GRACE_PASSWORD).await),
        "/"
    );
}

/// The page with what varies from one answer to the next taken out: the bad token itself, should
/// the page repeat it, and the value of any form token.
fn without_variable_parts(page: &str, bad_token: &str) -> String {
    let mut page = if bad_token.is_empty() {
        page.to_owned()
    } else {
        page.replace(bad_token, "")
    };
    let marker = "name=\"csrf_token\" value=\"";
    let mut from = 0;
    while let Some(found) = page[from..].find(marker) {
        let start = from + found + marker.len();
        let end = start + page[start..].find('"').unwrap_or(0);
        page.replace_range(start..end, "");
        from = start;
    }
    page
}

/// For each kind of link, an empty, unknown, tampered, truncated, padded and 10 KB token all get
/// one and the same generic page (status, text and all), which sets no cookie.
async fn empty_tampered_truncated_padded_and_huge_tokens_get_one_generic_page(app: TestApp) {
    let (join_link, reset_link) = both_links(&app).await;
    for (kind, link, says) in [
        ("Join Now", &join_link, "This invitation link is not valid."),
        ("reset", &reset_link, "This link is not valid"),
    ] {
        let token = token_of(link);
        let base = &link[..link.len() - token.len()];
        let mut flipped = token.clone().into_bytes();
        flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
        let cases = [
            ("empty", String::new()),
            ("unknown", SecretToken::generate().expose().to_owned()),
            ("tampered", String::from_utf8(flipped).unwrap()),
            ("truncated", token[..40].to_owned()),
            ("one character short", token[..token.len() - 1].to_owned()),
            ("padded with =", format!("{token}=")),
            ("padded with characters", format!("{token}AAAA")),
            (
                "10 KB",
                format!("{token}{}", "A".repeat(10 * 1024 - token.len())),
            ),
        ];
        let mut pages: Vec<(&str, String)> = Vec::new();
        for (what, bad) in &cases {
            let response = app
                .new_client()
                .get(format!("{base}{bad}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 404, "{kind}: {what}");
            assert_no_referrer(&response, &format!("{kind}: {what}"));
            assert!(
                response.headers().get("set-cookie").is_none(),
                "{kind}: {what}: no cookie"
            );
            let page = response.text().await.unwrap();
            assert!(page.contains(says), "{kind}: {what}: {page}");
            pages.push((what, without_variable_parts(&page, bad)));
        }
        let (_, first) = &pages[0];
        for (what, page) in &pages[1..] {
            assert_eq!(
                page, first,
                "{kind}: the {what} token gets the page the empty one gets"
            );
        }
    }
    // The real links still work.
    let (_, form) = open_join_link(&app, &join_link).await;
    assert!(form.contains("Confirm Password"));
    let (_, form) = open_reset_link(&app, &reset_link).await;
    assert!(form.contains("New Password"));
}

/// Whether any of the SQLite database's files (the WAL and shared-memory files included) holds
/// `needle`; `None` on PostgreSQL.
fn sqlite_files_holding(app: &TestApp, needle: &str) -> Option<Vec<String>> {
    let Store::Sqlite(_) = &app.store else {
        return None;
    };
    let mut holding = Vec::new();
    let mut scanned = 0;
    for entry in std::fs::read_dir(app.data_dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("onestop.db") {
            continue;
        }
        scanned += 1;
        let bytes = std::fs::read(&path).unwrap();
        if bytes
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
        {
            holding.push(name);
        }
    }
    assert!(scanned >= 2, "the database file and its WAL are scanned");
    Some(holding)
}

/// Once the invitation and the reset email are handed to the mail server, a dump of every row of
/// every table holds neither raw token (only their hashes), and neither do the SQLite files, WAL
/// included; nor after both links are used.
async fn a_database_dump_holds_no_raw_token_once_the_emails_are_sent(app: TestApp) {
    let (join_link, reset_link) = both_links(&app).await;
    assert_eq!(app.deliver_emails().await, 2);
    for recipient in ["grace@example.com", "ada@example.com"] {
        let emails = app.emails_to(recipient).await;
        assert_eq!(emails.len(), 1);
        assert_eq!(emails[0].state, "sent", "{recipient}");
    }
    let tokens = [
        ("Join Now", token_of(&join_link)),
        ("password reset", token_of(&reset_link)),
    ];
    let snapshot = Snapshot::plan(&app, Scope::Everything).await;
    let check = |moment: &'static str| {
        let app = &app;
        let snapshot = &snapshot;
        let tokens = &tokens;
        async move {
            let dump = snapshot.take(app).await.join("\n");
            for (what, token) in tokens {
                assert!(
                    !dump.contains(token.as_str()),
                    "{moment}: the dump holds the {what} token"
                );
                let hash = SecretToken::parse(token).unwrap().hash();
                assert!(
                    dump.contains(hash.as_str()),
                    "{moment}: the dump is whole, with the {what} token's hash"
                );
                if let Some(files) = sqlite_files_holding(app, token) {
                    assert!(
                        files.is_empty(),
                        "{moment}: {files:?} hold the {what} token"
                    );
                }
            }
        }
    };
    check("once sent").await;

    let (browser, form) = open_join_link(&app, &join_link).await;
    assert_eq!(
        location(&submit_join(&app, &browser, &form, "grace", GRACE_PASSWORD).await),
        "/"
    );
    let (browser, form) = open_reset_link(&app, &reset_link).await;
    assert_eq!(
        location(&choose(&app, &browser, &form, NEW_PASSWORD).await),
        "/login?password_changed=1"
    );
    check("once used").await;
}
