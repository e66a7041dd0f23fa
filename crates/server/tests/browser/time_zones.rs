//! The join page offers the browser's own time zone (a small script reads it from `Intl`), and
//! without JavaScript the company's.

use crate::chromium::Browser;
use crate::helpers::{Backend, TestApp, save_new_user, spawn_app};

crate::helpers::on_both_backends!(
    a_browser_in_tokyo_is_offered_tokyo_at_join_and_keeps_it,
    without_javascript_the_join_page_offers_the_companys_zone,
    readers_in_tokyo_and_los_angeles_see_the_same_invitation_at_their_local_times,
);

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

async fn a_browser_in_tokyo_is_offered_tokyo_at_join_and_keeps_it(backend: Backend) {
    let Some(browser) = Browser::start_in_time_zone("Asia/Tokyo", true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let link = invitation_link(&app, "Europe/Berlin").await;

    browser.open(&link).await;
    browser.wait_for_text("Time Zone").await;
    assert_eq!(browser.value_of("time_zone").await, "Asia/Tokyo");
    join_as_grace(&browser).await;
    assert_eq!(graces_time_zone(&app).await.as_deref(), Some("Asia/Tokyo"));
    browser.close().await;
}

async fn without_javascript_the_join_page_offers_the_companys_zone(backend: Backend) {
    let Some(browser) = Browser::start_in_time_zone("America/Los_Angeles", false).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
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

/// Signs `username` in, opens the Unconfirmed users, and returns the visible lines about the
/// invitation and the local times in their `title`s.
async fn users_page_as(
    browser: &Browser,
    app: &TestApp,
    username: &str,
    password: &str,
) -> (String, Vec<String>) {
    crate::sign_in(browser, app, username, password).await;
    browser.wait_for_text("Welcome,").await;
    browser
        .open(&app.url("/setup/users?view=unconfirmed"))
        .await;
    browser.wait_for_text("Grace Hopper").await;
    let text = browser.page_text().await;
    let titles = browser.attributes("td time", "title").await;
    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;
    (text, titles)
}

async fn readers_in_tokyo_and_los_angeles_see_the_same_invitation_at_their_local_times(
    backend: Backend,
) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    invitation_link(&app, "UTC").await;
    let organization_id = app
        .text_value(
            "SELECT org_id FROM users WHERE username_normalized = $1",
            "ada",
        )
        .await
        .unwrap();
    app.add_active_user(
        &organization_id,
        "administrator",
        "ceo",
        ("Linus", "Pauling"),
        "linus",
        crate::helpers::MEMBER_PASSWORD,
    )
    .await;
    for (username, zone) in [("ada", "Asia/Tokyo"), ("linus", "America/Los_Angeles")] {
        app.execute(&format!(
            "UPDATE users SET time_zone = '{zone}' WHERE username_normalized = '{username}'"
        ))
        .await;
    }
    // Linus agrees to the Terms once, so both land on their homepage.
    let agreeing = app.new_client();
    app.sign_in_with(&agreeing, "linus", crate::helpers::MEMBER_PASSWORD)
        .await;
    assert_eq!(app.agree_with(&agreeing).await.status().as_u16(), 303);

    // Invited at 2026-11-27 04:00 UTC; seven days to go.
    let (tokyo, tokyo_times) =
        users_page_as(&browser, &app, "ada", crate::helpers::ADMIN_PASSWORD).await;
    let (los_angeles, los_angeles_times) =
        users_page_as(&browser, &app, "linus", crate::helpers::MEMBER_PASSWORD).await;
    for text in [&tokyo, &los_angeles] {
        assert!(text.contains("Invited just now by Ada Lovelace"), "{text}");
        assert!(text.contains("Expires in 7 days"), "{text}");
    }
    assert_eq!(
        tokyo_times,
        ["2026-11-27 13:00 JST", "2026-12-04 13:00 JST"]
    );
    assert_eq!(
        los_angeles_times,
        ["2026-11-26 20:00 PST", "2026-12-03 20:00 PST"]
    );
    browser.close().await;
}
