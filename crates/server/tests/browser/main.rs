//! Real headless Chromium, driven through chromedriver, against the real application.

// A failing test is meant to panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Each runs on SQLite and on PostgreSQL (`name::sqlite`, `name::postgres`), one Chromium at a
//! time.

#[allow(dead_code, unused_macros, unused_imports)]
#[path = "../api/helpers.rs"]
mod helpers;

#[allow(dead_code)]
#[path = "../api/smtp.rs"]
mod smtp;

#[allow(dead_code)]
#[path = "../api/sso_helpers.rs"]
mod sso_helpers;

mod api_tokens;
mod chromium;
mod invitation_messages;
mod page_checks;
mod passkeys;
mod pictures;
mod sso;
mod time_zones;
mod tour;
mod two_step;
mod two_step_admin;
#[allow(dead_code)]
#[path = "../api/two_step_helpers.rs"]
mod two_step_helpers;
#[allow(dead_code)]
#[path = "../api/two_step_rows.rs"]
mod two_step_rows;
mod user_import;
mod users_list;
mod virtual_authenticator;

use chromium::Browser;
use helpers::{ADMIN_PASSWORD, Backend, spawn_app, spawn_app_with_mail};
use onestop_server::usecases::first_run::issue_first_run_code;
use smtp::RealSmtpServer;

helpers::on_both_backends!(
    an_administrator_signs_in_agrees_opens_setup_through_the_gear_and_signs_out,
    a_wrong_password_shows_the_generic_message,
    the_first_run_link_leads_through_the_terms_to_the_homepage,
    a_browser_that_refuses_cookies_is_told_to_enable_them,
    the_articles_invitation_steps_work_from_new_user_to_the_role_homepage,
    a_browser_that_refuses_cookies_sees_the_cookie_message_on_join_and_the_link_stays_valid,
    arriving_from_another_site_with_cookies_on_never_shows_the_cookie_message,
    the_articles_resend_steps_work_with_javascript,
    the_articles_resend_steps_work_without_javascript,
    an_administrator_clones_a_profile_and_assigns_it_to_a_new_user,
    new_terms_are_published_and_another_user_agrees_to_them,
    an_administrator_reads_a_users_history_signs_them_out_everywhere_and_sends_a_reset_link,
);

async fn an_administrator_signs_in_agrees_opens_setup_through_the_gear_and_signs_out(
    backend: Backend,
) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.create_organization().await;

    browser.open(&app.url("/")).await;
    browser.wait_for_text("Sign in to 1Stop").await;
    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("I Agree").await;
    assert!(browser.current_path().await.starts_with("/terms"));
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    browser.click_css("a[aria-label='Setup']").await;
    browser.wait_for_text("Users and Control").await;
    assert_eq!(browser.current_path().await, "/setup");

    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;
    browser.open(&app.url("/setup")).await;
    browser.wait_for_text("Sign in to 1Stop").await;
    browser.close().await;
}

async fn a_wrong_password_shows_the_generic_message(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.create_organization().await;

    sign_in(&browser, &app, "ada", "this is not the password").await;
    browser
        .wait_for_text("The username or password is incorrect.")
        .await;
    assert_eq!(app.count("sessions").await, 0);
    browser.close().await;
}

async fn the_first_run_link_leads_through_the_terms_to_the_homepage(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let code = issue_first_run_code(&app.services).await.unwrap().unwrap();

    browser
        .open(&app.url(&format!("/first-run/{}", code.expose())))
        .await;
    for (label, value) in [
        ("Company Name", "Hopper Heating"),
        ("First Name", "Grace"),
        ("Last Name", "Hopper"),
        ("Email", "grace@hopper.example"),
        ("Username", "grace"),
        ("Password", "seven green lanterns glow"),
        ("Confirm Password", "seven green lanterns glow"),
    ] {
        browser.fill(label, value).await;
    }
    browser.click_button("Create Account").await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Grace").await;
    assert_eq!(app.count("organizations").await, 1);
    browser.close().await;
}

async fn a_browser_that_refuses_cookies_is_told_to_enable_them(backend: Backend) {
    let Some(browser) = Browser::start(false).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.create_organization().await;

    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser
        .wait_for_text("Cookie is disabled in your browser. Please enable the Cookie to continue.")
        .await;
    assert_eq!(app.count("sessions").await, 0);
    browser.close().await;
}

