//! The join page offers the browser's own time zone (a small script reads it from `Intl`), and
//! without JavaScript the company's.

use crate::chromium::Browser;
use crate::helpers::{Backend, TestApp, save_new_user, spawn_app};

/// A Join Now link for Grace, from an administrator of a company in `company_zone`.
async fn invitation_link(app: &TestApp, company_zone: &str) -> String {
    let organization = app.create_organization().await;
    app.execute(&format!(
        "UPDATE organizations SET time_zone = '{company_zone}' WHERE id = '{}'",
        organization.org_id
    ))
    .await;
    app.sign_in_as_admin(&organization).await;
    let response = save_new_user(
        app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    app.emails_to("grace@example.com").await[0]
        .action_url
        .clone()
        .unwrap()
}

async fn join_as_grace(browser: &Browser) {
    browser.fill("Username", "grace").await;
    browser.fill("Password", "seven green lanterns glow").await;
    browser
        .fill("Confirm Password", "seven green lanterns glow")
        .await;
    browser.click_button("Update").await;
    browser.wait_for_text("I Agree").await;
}

async fn graces_time_zone(app: &TestApp) -> Option<String> {
    app.text_value(
        "SELECT time_zone FROM users WHERE email_normalized = $1",
        "grace@example.com",
    )
    .await
}

#[tokio::test]
async fn a_browser_in_tokyo_is_offered_tokyo_at_join_and_keeps_it() {
    let Some(browser) = Browser::start_in_time_zone("Asia/Tokyo", true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let link = invitation_link(&app, "Europe/Berlin").await;

    browser.open(&link).await;
    browser.wait_for_text("Time Zone").await;
    assert_eq!(browser.value_of("time_zone").await, "Asia/Tokyo");
    join_as_grace(&browser).await;
    assert_eq!(graces_time_zone(&app).await.as_deref(), Some("Asia/Tokyo"));
    browser.close().await;
}

#[tokio::test]
async fn without_javascript_the_join_page_offers_the_companys_zone() {
    let Some(browser) = Browser::start_in_time_zone("America/Los_Angeles", false).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let link = invitation_link(&app, "Europe/Berlin").await;

    browser.open(&link).await;
    browser.wait_for_text("Time Zone").await;
    assert_eq!(browser.value_of("time_zone").await, "Europe/Berlin");
    join_as_grace(&browser).await;
    assert_eq!(
        graces_time_zone(&app).await.as_deref(),
        Some("Europe/Berlin")
    );
    browser.close().await;
}
