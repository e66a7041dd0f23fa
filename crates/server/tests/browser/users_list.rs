//! The Users list in Chromium: sorting and filtering 1,000 users, selecting every match across
//! pages for a bulk Reinvite, and the confirmation that Delete asks for without JavaScript.

use crate::chromium::Browser;
use crate::helpers::{ADMIN_PASSWORD, Backend, Organization, TestApp, spawn_app};
use onestop_domain::{Clock, RoleId, UserId};
use onestop_server::store::SeedPlan;

crate::helpers::on_both_backends!(
    an_administrator_sorts_filters_and_reinvites_every_match_across_pages,
    delete_asks_for_confirmation_without_javascript,
);

/// Ada and 1,000 seeded users; every fourth of them in a new Sales role (under Manager).
async fn thousand_users(app: &TestApp) -> (Organization, String) {
    let organization = app.create_organization().await;
    let scope = &organization.scope;
    let manager = app
        .text_value(
            "SELECT id FROM roles WHERE org_id = $1 AND builtin = 'manager'",
            &organization.org_id,
        )
        .await
        .unwrap();
    let now = app.clock.now();
    let sales = app
        .store
        .add_role(scope, "Sales", &RoleId::parse(&manager).unwrap(), now)
        .await
        .unwrap();
    let seeded = app
        .store
        .seed_users(&SeedPlan {
            scope,
            invited_by: &UserId::parse(&organization.admin_id).unwrap(),
            count: 1000,
            password_hash: "not a hash: seeded users here never sign in",
            label: "browser",
            invitation_lifetime_ms: app.store.invitation_lifetime_ms(scope).await.unwrap(),
            now,
        })
        .await
        .unwrap();
    let chosen: Vec<String> = seeded
        .iter()
        .step_by(4)
        .map(|user| format!("'{}'", user.id))
        .collect();
    app.execute(&format!(
        "UPDATE users SET role_id = '{sales}' WHERE id IN ({})",
        chosen.join(", ")
    ))
    .await;
    (organization, sales)
}

async fn an_administrator_sorts_filters_and_reinvites_every_match_across_pages(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (organization, sales) = thousand_users(&app).await;
    let matching = app
        .number(&format!(
            "SELECT COUNT(*) FROM users WHERE org_id = '{}' AND status = 'unconfirmed' \
              AND role_id = '{sales}'",
            organization.org_id
        ))
        .await;
    assert!(matching > 50, "the matches span pages");
    crate::sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    browser.open(&app.url("/setup/users")).await;
    browser.wait_for_text("Showing 1–50 of 1001 users").await;
    browser.select("View", "Unconfirmed Users (300)").await;
    browser.select("Role", "Sales").await;
    // Choosing in the drop-downs changes nothing until Show is pressed.
    assert!(browser.page_text().await.contains("of 1001 users"));
    browser.click_button("Show").await;
    browser
        .wait_for_text(&format!("Showing 1–50 of {matching} users"))
        .await;
    browser.click_css("th a[href*='sort=invited']").await;
    browser.wait_for_url_containing("sort=invited").await;
    assert!(browser.source().await.contains("aria-sort=\"ascending\""));
    browser.click_css("th a[href*='sort=invited']").await;
    browser.wait_for_url_containing("dir=desc").await;
    assert!(browser.source().await.contains("aria-sort=\"descending\""));

    // "Select all on this page" ticks the page's 50 and says so.
    browser.click_css("input[data-select-page]").await;
    browser.wait_for_text("50 users selected.").await;
    browser.click_css("input[data-select-page]").await;
    browser.wait_for_text("0 users selected.").await;

    // Every match, on every page.
    browser
        .check(&format!(
            "Select every user that matches ({matching}), on every page"
        ))
        .await;
    browser
        .wait_for_text("Every matching user is selected.")
        .await;
    browser.click_button("Reinvite").await;
    browser
        .wait_for_text(&format!("Invitation resent to {matching} users."))
        .await;
    let address = browser.current_url().await;
    for kept in [
        "view=unconfirmed",
        &format!("role={sales}"),
        "sort=invited",
        "dir=desc",
    ] {
        assert!(address.contains(kept), "{address} keeps {kept}");
    }
    assert_eq!(
        app.number(&format!(
            "SELECT COUNT(*) FROM outbox WHERE org_id = '{}' AND state = 'queued'",
            organization.org_id
        ))
        .await,
        matching,
        "an email queued for every match"
    );
    // Reloading shows the list again and sends nothing more.
    browser.open(&address).await;
    browser
        .wait_for_text(&format!("Showing 1–50 of {matching} users"))
        .await;
    assert_eq!(
        app.number(&format!(
            "SELECT COUNT(*) FROM outbox WHERE org_id = '{}'",
            organization.org_id
        ))
        .await,
        matching
    );
    browser.close().await;
}

async fn delete_asks_for_confirmation_without_javascript(backend: Backend) {
    let Some(browser) = Browser::start_with(true, false).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (organization, _) = thousand_users(&app).await;
    let victim = app
        .text_values(&format!(
            "SELECT id FROM users WHERE org_id = '{}' AND status = 'unconfirmed' ORDER BY last_name, id LIMIT 1",
            organization.org_id
        ))
        .await
        .remove(0);
    crate::sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    browser
        .open(&app.url("/setup/users?view=unconfirmed"))
        .await;
    browser.wait_for_text("Showing 1–50 of 300 users").await;
    browser
        .click_css(&format!("input[name=ids][value='{victim}']"))
        .await;
    browser.click_button("Delete").await;
    browser.wait_for_text("Delete 1 user?").await;
    browser.wait_for_text("This cannot be undone.").await;
    assert_eq!(
        app.number_value("SELECT COUNT(*) FROM users WHERE id = $1", &victim)
            .await,
        1,
        "nothing is deleted before Confirm"
    );
    browser.click_link("Cancel").await;
    browser.wait_for_text("Showing 1–50 of 300 users").await;
    assert_eq!(browser.current_path().await, "/setup/users");

    browser
        .click_css(&format!("input[name=ids][value='{victim}']"))
        .await;
    browser.click_button("Delete").await;
    browser.wait_for_text("Delete 1 user?").await;
    browser.click_button("Delete").await;
    browser.wait_for_text("Deleted 1 user.").await;
    browser.wait_for_text("Showing 1–50 of 299 users").await;
    assert_eq!(
        app.number_value("SELECT COUNT(*) FROM users WHERE id = $1", &victim)
            .await,
        0
    );
    browser.close().await;
}
