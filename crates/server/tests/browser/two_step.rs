//! Two-step verification in a real browser: an invitee whose profile requires it joins (Join
//! Now, Update, an authenticator app set up from the secret on the page, the recovery codes,
//! I Agree, the homepage), then signs out and signs in with password and code.

use crate::chromium::Browser;
use crate::helpers::{Backend, spawn_app};
use crate::two_step_helpers::{STEP, code_at, recovery_codes_in, require_two_step, secret_in};

crate::helpers::on_both_backends!(
    an_invitee_whose_profile_requires_two_step_sets_up_an_app_while_joining_and_signs_in_with_it,
);

const PASSWORD: &str = "seven green lanterns glow";

async fn an_invitee_whose_profile_requires_two_step_sets_up_an_app_while_joining_and_signs_in_with_it(
    backend: Backend,
) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    require_two_step(&app, &organization.org_id, "Standard").await;
    app.sign_in_as_admin(&organization).await;
    let link = app.invite("Grace", "Hopper", "grace@example.com").await;

    // Join Now, a username and password, Update.
    browser.open(&link).await;
    browser.wait_for_text("Join 1Stop Install's").await;
    browser.fill("Username", "grace").await;
    browser.fill("Password", PASSWORD).await;
    browser.fill("Confirm Password", PASSWORD).await;
    browser.click_button("Update").await;

    // The profile requires two-step verification: set up an authenticator app.
    browser
        .wait_for_text("Your profile requires two-step verification.")
        .await;
    assert!(
        browser
            .current_path()
            .await
            .starts_with("/account/two-step/setup")
    );
    assert_eq!(
        browser.attributes(".qr-code svg", "role").await,
        vec!["img".to_owned()],
        "the QR code is on the page"
    );
    // The authenticator app: the secret typed in by hand, the code it shows.
    let secret = secret_in(&browser.source().await);
    let right = code_at(&secret, app.now());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    browser.fill("Code from the app", wrong).await;
    browser.click_button("Save").await;
    browser.wait_for_text("This code does not match.").await;
    assert_eq!(
        secret_in(&browser.source().await),
        secret,
        "the same secret is offered again"
    );
    browser.fill("Code from the app", &right).await;
    browser.click_button("Save").await;

    // The recovery codes, once, with a download; then the Terms; then the homepage.
    browser
        .wait_for_text("Save them now: they are shown only this once.")
        .await;
    let codes = recovery_codes_in(&browser.source().await);
    assert_eq!(codes.len(), 10, "ten recovery codes: {codes:?}");
    let download = browser.attributes("a[download]", "href").await;
    assert!(
        download.len() == 1 && download[0].starts_with("data:text/plain"),
        "the codes can be downloaded: {download:?}"
    );
    browser.click_link("Continue").await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Grace").await;

    // Sign out, then sign in with the password and a code of a later step.
    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;
    app.clock.advance(STEP);
    crate::sign_in(&browser, &app, "grace", PASSWORD).await;
    browser
        .wait_for_text("enter the code your authenticator app shows for 1Stop")
        .await;
    assert_eq!(browser.current_path().await, "/login/two-step");
    let right = code_at(&secret, app.now());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    browser
        .fill("Code from your authenticator app", wrong)
        .await;
    browser.click_button("Verify").await;
    browser.wait_for_text("This code is not right").await;
    browser
        .fill("Code from your authenticator app", &right)
        .await;
    browser.click_button("Verify").await;
    browser.wait_for_text("Welcome, Grace").await;

    // My Account > Two-step verification lists the app and the unused codes.
    browser.open(&app.url("/account")).await;
    browser.click_link("Two-step verification").await;
    browser
        .wait_for_text("10 of 10 recovery codes unused")
        .await;
    let page = browser.page_text().await;
    assert!(page.contains("Authenticator app"), "{page}");
    browser.close().await;
}
