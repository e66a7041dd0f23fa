//! Invitation content: the personal message on New User and Reinvite (both email parts, escaped,
//! bounded), and Preview email, which shows exactly what Save sends and writes nothing.

use crate::helpers::{
    Backend, TestApp, bulk_outcome_in, csrf_token_in, html_escaped, location, on_both_backends,
    on_both_databases, option_value, save_new_user, spawn_app_with_mail,
};
use crate::smtp::RealSmtpServer;
use onestop_server::usecases::invite_user::PREVIEW_TOKEN;
use std::time::Duration;

on_both_backends!(the_preview_equals_the_email_that_arrives_with_its_personal_message_escaped);
on_both_databases!(
    an_overlong_personal_message_is_refused_naming_the_field_and_nothing_is_written,
    a_bulk_reinvite_sends_one_personal_message_to_everyone_selected,
);

const MESSAGE: &str =
    "Welcome to the crew, Grace!\n<script>alert('hi')</script> & more\nSee you on Monday.";

/// The reverse of askama's HTML escaper (`helpers::html_escaped`).
fn html_unescaped(text: &str) -> String {
    text.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
}

/// The text between `start` and the next `end` in `page`.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("the page has {start:?}: {page}"))
        + start.len();
    let to = page[from..]
        .find(end)
        .unwrap_or_else(|| panic!("{start:?} ends with {end:?}"))
        + from;
    &page[from..to]
}

/// Line endings as a person sees them (SMTP sends CRLF), without trailing blank lines.
fn normalized(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

/// The New User form for Grace, with `message`, as the page's own fields and token.
async fn grace_form(app: &TestApp, message: &str) -> Vec<(&'static str, String)> {
    let page = app.get_text("/setup/users/new").await;
    assert!(
        page.contains("formaction=\"/setup/users/new/preview\""),
        "New User has a Preview email button that works without JavaScript: {page}"
    );
    vec![
        ("csrf_token", csrf_token_in(&page)),
        ("first_name", "Grace".into()),
        ("last_name", "Hopper".into()),
        ("email", "grace@example.com".into()),
        ("profile_id", option_value(&page, "Standard")),
        ("role_id", option_value(&page, "Manager")),
        ("personal_message", message.into()),
    ]
}

async fn post(app: &TestApp, path: &str, form: &[(&'static str, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = form
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    app.post_form(path, &fields).await
}

async fn the_preview_equals_the_email_that_arrives_with_its_personal_message_escaped(
    backend: Backend,
) {
    let Some(smtp) = RealSmtpServer::start().await else {
        return;
    };
    let Some(app) = spawn_app_with_mail(backend, None, Some(smtp.url())).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let form = grace_form(&app, MESSAGE).await;

    // Preview email: the page again, with the email below it; nothing is written.
    let before = app.written_rows().await;
    let preview = post(&app, "/setup/users/new/preview", &form).await;
    assert_eq!(preview.status().as_u16(), 200);
    let policy = preview.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        policy.contains("style-src 'self' 'unsafe-inline'") && !policy.contains("script-src"),
        "the HTML part is shown with its inline styles, never scripts: {policy}"
    );
    let preview = preview.text().await.unwrap();
    assert_eq!(app.written_rows().await, before, "a preview writes nothing");
    assert!(
        preview.contains(&html_escaped("Welcome to the crew, Grace!")),
        "the form keeps what was typed: {preview}"
    );
    let subject = html_unescaped(between(&preview, "<dd class=\"preview-subject\">", "</dd>"));
    let text = html_unescaped(between(&preview, "<pre class=\"preview-text\">", "</pre>"));
    let html = html_unescaped(between(&preview, "srcdoc=\"", "\""));
    let placeholder = format!("{}/join/{PREVIEW_TOKEN}", app.address);
    assert!(text.contains(&placeholder), "{text}");

    // Save, and the email arrives through a real SMTP server.
    let saved = post(&app, "/setup/users/new", &form).await;
    assert_eq!(saved.status().as_u16(), 303);
    assert_eq!(app.deliver_emails().await, 1);
    let messages = smtp.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    let email = &messages[0];
    let link = email.join_link();
    assert!(link.starts_with(&format!("{}/join/", app.address)));

    assert_eq!(
        email.subject, subject,
        "the preview's subject is the one sent"
    );
    assert_eq!(
        normalized(&email.text),
        normalized(&text.replace(&placeholder, &link)),
        "the preview's text part is the one sent, but for the link's token"
    );
    assert_eq!(
        normalized(&email.html),
        normalized(&html.replace(&placeholder, &link)),
        "the preview's HTML part is the one sent, but for the link's token"
    );

    // The message in both parts: as typed in the text, escaped in the HTML with its lines kept.
    assert!(
        email.text.contains("Ada Lovelace writes:"),
        "{}",
        email.text
    );
    assert!(
        normalized(&email.text).contains(MESSAGE),
        "the text part carries the message as typed: {}",
        email.text
    );
    assert!(
        email.html.contains(&format!(
            "{}<br>{}<br>{}",
            html_escaped("Welcome to the crew, Grace!"),
            html_escaped("<script>alert('hi')</script> & more"),
            html_escaped("See you on Monday.")
        )),
        "the HTML part escapes the message and keeps its lines: {}",
        email.html
    );
    assert!(
        !email.html.contains("<script>"),
        "no markup from the message"
    );

    // Once Grace exists, a preview for her address says what Save would say.
    let again = post(&app, "/setup/users/new/preview", &form).await;
    assert_eq!(again.status().as_u16(), 409);
    let page = again.text().await.unwrap();
    assert!(
        page.contains("A user with this email address already exists")
            && !page.contains("preview-subject"),
        "{page}"
    );

    // The audit trail says a message was included, not what it said.
    let details = app
        .text_value(
            "SELECT details FROM audit_events WHERE action = 'invitation_queued' AND org_id = $1",
            &organization.org_id,
        )
        .await
        .unwrap();
    assert_eq!(details, "with a personal message");
}

async fn an_overlong_personal_message_is_refused_naming_the_field_and_nothing_is_written(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let too_long = "x".repeat(1001);
    let form = grace_form(&app, &too_long).await;
    let before = app.written_rows().await;
    for path in ["/setup/users/new", "/setup/users/new/preview"] {
        let response = post(&app, path, &form).await;
        assert_eq!(response.status().as_u16(), 422, "{path}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains(
                "The Personal Message can be at most 1000 characters; this one has 1001."
            ),
            "{path}: {page}"
        );
        assert!(
            page.contains("aria-invalid=\"true\">xxx"),
            "{path}: the field is marked and keeps the text: {page}"
        );
        assert!(!page.contains("preview-subject"), "{path}: no preview");
    }
    assert_eq!(app.written_rows().await, before, "nothing was written");

    // Bulk Reinvite with an over-long message reinvites nobody.
    let saved = save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    app.clock.advance(Duration::from_secs(120));
    let grace = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .unwrap();
    let page = app.get_text("/setup/users?view=unconfirmed").await;
    let before = app.written_rows().await;
    let response = app
        .post_form(
            "/setup/users/bulk",
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("action", "reinvite"),
                ("ids", &grace),
                ("view", "unconfirmed"),
                ("q", ""),
                ("personal_message", &too_long),
            ],
        )
        .await;
    // The list says why, after the redirect back to it.
    let page = bulk_outcome_in(&response).expect("the outcome travels to the list");
    assert!(
        page.contains(
            "at most 1000 characters; this one has 1001. Shorten it. Nobody was reinvited."
        ),
        "{page}"
    );
    assert_eq!(app.written_rows().await, before, "nobody was reinvited");
}

