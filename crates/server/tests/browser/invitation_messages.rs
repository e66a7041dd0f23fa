//! New User's personal message and Preview email in Chromium with JavaScript off: the preview
//! button is a plain submit button (`formaction`), and the message arrives escaped.

use crate::chromium::Browser;
use crate::helpers::{ADMIN_PASSWORD, Backend, html_escaped, spawn_app};
use crate::sign_in;

crate::helpers::on_both_backends!(
    without_javascript_preview_email_shows_the_message_and_save_sends_it_escaped,
);

async fn without_javascript_preview_email_shows_the_message_and_save_sends_it_escaped(
    backend: Backend,
) {
    let Some(browser) = Browser::start_with(true, false).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("Welcome, Ada").await;

    browser.open(&app.url("/setup/users/new")).await;
    browser.fill("First Name", "Grace").await;
    browser.fill("Last Name", "Hopper").await;
    browser.fill("Email", "grace@example.com").await;
    browser.select("Profile", "Standard").await;
    browser.select("Role", "Manager").await;
    browser
        .fill(
            "Personal Message (optional)",
            "Welcome aboard!\n<b>See you</b> on Monday.",
        )
        .await;
    browser.click_button("Preview email").await;
    browser
        .wait_for_text("Preview: the email Save will send")
        .await;
    let page = browser.page_text().await;
    assert!(
        page.contains("Welcome aboard!\n<b>See you</b> on Monday."),
        "the text part shows the message as typed: {page}"
    );
    assert!(page.contains("PREVIEW-ONLY-the-real-link-is-made-on-Save"));
    assert_eq!(app.count("invitations").await, 0, "a preview saves nothing");

    // The form kept everything: Save sends what the preview showed.
    browser.click_button("Save").await;
    browser
        .wait_for_text("Invitation sent to grace@example.com.")
        .await;
    app.deliver_emails().await;
    let emails = app.delivered_emails();
    assert_eq!(emails.len(), 1);
    assert!(
        emails[0]
            .text
            .replace("\r\n", "\n")
            .contains("Welcome aboard!\n<b>See you</b> on Monday."),
        "{}",
        emails[0].text
    );
    assert!(
        emails[0].html.contains(&format!(
            "Welcome aboard!<br>{}",
            html_escaped("<b>See you</b> on Monday.")
        )),
        "{}",
        emails[0].html
    );
    browser.close().await;
}
