//! Setup > API Tokens in a real browser: a token made, shown once with its Copy button, and
//! revoked after a confirmation.

use crate::chromium::Browser;
use crate::helpers::{ADMIN_PASSWORD, Backend, spawn_app};
use std::time::{Duration, Instant};

crate::helpers::on_both_backends!(
    an_administrator_makes_a_scim_token_copies_it_once_and_revokes_it,
);

async fn an_administrator_makes_a_scim_token_copies_it_once_and_revokes_it(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.create_organization().await;
    crate::sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    browser.open(&app.url("/setup")).await;
    browser.click_link("API Tokens").await;
    browser.wait_for_text("No tokens yet").await;
    browser.click_link("New token").await;
    browser.wait_for_text("New API Token").await;
    browser.fill("Name", "Okta").await;
    browser.check("SCIM").await;
    browser.select("Expires after", "30 days").await;
    browser.click_button("Create token").await;
    browser.wait_for_text("You will not see it again").await;

    let secret = browser.value_of("token-secret").await;
    assert!(
        secret.starts_with("1stop_"),
        "the token is in its field: {secret}"
    );
    let shown = browser.page_text().await;
    assert!(
        shown.contains(&format!("{}/scim/v2", app.address)),
        "the SCIM base URL is given: {shown}"
    );
    assert!(
        !browser.current_url().await.contains(&secret),
        "the token is not in the address"
    );

    // The Copy button selects the token and copies it (or says how, where the clipboard is
    // closed to the page, as in a headless browser).
    browser.click_button("Copy").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = browser.page_text().await;
        if text.contains("Copied.") || text.contains("to copy the selected token") {
            break;
        }
        assert!(Instant::now() < deadline, "Copy says what it did: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    browser.click_link("Done").await;
    browser.wait_for_text("Manage Users").await;
    assert!(
        !browser.source().await.contains(&secret),
        "the list never shows the token again"
    );
    browser.click_button("Revoke").await;
    browser.wait_for_text("Revoke the token “Okta”?").await;
    browser.click_button("Revoke").await;
    browser.wait_for_text("Revoked the token “Okta”.").await;
    assert_eq!(
        app.number("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL")
            .await,
        1
    );
    browser.close().await;
}