async fn a_bulk_reinvite_sends_one_personal_message_to_everyone_selected(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let mut ids = Vec::new();
    for (first, email) in [("Grace", "grace@example.com"), ("Alan", "alan@example.com")] {
        let saved = save_new_user(&app, first, "Hopper", email, "Standard", "Manager").await;
        assert!(location(&saved).starts_with("/setup/users?invited="));
        ids.push(
            app.text_value("SELECT id FROM users WHERE email_normalized = $1", email)
                .await
                .unwrap(),
        );
    }
    app.clock.advance(Duration::from_secs(120));
    let page = app.get_text("/setup/users?view=unconfirmed").await;
    assert!(
        page.contains("name=\"personal_message\""),
        "the Reinvite bar offers a personal message: {page}"
    );
    let token = csrf_token_in(&page);
    let response = app
        .post_form(
            "/setup/users/bulk",
            &[
                ("csrf_token", token.as_str()),
                ("action", "reinvite"),
                ("ids", &ids[0]),
                ("ids", &ids[1]),
                ("view", "unconfirmed"),
                ("q", ""),
                ("personal_message", "Second try: <b>please</b> join today."),
            ],
        )
        .await;
    let page = bulk_outcome_in(&response).expect("the outcome travels to the list");
    assert!(page.contains("Invitation resent to 2 users."), "{page}");
    for email in ["grace@example.com", "alan@example.com"] {
        // The first, unsent email was withdrawn; the new one carries the message.
        let emails = app.emails_to(email).await;
        let latest = emails.last().expect("an email is queued");
        assert!(
            latest
                .body_text
                .contains("Second try: <b>please</b> join today."),
            "{email}: {}",
            latest.body_text
        );
        assert!(
            latest
                .body_html
                .contains(&html_escaped("Second try: <b>please</b> join today.")),
            "{email}: {}",
            latest.body_html
        );
    }
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'invitation_resent' \
               AND details = 'with a personal message' AND org_id = $1",
            &organization.org_id,
        )
        .await,
        2
    );
}