/// The help article's "Send Invitation Instructions", step by step, in Chromium.
async fn the_articles_invitation_steps_work_from_new_user_to_the_role_homepage(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(smtp) = RealSmtpServer::start().await else {
        return;
    };
    let Some(app) = spawn_app_with_mail(backend, None, Some(smtp.url())).await else {
        return;
    };
    app.create_organization().await;

    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    // 1. Click the Gear Icon in top right of any page to go to Setup.
    browser.click_css("a[aria-label='Setup']").await;
    // 2. On the Setup page, in User and Control section, click Users.
    browser.wait_for_text("Users and Control").await;
    browser.click_link("Users").await;
    // 3. In top right of the Users page, click the New User button.
    browser.click_link("New User").await;
    // 4. Enter the New User details, then Save.
    browser
        .wait_for_text("Not sure which Profile and Role to assign?")
        .await;
    browser.fill("First Name", "Grace").await;
    browser.fill("Last Name", "Hopper").await;
    browser.fill("Email", "grace@example.com").await;
    browser.select("Profile", "Standard").await;
    browser.select("Role", "Manager").await;
    browser.click_button("Save").await;
    // 5. After Saving, an email invitation will be sent to the New User; the page says it is
    // queued.
    browser
        .wait_for_text(
            "Invitation sent to grace@example.com. The email is queued and goes out as soon as the mail server accepts it.",
        )
        .await;
    app.deliver_emails().await;
    let link = smtp.wait_for(1).await[0].join_link();
    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;

    // The invitee clicks Join Now, selects a username and password, then clicks Update.
    browser.open(&link).await;
    browser
        .wait_for_text("Join 1Stop Install's 1Stop Install account")
        .await;
    assert_eq!(
        browser.current_path().await,
        "/join",
        "the token is gone from the address bar"
    );
    browser.fill("Username", "grace").await;
    browser.fill("Password", "seven green lanterns glow").await;
    browser
        .fill("Confirm Password", "seven green lanterns glow")
        .await;
    browser.click_button("Update").await;
    // Click the "I Agree" button to accept the Terms of Service...
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    // ...and land on the homepage built for the Role.
    browser.wait_for_text("Welcome, Grace").await;
    browser
        .wait_for_text("Your installations and your team")
        .await;
    browser
        .wait_for_text("Your First Steps after Logging In")
        .await;
    browser.close().await;
}

