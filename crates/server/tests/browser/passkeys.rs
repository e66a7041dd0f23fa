//! Passkeys in real Chromium, with its virtual authenticator standing in for a laptop's
//! fingerprint reader: enrolling one while joining, signing in with it, removing it, and a
//! recovery code once the authenticator is gone. The server runs on `http://localhost:PORT`
//! (WebAuthn refuses IP addresses), so the relying party is `localhost`.

use crate::chromium::Browser;
use crate::helpers::{self, ADMIN_PASSWORD, Backend, TestApp, spawn_app_on_localhost};
use crate::sign_in;
use crate::virtual_authenticator::VirtualAuthenticator;

helpers::on_both_backends!(
    an_invitee_whose_profile_requires_two_step_verification_joins_with_a_passkey_and_signs_in_with_it,
    a_passkey_is_removed_and_a_recovery_code_signs_in_once_the_authenticator_is_gone,
);

const GRACE_PASSWORD: &str = "seven green lanterns glow";

/// The recovery codes the page shows (`<ol class="recovery-codes">`).
async fn recovery_codes_shown(browser: &Browser) -> Vec<String> {
    let source = browser.source().await;
    let list = source
        .split("class=\"recovery-codes\"")
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .expect("the page lists recovery codes");
    list.split("<code>")
        .skip(1)
        .filter_map(|item| item.split("</code>").next())
        .map(str::to_owned)
        .collect()
}

async fn audit_count(app: &TestApp, action: &str, details_part: &str) -> i64 {
    app.number_value(
        &format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = $1 AND details LIKE '%{details_part}%'"
        ),
        action,
    )
    .await
}

async fn an_invitee_whose_profile_requires_two_step_verification_joins_with_a_passkey_and_signs_in_with_it(
    backend: Backend,
) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app_on_localhost(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.execute("UPDATE profiles SET require_two_step = 1 WHERE name = 'Standard'")
        .await;
    app.sign_in_as_admin(&organization).await;
    let link = app.invite("Grace", "Hopper", "grace@example.com").await;
    let authenticator = VirtualAuthenticator::add(&browser).await;

    // Join Now, username and password, Update...
    browser.open(&link).await;
    browser.fill("Username", "grace").await;
    browser.fill("Password", GRACE_PASSWORD).await;
    browser.fill("Confirm Password", GRACE_PASSWORD).await;
    browser.click_button("Update").await;
    // ...then the profile's two-step verification: a passkey...
    browser.wait_for_text("Set up two-step verification").await;
    browser.fill("Passkey name", "Laptop").await;
    browser.click_button("Add passkey").await;
    // ...with its recovery codes, then the Terms, then the homepage.
    browser.wait_for_text("Your recovery codes").await;
    assert_eq!(recovery_codes_shown(&browser).await.len(), 10);
    browser.click_link("Continue").await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Grace").await;

    let held = authenticator.credentials(&browser).await;
    assert_eq!(
        held.len(),
        1,
        "the authenticator holds one passkey: {held:?}"
    );
    assert_eq!(held[0]["rpId"], "localhost");
    assert_eq!(
        app.number(
            "SELECT COUNT(*) FROM two_step_methods m JOIN users u ON u.id = m.user_id \
             WHERE u.username = 'grace' AND m.kind = 'passkey' AND m.name = 'Laptop'"
        )
        .await,
        1
    );
    assert_eq!(audit_count(&app, "two_step_enrolled", "Laptop").await, 1);

    // Sign in again: the password, then the passkey.
    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;
    sign_in(&browser, &app, "grace", GRACE_PASSWORD).await;
    browser.click_button("Use a passkey").await;
    browser.wait_for_text("Welcome, Grace").await;

    assert_eq!(
        audit_count(&app, "second_step_succeeded", "passkey").await,
        1
    );
    assert_eq!(
        app.number(
            "SELECT COUNT(*) FROM two_step_methods WHERE kind = 'passkey' AND last_used_at IS NOT NULL"
        )
        .await,
        1,
        "the passkey's last use is recorded"
    );
    browser.close().await;
}

async fn a_passkey_is_removed_and_a_recovery_code_signs_in_once_the_authenticator_is_gone(
    backend: Backend,
) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app_on_localhost(backend).await else {
        return;
    };
    app.create_organization().await;
    let authenticator = VirtualAuthenticator::add(&browser).await;
    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    // My Account > Two-step verification > Add passkey.
    browser.open(&app.url("/account/two-step")).await;
    browser.fill("Passkey name", "YubiKey").await;
    browser.click_button("Add passkey").await;
    browser.wait_for_text("Your recovery codes").await;
    let codes = recovery_codes_shown(&browser).await;
    assert_eq!(codes.len(), 10);
    browser.click_link("Continue").await;
    browser.wait_for_text("YubiKey").await;

    // The key is lost; a recovery code signs in instead.
    authenticator.remove(&browser).await;
    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;
    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.click_text("Use a recovery code").await;
    browser.fill("Recovery code", &codes[0]).await;
    browser.click_button("Use Recovery Code").await;
    browser.wait_for_text("Welcome, Ada").await;

    // The lost key is removed from the account.
    browser.open(&app.url("/account/two-step")).await;
    browser.click_button("Remove").await;
    browser
        .wait_for_text("You have not set up two-step verification yet.")
        .await;
    assert_eq!(app.count("two_step_methods").await, 0);
    assert_eq!(audit_count(&app, "two_step_removed", "YubiKey").await, 1);
    browser.close().await;
}
