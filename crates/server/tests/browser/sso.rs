//! Joining through the company's OpenID Connect provider, in Chromium, against a real provider
//! (`scripts/oidc-provider.mjs`).

use crate::Browser;
use crate::helpers::{Backend, save_new_user, spawn_app};
use crate::sso_helpers::{
    Account, PROVIDER_NAME, configure_sso, set_clock_to_real_time, start_provider,
};

crate::helpers::on_both_backends!(an_invitee_joins_through_the_provider_and_reaches_the_homepage,);

async fn an_invitee_joins_through_the_provider_and_reaches_the_homepage(backend: Backend) {
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
    configure_sso(&app, &provider, false).await;
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