async fn a_browser_that_refuses_cookies_sees_the_cookie_message_on_join_and_the_link_stays_valid(
    backend: Backend,
) {
    let Some(browser) = Browser::start(false).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let response = helpers::save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let link = app.emails_to("grace@example.com").await[0]
        .action_url
        .clone()
        .unwrap();

    browser.open(&link).await;
    browser
        .wait_for_text("Cookie is disabled in your browser. Please enable the Cookie to continue.")
        .await;
    assert_eq!(
        app.text_value(
            "SELECT status FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .as_deref(),
        Some("unconfirmed")
    );
    browser.close().await;
}

/// Serves one page on `127.0.0.1`, to be opened as `http://localhost:{port}/`: another site than
/// the application's `127.0.0.1`, like a webmail. Returns the port.
async fn serve_another_site(page: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let page = page.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

/// An invitee reads the invitation in a webmail on another site (`localhost` against the
/// application's `127.0.0.1`) and clicks Join Now: with cookies on, the join form appears, never
/// the cookie message, and joining works from there.
async fn arriving_from_another_site_with_cookies_on_never_shows_the_cookie_message(
    backend: Backend,
) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let response = helpers::save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let link = app.emails_to("grace@example.com").await[0]
        .action_url
        .clone()
        .unwrap();
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    let webmail = serve_another_site(format!(
        "<!doctype html><html lang=\"en\"><title>Webmail</title><p>You are invited.</p>\
         <p><a href=\"{link}\" rel=\"noopener noreferrer\">Join Now</a></p>"
    ))
    .await;

    browser
        .open(&format!("http://localhost:{webmail}/inbox"))
        .await;
    browser.wait_for_text("You are invited.").await;
    browser.click_link("Join Now").await;
    browser
        .wait_for_text("Join 1Stop Install's 1Stop Install account")
        .await;
    assert_eq!(browser.current_path().await, "/join");
    let shown = browser.page_text().await;
    assert!(shown.contains("Confirm Password"), "the join form: {shown}");
    assert!(
        !shown.contains("Cookie is disabled"),
        "never the cookie message: {shown}"
    );
    browser.fill("Username", "grace").await;
    browser.fill("Password", "seven green lanterns glow").await;
    browser
        .fill("Confirm Password", "seven green lanterns glow")
        .await;
    browser.click_button("Update").await;
    browser.wait_for_text("I Agree").await;
    assert_eq!(
        app.text_value(
            "SELECT status FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .as_deref(),
        Some("active")
    );
    browser.close().await;
}

/// The help article's "Resend Invitation Instructions", word for word.
async fn resend_steps(backend: Backend, javascript_enabled: bool) {
    let Some(browser) = Browser::start_with(true, javascript_enabled).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let saved = helpers::save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    let first_link = app.emails_to("grace@example.com").await[0]
        .action_url
        .clone()
        .unwrap();
    app.clock.advance(std::time::Duration::from_secs(120));

    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("Welcome, Ada").await;

    // 1. Go to Setup (gear icon) > Users & Control > Users.
    browser.click_css("a[aria-label='Setup']").await;
    browser.wait_for_text("Users and Control").await;
    browser.click_link("Users").await;
    browser.wait_for_text("All Users (2)").await;

    // 2. Select Unconfirmed Users from the View drop-down menu, then click Show.
    // Choosing changes nothing until Show (moving through the options with the arrow keys must
    // not reload the page, WCAG 3.2.2), with JavaScript or without.
    browser.select("View", "Unconfirmed Users (1)").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !browser.current_url().await.contains("view=unconfirmed"),
        "choosing a view does not load it (JavaScript on: {javascript_enabled})"
    );
    browser.click_button("Show").await;
    browser.wait_for_url_containing("view=unconfirmed").await;
    // 3. Click the check box to the left of the user's profile picture; Reinvite appears.
    assert!(
        !browser.button_is_displayed("Reinvite").await,
        "no Reinvite button before a box is ticked"
    );
    browser
        .click_css("input[aria-label='Select Grace Hopper']")
        .await;
    assert!(
        browser.button_is_displayed("Reinvite").await,
        "ticking a box reveals Reinvite"
    );
    // 4. Click the Reinvite button to resend the email invitation.
    browser.click_button("Reinvite").await;
    browser.wait_for_text("Invitation resent to 1 user.").await;

    let emails = app.emails_to("grace@example.com").await;
    let new_link = emails.last().unwrap().action_url.clone().unwrap();
    assert_ne!(new_link, first_link, "a new link");
    browser.open(&first_link).await;
    browser
        .wait_for_text("This invitation link is not valid.")
        .await;
    browser.close().await;
}

async fn the_articles_resend_steps_work_with_javascript(backend: Backend) {
    resend_steps(backend, true).await;
}

async fn the_articles_resend_steps_work_without_javascript(backend: Backend) {
    resend_steps(backend, false).await;
}

pub(crate) async fn sign_in(
    browser: &Browser,
    app: &helpers::TestApp,
    username: &str,
    password: &str,
) {
    browser.open(&app.url("/login")).await;
    browser.fill("Username", username).await;
    browser.fill("Password", password).await;
    browser.click_button("Sign In").await;
}

async fn an_administrator_clones_a_profile_and_assigns_it_to_a_new_user(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("Welcome, Ada").await;

    browser.click_css("a[aria-label='Setup']").await;
    browser.wait_for_text("Users and Control").await;
    browser.click_link("Profiles").await;
    browser.click_css("a[aria-label='Clone Standard']").await;
    browser.wait_for_text("Clone Standard").await;
    browser.fill("Profile Name", "Dispatcher").await;
    browser.check("View Setup").await;
    browser.check("Manage Users").await;
    browser.click_button("Save").await;
    browser.wait_for_text("Profile Dispatcher created.").await;

    browser.click_css("a[aria-label='Setup']").await;
    browser.wait_for_text("Users and Control").await;
    browser.click_link("Users").await;
    browser.click_link("New User").await;
    browser
        .wait_for_text("Not sure which Profile and Role to assign?")
        .await;
    browser.fill("First Name", "Grace").await;
    browser.fill("Last Name", "Hopper").await;
    browser.fill("Email", "grace@example.com").await;
    browser.select("Profile", "Dispatcher").await;
    browser.select("Role", "Manager").await;
    browser.click_button("Save").await;
    browser
        .wait_for_text("Invitation sent to grace@example.com.")
        .await;
    let profile = app
        .text_value("SELECT p.name FROM users u JOIN profiles p ON p.id = u.profile_id WHERE u.email_normalized = $1", "grace@example.com")
        .await;
    assert_eq!(profile.as_deref(), Some("Dispatcher"));
    let permissions = app
        .text_value(
            "SELECT permissions FROM profiles WHERE name = $1",
            "Dispatcher",
        )
        .await;
    assert_eq!(permissions.as_deref(), Some("view_setup manage_users"));
    browser.close().await;
}

async fn new_terms_are_published_and_another_user_agrees_to_them(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Sam", "Standard"),
        "sam",
        "quiet orange bicycle",
    )
    .await;
    app.sign_in_as_admin(&organization).await;
    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("Welcome, Ada").await;

    browser.click_css("a[aria-label='Setup']").await;
    browser.wait_for_text("Users and Control").await;
    browser.click_link("Terms of Service").await;
    browser.click_text("Publish new version").await;
    browser
        .fill(
            "Terms of Service Text",
            "Version two: we keep job photos for seven years.",
        )
        .await;
    browser
        .fill("Summary of Changes", "Job photos are kept for seven years.")
        .await;
    browser.click_button("Publish").await;
    browser.wait_for_text("Version 2 published.").await;
    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;

    sign_in(&browser, &app, "sam", "quiet orange bicycle").await;
    browser
        .wait_for_text("What changed: Job photos are kept for seven years.")
        .await;
    browser
        .wait_for_text("Version two: we keep job photos for seven years.")
        .await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Sam").await;
    let sam = app
        .text_value("SELECT id FROM users WHERE username_normalized = $1", "sam")
        .await
        .unwrap();
    let versions = app.store.terms_acceptances(&sam).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|acceptance| acceptance.version)
            .collect::<Vec<_>>(),
        vec![2]
    );
    browser.close().await;
}

