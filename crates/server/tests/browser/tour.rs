//! A tour of every page a person reaches, signed in or not, with its error states, so that the
//! accessibility (axe-core) and HTML (Nu HTML Checker) checks every browser test runs cover them
//! all (the checks see every page in the light and in the dark color scheme).
//!
//! Like every browser test, it runs on SQLite and on PostgreSQL.

use crate::chromium::Browser;
use crate::helpers::{self, ADMIN_PASSWORD, Backend, MEMBER_PASSWORD, spawn_app};
use fantoccini::key::Key;
use onestop_server::usecases::first_run::issue_first_run_code;

crate::helpers::on_both_backends!(every_page_a_person_reaches_is_accessible_and_valid_html,);

const CORRECT_THE_FIELDS: &str = "Please correct the fields marked below.";

/// Opens `path` and waits for `text` to show (the checks then audit the page).
async fn visit(browser: &Browser, app: &helpers::TestApp, path: &str, text: &str) {
    browser.open(&app.url(path)).await;
    browser.wait_for_text(text).await;
}

async fn sign_in(browser: &Browser, app: &helpers::TestApp, username: &str, password: &str) {
    visit(browser, app, "/login", "Sign in to 1Stop").await;
    browser.fill("Username", username).await;
    browser.fill("Password", password).await;
    browser.click_button("Sign In").await;
}

async fn sign_out(browser: &Browser) {
    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;
}

/// The first link of a message to `recipient` the application has queued, newest last.
async fn last_link_to(app: &helpers::TestApp, recipient: &str) -> String {
    app.emails_to(recipient)
        .await
        .last()
        .and_then(|email| email.action_url.clone())
        .expect("a message with a link")
}

