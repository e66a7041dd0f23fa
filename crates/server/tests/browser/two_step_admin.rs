//! Two-step verification from the administrators' side in a real browser: a profile made to
//! require it, the company's option and count, and a user's methods reset from their page after
//! a confirmation.

use crate::chromium::Browser;
use crate::helpers::{ADMIN_PASSWORD, Backend, MEMBER_PASSWORD, location, spawn_app};
use crate::two_step_rows::{SEALED_SECRET, give_methods, two_step_rows};

crate::helpers::on_both_backends!(
    an_administrator_requires_two_step_verification_and_resets_a_users_methods,
);

async fn an_administrator_requires_two_step_verification_and_resets_a_users_methods(
    backend: Backend,
) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let sam = app.add_sam(&organization.org_id).await;
    // Sam signs in before having methods, so that the sign-in owes no second step.
    let sams_phone = app.new_client();
    app.sign_in_with(&sams_phone, "sam", MEMBER_PASSWORD).await;
    app.agree_with(&sams_phone).await;
    give_methods(&app, &organization.org_id, &sam).await;
    let signed_in = |client: reqwest::Client| {
        let url = app.url("/");
        async move { location(&client.get(url).send().await.unwrap()).is_empty() }
    };
    assert!(signed_in(sams_phone.clone()).await);
    let standard = app
        .text_value(
            "SELECT id FROM profiles WHERE builtin = 'standard' AND org_id = $1",
            &organization.org_id,
        )
        .await
        .unwrap();

    crate::sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    // Setup > Profiles: Standard now requires it.
    browser.open(&app.url("/setup/profiles")).await;
    browser.wait_for_text("Not required").await;
    browser
        .click_css(&format!(
            "form[action=\"/setup/profiles/{standard}/two-step\"] button"
        ))
        .await;
    browser
        .wait_for_text("Standard now requires two-step verification")
        .await;

    // Company Details: the count, and the option saved.
    browser.open(&app.url("/setup/company")).await;
    browser
        .wait_for_text("1 active user has not set up two-step verification; 0 of them are in a profile that requires it")
        .await;
    browser
        .check("Remember a browser for 30 days after its second step")
        .await;
    browser.click_button("Save").await;
    browser.wait_for_text("Company details saved.").await;
    assert_eq!(
        app.number("SELECT COUNT(*) FROM organizations WHERE remember_two_step_browsers = 1")
            .await,
        1
    );

    // Sam's page: the methods, never a secret; Reset asks, then resets.
    browser.open(&app.url("/setup/users")).await;
    browser.click_link("Sam Standard").await;
    browser.wait_for_text("Two-step verification").await;
    let page = browser.page_text().await;
    for expected in [
        "Required by profile.",
        "8 unused recovery codes.",
        "Authenticator app",
        "Phone",
        "Passkey",
        "YubiKey",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    assert!(!browser.source().await.contains(SEALED_SECRET));
    browser.click_button("Reset two-step verification").await;
    browser
        .wait_for_text("Reset two-step verification of Sam Standard?")
        .await;
    assert_eq!(
        two_step_rows(&app, &sam).await,
        [2, 10, 1, 1],
        "nothing changes before the confirmation"
    );
    browser.click_button("Reset two-step verification").await;
    browser
        .wait_for_text("Two-step verification of Sam Standard was reset")
        .await;
    browser
        .wait_for_text("No authenticator app or passkey is set up.")
        .await;
    assert_eq!(two_step_rows(&app, &sam).await, [0, 0, 0, 0]);
    assert!(
        !signed_in(sams_phone.clone()).await,
        "Sam's phone is signed out"
    );
    browser.open(&app.url("/setup/audit")).await;
    browser.wait_for_text("Two-step verification reset").await;
    browser.close().await;
}