/// A user's page from the Users page: Grace's invitation history, then Sam's sessions ended
/// with "Sign out everywhere", and a password reset link sent to Sam that arrives by email and
/// works, without the administrator ever seeing it.
async fn an_administrator_reads_a_users_history_signs_them_out_everywhere_and_sends_a_reset_link(
    backend: Backend,
) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(smtp) = RealSmtpServer::start().await else {
        return;
    };
    let Some(app) = spawn_app_with_mail(backend, None, Some(smtp.url())).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let saved = helpers::save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    app.deliver_emails().await;
    let sam = app.add_sam(&organization.org_id).await;
    let sams_phone = app.new_client();
    app.sign_in_with(&sams_phone, "sam", helpers::MEMBER_PASSWORD)
        .await;
    app.agree_with(&sams_phone).await;
    let signed_in = |client: reqwest::Client| {
        let url = app.url("/");
        async move {
            let response = client.get(url).send().await.unwrap();
            helpers::location(&response).is_empty()
        }
    };
    assert!(signed_in(sams_phone.clone()).await);

    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("Welcome, Ada").await;
    browser.open(&app.url("/setup/users")).await;
    browser.click_link("Grace Hopper").await;
    browser.wait_for_text("Invitations").await;
    let page = browser.page_text().await;
    for expected in [
        "Unconfirmed",
        "Not chosen yet",
        "by Ada Lovelace",
        "Waiting to be accepted",
        "Sent",
        "User created",
        "Invitation queued",
    ] {
        assert!(
            page.contains(expected),
            "Grace's page shows {expected}: {page}"
        );
    }

    browser.open(&app.url("/setup/users")).await;
    browser.click_link("Sam Standard").await;
    browser.wait_for_text("Sessions").await;
    browser.click_button("Sign out everywhere").await;
    browser
        .wait_for_text("Signed out everywhere: 1 session ended.")
        .await;
    browser.wait_for_text("Not signed in anywhere.").await;
    assert!(
        !signed_in(sams_phone.clone()).await,
        "Sam's phone is signed out"
    );

    browser.click_button("Send password reset link").await;
    browser
        .wait_for_text("A password reset link is on its way to sam@example.com.")
        .await;
    let page = browser.page_text().await;
    assert!(
        !page.contains("/password/reset/"),
        "no link for the administrator"
    );
    app.deliver_emails().await;
    let reset = smtp
        .wait_for(2)
        .await
        .into_iter()
        .find(|email| email.to == "sam@example.com")
        .expect("the reset email arrives");
    assert!(reset.text.contains("Ada Lovelace, an administrator of"));
    let link = reset.link_after("Choose a new password: ");
    browser.open(&app.url(&format!("/setup/users/{sam}"))).await;
    browser.wait_for_text("Password reset emails").await;

    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;
    browser.open(&link).await;
    browser.wait_for_text("Choose a new password").await;
    browser
        .fill("New Password", "granite harbour sunrise")
        .await;
    browser
        .fill("Confirm Password", "granite harbour sunrise")
        .await;
    browser.click_button("Update").await;
    browser.wait_for_text("Your password was changed").await;
    sign_in(&browser, &app, "sam", "granite harbour sunrise").await;
    browser.wait_for_text("Welcome, Sam").await;
    browser.close().await;
}
