//! Setting up single sign-on and joining through the provider, in Chromium, against a real provider
//! (`scripts/oidc-provider.mjs`).

use crate::Browser;
use crate::helpers::{ADMIN_PASSWORD, Backend, save_new_user, spawn_app};
use crate::sign_in;
use crate::sso_helpers::{
    Account, CLIENT_ID, CLIENT_SECRET, PROVIDER_NAME, set_clock_to_real_time, start_provider,
};

crate::helpers::on_both_backends!(
    an_administrator_sets_up_single_sign_on_and_an_invitee_joins_through_it,
);

async fn an_administrator_sets_up_single_sign_on_and_an_invitee_joins_through_it(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    set_clock_to_real_time(&app);
    let Some(provider) = start_provider(
        &app,
        &[Account {
            login: "grace-sub",
            email: "grace@example.com",
            email_verified: true,
        }],
        3600,
    ) else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let response = save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);

    // The administrator sets up single sign-on in the browser: an error first, then saved.
    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("Welcome").await;
    browser.open(&app.url("/setup/sso")).await;
    browser
        .wait_for_text(&format!("{}/sso/callback", app.address))
        .await;
    browser.fill("Provider Name", PROVIDER_NAME).await;
    browser.fill("Issuer URL", "http://idp.example.com").await;
    browser.fill("Client ID", CLIENT_ID).await;
    browser.fill("Client Secret", CLIENT_SECRET).await;
    browser.fill("Email Domains", "example.com").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Use an https:// issuer URL").await;
    browser.fill("Issuer URL", &provider.issuer).await;
    browser.fill("Client Secret", CLIENT_SECRET).await;
    browser.click_button("Save").await;
    browser.wait_for_text("Single sign-on saved.").await;
    browser.click_button("Sign Out").await;
    browser
        .wait_for_text(&format!("Sign in with {PROVIDER_NAME}"))
        .await;
    // A provider's answer nobody asked for is refused.
    browser
        .open(&app.url("/sso/callback?state=forged&code=forged"))
        .await;
    browser.wait_for_text("Single sign-on refused").await;
    let link = app
        .emails_to("grace@example.com")
        .await
        .last()
        .and_then(|email| email.action_url.clone())
        .expect("a Join Now link");

    browser.open(&link).await;
    browser
        .wait_for_text(&format!("Join with {PROVIDER_NAME}"))
        .await;
    browser
        .click_button(&format!("Join with {PROVIDER_NAME}"))
        .await;
    browser
        .fill_in_elsewhere_and_submit(&[("login", "grace-sub"), ("password", "any password")])
        .await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Grace").await;
    assert_eq!(
        app.text_value(
            "SELECT username FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .as_deref(),
        Some("grace")
    );
    browser.close().await;
}