async fn every_page_a_person_reaches_is_accessible_and_valid_html(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };

    // First run, before there is a company: the form and its errors, and a used-up link.
    let code = issue_first_run_code(&app.services).await.unwrap().unwrap();
    visit(
        &browser,
        &app,
        &format!("/first-run/{}", code.expose()),
        "Set up 1Stop",
    )
    .await;
    browser.click_button("Create Account").await;
    browser.wait_for_text(CORRECT_THE_FIELDS).await;
    browser.open(&app.url("/first-run/not-a-code")).await;
    browser.page_text().await;

    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    app.add_sam(&organization.org_id).await;

    // Signed out: sign-in and its errors, forgot and reset password, help, a missing page.
    visit(&browser, &app, "/login", "Sign in to 1Stop").await;
    browser.click_button("Sign In").await;
    browser.wait_for_text("Sign in to 1Stop").await;
    sign_in(&browser, &app, "ada", "this is not the password").await;
    browser
        .wait_for_text("The username or password is incorrect.")
        .await;
    browser.click_link("Forgot password?").await;
    browser.wait_for_text("Forgot password?").await;
    browser.fill("Username or Email", "sam").await;
    browser.click_button("Send Reset Link").await;
    browser
        .wait_for_text("a link to choose a new password is on its way")
        .await;
    app.background_work_done().await;
    let reset_link = last_link_to(&app, "sam@example.com").await;
    browser.open(&reset_link).await;
    browser.wait_for_text("Choose a new password").await;
    browser.fill("New Password", "short").await;
    browser.click_button("Update").await;
    browser.wait_for_text(CORRECT_THE_FIELDS).await;
    browser
        .open(&app.url("/password/reset/not-a-valid-token"))
        .await;
    browser.page_text().await;
    visit(&browser, &app, "/help", "Help").await;
    for article in ["inviting-users", "profiles-and-roles", "first-steps"] {
        browser.open(&app.url(&format!("/help/{article}"))).await;
        browser.wait_for_text("All help articles").await;
    }
    browser.open(&app.url("/no-such-page")).await;
    browser.page_text().await;

    // The administrator: terms, the homepage of the CEO, every Setup page with its errors.
    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("Welcome, Ada").await;
    visit(&browser, &app, "/terms", "Terms of Service").await;
    visit(&browser, &app, "/setup", "Users and Control").await;
    visit(&browser, &app, "/setup/users", "Users").await;
    // Arrowing through the View drop-down stays on the page (WCAG 3.2.2); Show shows the view.
    browser
        .press_keys_in("View", &char::from(Key::Down).to_string())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !browser.current_url().await.contains("view="),
        "a key in the View drop-down does not leave the page"
    );
    browser.click_button("Show").await;
    browser.wait_for_url_containing("view=active").await;
    assert!(browser.fits_width(360).await, "the Users page fits a phone");
    // Import Users: the upload form, and its error (the mapping, preview and progress pages
    // are audited by tests/browser/user_import.rs).
    visit(&browser, &app, "/setup/users/import", "Upload the file").await;
    browser.click_button("Upload").await;
    browser.wait_for_text("Choose a CSV file to upload.").await;
    visit(&browser, &app, "/setup/users/new", "New User").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Nothing was saved.").await;
    browser.fill("First Name", "Grace").await;
    browser.fill("Last Name", "Hopper").await;
    browser.fill("Email", "grace@example.com").await;
    browser.select("Profile", "Standard").await;
    browser.select("Role", "Manager").await;
    browser
        .fill("Personal Message (optional)", "Welcome aboard!")
        .await;
    browser.click_button("Preview email").await;
    browser.wait_for_text("Welcome aboard!").await;
    browser.click_button("Save").await;
    browser
        .wait_for_text("Invitation sent to grace@example.com.")
        .await;
    visit(
        &browser,
        &app,
        "/setup/users?view=unconfirmed",
        "Grace Hopper",
    )
    .await;
    let grace = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .unwrap();
    visit(
        &browser,
        &app,
        &format!("/setup/users/{grace}"),
        "Invitations",
    )
    .await;
    visit(
        &browser,
        &app,
        &format!("/setup/users/{grace}/edit"),
        "Edit User",
    )
    .await;
    browser.fill("Email", "not an address").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Nothing was saved.").await;
    visit(&browser, &app, "/setup/profiles", "Profiles").await;
    browser.click_css("a[aria-label='Clone Standard']").await;
    browser.wait_for_text("Clone Standard").await;
    browser.fill("Profile Name", "").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Nothing was saved.").await;
    browser.fill("Profile Name", "Dispatcher").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Profile Dispatcher created.").await;
    browser.click_link("Dispatcher").await;
    browser.wait_for_text("Delete this profile").await;
    visit(&browser, &app, "/setup/roles", "New Role").await;
    visit(&browser, &app, "/setup/roles/new", "New Role").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Nothing was saved.").await;
    visit(&browser, &app, "/setup/roles", "Manager").await;
    browser.click_link("Manager").await;
    browser.wait_for_text("Delete this role").await;
    browser.fill("Role Name", "").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Nothing was saved.").await;
    visit(&browser, &app, "/setup/terms", "Version history").await;
    assert!(browser.fits_width(360).await, "the Terms page fits a phone");
    browser.click_text("Publish new version").await;
    browser.click_button("Publish").await;
    browser.wait_for_text("Summary of Changes").await;
    visit(&browser, &app, "/setup/audit", "Audit Log").await;
    assert!(browser.fits_width(360).await, "the Audit Log fits a phone");
    visit(&browser, &app, "/setup/audit?from=not-a-date", "Audit Log").await;
    visit(&browser, &app, "/account", "My Account").await;
    visit(&browser, &app, "/setup/company", "Company Details").await;
    browser.fill("Invitation Lifetime (hours)", "0").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Company Details").await;
    // API Tokens: the empty list, the form and its errors, the token shown once, the list with
    // it, and Revoke's confirmation.
    visit(&browser, &app, "/setup/api-tokens", "No tokens yet").await;
    visit(&browser, &app, "/setup/api-tokens/new", "New API Token").await;
    browser.click_button("Create token").await;
    browser.wait_for_text("Nothing was saved.").await;
    browser.fill("Name", "Payroll sync").await;
    browser.click_button("Create token").await;
    browser.wait_for_text("You will not see it again").await;
    visit(&browser, &app, "/setup/api-tokens", "Payroll sync").await;
    browser.click_button("Revoke").await;
    browser.wait_for_text("Revoke the token").await;
    browser.click_button("Revoke").await;
    browser.wait_for_text("Revoked the token").await;
    visit(&browser, &app, "/setup/scim", "SCIM provisioning").await;
    browser.click_button("Save").await;
    browser.wait_for_text("SCIM defaults saved.").await;
    browser.open(&app.url("/setup/no-such-page")).await;
    let shown = browser.page_text().await;
    assert!(
        shown.contains("Page not found") && shown.contains("Sign Out") && shown.contains("Help"),
        "a signed-in error page keeps the header: {shown}"
    );

    // Join: an invitation opened while signed in as someone else, then signed out: the form,
    // its errors, and every outcome.
    let link = last_link_to(&app, "grace@example.com").await;
    browser.open(&link).await;
    browser.wait_for_text("Sign Out").await;
    browser.click_button("Sign Out").await;
    browser.wait_for_text("Join 1Stop Install's").await;
    browser.click_button("Update").await;
    browser.wait_for_text(CORRECT_THE_FIELDS).await;
    browser.fill("Username", "grace").await;
    browser.fill("Password", "seven green lanterns glow").await;
    browser
        .fill("Confirm Password", "seven green lanterns glow")
        .await;
    browser.click_button("Update").await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Grace").await;
    sign_out(&browser).await;
    browser.open(&link).await;
    browser
        .wait_for_text("This invitation has already been accepted.")
        .await;
    browser.open(&app.url("/join/not-a-valid-token")).await;
    browser
        .wait_for_text("This invitation link is not valid.")
        .await;
    browser.open(&app.url("/join")).await;
    browser.page_text().await;
    let saved = helpers::save_new_user(
        &app,
        "Linus",
        "Late",
        "linus@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    app.clock
        .advance(std::time::Duration::from_secs(8 * 24 * 60 * 60));
    browser
        .open(&last_link_to(&app, "linus@example.com").await)
        .await;
    browser.wait_for_text("This invitation has expired.").await;
    browser.click_button("Ask for a new invitation").await;
    browser.wait_for_text("New invitation requested").await;

    // A member without Setup: the homepage of a Manager, and Setup refused.
    sign_in(&browser, &app, "sam", MEMBER_PASSWORD).await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Sam").await;
    browser.open(&app.url("/setup")).await;
    let shown = browser.page_text().await;
    assert!(
        shown.contains("Not allowed") && shown.contains("Sign Out"),
        "the refusal keeps the header: {shown}"
    );
    browser.open(&app.url("/setup/users")).await;
    browser.page_text().await;
    browser.close().await;

    // A browser that refuses cookies: the cookie message at sign-in.
    let Some(browser) = Browser::start(false).await else {
        return;
    };
    sign_in(&browser, &app, "sam", MEMBER_PASSWORD).await;
    browser
        .wait_for_text("Cookie is disabled in your browser.")
        .await;
    browser.close().await;
}
