//! New User, the invitation email through a real SMTP server, and joining.

use crate::helpers::{
    Backend, Organization, TestApp, csrf_token_in, location, on_both_backends, on_both_databases,
    spawn_app_with_mail,
};
pub use crate::helpers::{option_value, save_new_user};
use crate::smtp::RealSmtpServer;
use std::time::Duration;

on_both_databases!(
    new_user_save_creates_an_unconfirmed_user_and_queues_the_invitation,
    invalid_new_user_input_names_each_field_and_writes_nothing,
    an_email_already_used_anywhere_is_refused,
    the_join_link_leads_through_update_and_terms_to_the_role_homepage,
    a_client_without_cookies_gets_the_cookie_message_and_the_invitation_still_works,
    scanner_visits_consume_nothing,
    a_used_link_says_already_accepted_and_a_replayed_post_changes_nothing,
    the_invitation_works_one_second_before_expiry_and_not_one_second_after,
    unknown_and_tampered_links_get_the_same_generic_page,
    a_user_signed_in_as_someone_else_cannot_accept,
    a_forged_join_from_another_users_browser_changes_nothing,
    a_taken_username_is_refused_and_the_invitation_stays_valid,
    weak_passwords_are_refused_with_the_reason,
    fifty_parallel_submissions_make_exactly_one_account,
    extra_fields_posted_to_join_are_ignored,
    the_first_steps_checklist_keeps_each_users_progress,
    guessing_join_links_is_throttled_with_retry_after,
);

on_both_backends!(links_use_the_configured_public_url_whatever_the_host_header_says);

pub const GRACE_PASSWORD: &str = "seven green lanterns glow";

/// Signs in as the administrator and invites Grace Hopper (Standard, Manager); returns her link.
pub async fn invite_grace(app: &TestApp) -> (Organization, String) {
    let organization = app.create_organization().await;
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
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    (
        organization,
        queued_join_link(app, "grace@example.com").await,
    )
}

/// The Join Now link of the last email queued for `recipient`.
pub async fn queued_join_link(app: &TestApp, recipient: &str) -> String {
    let emails = app.emails_to(recipient).await;
    emails
        .last()
        .and_then(|email| email.action_url.clone())
        .expect("an email with a link is queued")
}

/// A new browser follows the link to the form: returns it and the form page.
pub async fn open_join_link(app: &TestApp, link: &str) -> (reqwest::Client, String) {
    let browser = app.new_client();
    let response = browser.get(link).send().await.unwrap();
    assert_eq!(
        location(&response),
        "/join",
        "the token leaves the address at once"
    );
    assert_no_referrer(&response, "the Join Now link");
    let response = browser.get(app.url("/join")).send().await.unwrap();
    assert_no_referrer(&response, "the join form");
    let page = response.text().await.unwrap();
    (browser, page)
}

/// Pages of one-time links never pass the link on as a Referer.
pub fn assert_no_referrer(response: &reqwest::Response, what: &str) {
    assert_eq!(
        response
            .headers()
            .get("referrer-policy")
            .map(|value| value.to_str().unwrap()),
        Some("no-referrer"),
        "{what}: {} {}",
        response.status(),
        response.url()
    );
}

pub async fn submit_join(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(app.url("/join"))
        .header("origin", &app.address)
        .form(&[
            ("csrf_token", csrf_token_in(page).as_str()),
            ("username", username),
            ("password", password),
            ("password_confirmation", password),
        ])
        .send()
        .await
        .unwrap()
}

async fn user_status(app: &TestApp, email: &str) -> String {
    app.text_value(
        "SELECT status FROM users WHERE email_normalized = $1",
        email,
    )
    .await
    .unwrap_or_default()
}

async fn new_user_save_creates_an_unconfirmed_user_and_queues_the_invitation(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let users = app.get_text("/setup/users").await;
    assert!(users.contains("New User"));
    let form = app.get_text("/setup/users/new").await;
    for label in [
        "First Name",
        "Last Name",
        "Email",
        "Profile",
        "Role",
        "Save",
        "Cancel",
        "Not sure which Profile and Role to assign? Read",
    ] {
        assert!(form.contains(label), "New User has {label:?}");
    }
    assert!(form.contains("href=\"/help/profiles-and-roles\">Profiles and Roles</a>"));

    let response = save_new_user(
        &app,
        "Grace",
        "Hopper",
        "Grace@Example.com",
        "Standard",
        "Manager",
    )
    .await;
    let target = location(&response);
    assert!(target.starts_with("/setup/users?invited="), "{target}");
    let page = app.get_text(&target).await;
    assert!(
        page.contains(
            "Invitation sent to Grace@Example.com. The email is queued and goes out as soon as the mail server accepts it."
        ),
        "{page}"
    );
    assert!(page.contains("Grace Hopper") && page.contains("Unconfirmed"));

    assert_eq!(user_status(&app, "grace@example.com").await, "unconfirmed");
    assert!(
        app.text_value(
            "SELECT password_hash FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .is_none()
    );
    let emails = app.emails_to("Grace@Example.com").await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].state, "queued");
    assert_eq!(
        emails[0].subject,
        "You are invited to join 1Stop Install's 1Stop Install account."
    );
    let invitations = app
        .number_value("SELECT COUNT(*) FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email_normalized = $1", "grace@example.com")
        .await;
    assert_eq!(invitations, 1);
    let link = emails[0].action_url.clone().unwrap();
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM invitations WHERE token_hash = $1",
            token
        )
        .await,
        0,
        "only the hash is stored"
    );
    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    assert!(
        actions.contains(&"invitation_queued".to_owned()),
        "{actions:?}"
    );
}

async fn invalid_new_user_input_names_each_field_and_writes_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let users_before = app.count("users").await;
    let response = save_new_user(
        &app,
        "<b>Grace</b>",
        "",
        "grace@@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("Enter the last name."), "{page}");
    assert!(page.contains("Enter one email address, like name@example.com, with a single @."));
    assert!(
        page.contains("value=\"&#60;b&#62;Grace&#60;/b&#62;\""),
        "typed values come back, escaped"
    );
    assert!(page.contains("Nothing was saved."));
    assert_eq!(app.count("users").await, users_before);
    assert_eq!(app.count("outbox").await, 0);
    assert_eq!(app.count("invitations").await, 0);
}

async fn an_email_already_used_anywhere_is_refused(app: TestApp) {
    let organization = app.create_organization().await;
    app.create_organization_named("Other Co", "otheradmin", "boss@other.example")
        .await;
    app.sign_in_as_admin(&organization).await;
    for email in [" ADA@example.com", "Boss@Other.example"] {
        let response = save_new_user(&app, "Someone", "Else", email, "Standard", "Manager").await;
        assert_eq!(
            response.status().as_u16(),
            409,
            "a conflict with a user who exists"
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("A user with this email address already exists; use another address.")
        );
    }
    assert_eq!(app.count("invitations").await, 0);

    // Edit User, fixing an Unconfirmed user's address to one that is taken: 409 as well, while
    // another mistake on the same form stays 422.
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
    let grace = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .unwrap();
    let form = app.get_text(&format!("/setup/users/{grace}/edit")).await;
    let edit = |email: &'static str, last_name: &'static str| {
        let fields = vec![
            ("csrf_token", csrf_token_in(&form)),
            ("first_name", "Grace".to_owned()),
            ("last_name", last_name.to_owned()),
            ("email", email.to_owned()),
            ("profile_id", option_value(&form, "Standard")),
            ("role_id", option_value(&form, "Manager")),
        ];
        let request = app
            .client
            .post(app.url(&format!("/setup/users/{grace}/edit")))
            .header("origin", &app.address)
            .form(&fields);
        async move { request.send().await.unwrap() }
    };
    let taken = edit(" Boss@Other.example", "Hopper").await;
    assert_eq!(taken.status().as_u16(), 409);
    let page = taken.text().await.unwrap();
    assert!(
        page.contains("A user with this email address already exists; use another address.")
            && page.contains("Edit User"),
        "{page}"
    );
    let mistyped = edit("grace.hopper@example.com", "").await;
    assert_eq!(
        mistyped.status().as_u16(),
        422,
        "a typing mistake is not a conflict"
    );
    assert_eq!(
        app.text_value("SELECT email FROM users WHERE id = $1", &grace)
            .await
            .as_deref(),
        Some("grace@example.com"),
        "nothing was changed"
    );
    assert_eq!(app.count("invitations").await, 1);
}

async fn the_join_link_leads_through_update_and_terms_to_the_role_homepage(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    assert!(
        link.starts_with(&format!("{}/join/", app.address)),
        "{link}"
    );
    let (browser, page) = open_join_link(&app, &link).await;
    assert!(
        page.contains("<bdi>1Stop Install</bdi>'s <bdi>1Stop Install</bdi> account"),
        "the page names the company and account"
    );
    assert!(
        page.contains("value=\"grace@example.com\" readonly"),
        "the invited email is shown read-only"
    );
    for label in [
        "Username",
        "Password",
        "Confirm Password",
        "Update",
        "At least 15 characters",
    ] {
        assert!(page.contains(label), "{label}");
    }
    let response = submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await;
    assert_eq!(location(&response), "/");
    let home = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(location(&home), "/terms");
    let agreed = app.agree_with(&browser).await;
    assert_eq!(location(&agreed), "/");
    let home = browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Welcome, <bdi>Grace</bdi>"), "{home}");
    assert!(home.contains("Manager") && home.contains("Your installations and your team"));
    assert!(home.contains("Your First Steps after Logging In"));

    assert_eq!(user_status(&app, "grace@example.com").await, "active");
    assert_eq!(
        app.text_value(
            "SELECT username FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .as_deref(),
        Some("grace")
    );
    assert_eq!(
        app.count("sessions").await,
        2,
        "the administrator's and Grace's"
    );
    // Grace can sign in again later with what she chose.
    let again = app.new_client();
    assert_eq!(
        location(&app.sign_in_with(&again, "grace", GRACE_PASSWORD).await),
        "/"
    );
}

async fn a_client_without_cookies_gets_the_cookie_message_and_the_invitation_still_works(
    app: TestApp,
) {
    let (_, link) = invite_grace(&app).await;
    let no_cookies = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap();
    let page = no_cookies
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Cookie is disabled in your browser. Please enable the Cookie to continue."),
        "{page}"
    );
    assert!(page.contains("another browser"), "it says what to do");
    assert!(
        !page.contains("Confirm Password"),
        "no form before cookies work"
    );

    let (browser, page) = open_join_link(&app, &link).await;
    assert!(
        !page.contains("Cookie is disabled"),
        "with cookies the message never shows"
    );
    assert_eq!(
        location(&submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await),
        "/"
    );
}

async fn scanner_visits_consume_nothing(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let scanner = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            scanner.head(&link).send().await.unwrap().status().as_u16(),
            303
        );
        assert_eq!(
            scanner.get(&link).send().await.unwrap().status().as_u16(),
            303
        );
    }
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM invitations WHERE consumed_at IS NOT NULL AND org_id <> $1",
            ""
        )
        .await,
        0
    );
    assert_eq!(user_status(&app, "grace@example.com").await, "unconfirmed");
    let (browser, page) = open_join_link(&app, &link).await;
    assert_eq!(
        location(&submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await),
        "/"
    );
}

async fn a_used_link_says_already_accepted_and_a_replayed_post_changes_nothing(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    // Two browsers open the link; the first joins.
    let (first, first_page) = open_join_link(&app, &link).await;
    let (second, second_page) = open_join_link(&app, &link).await;
    assert_eq!(
        location(&submit_join(&app, &first, &first_page, "grace", GRACE_PASSWORD).await),
        "/"
    );
    let hash_before = app
        .text_value(
            "SELECT password_hash FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await;

    let page = app
        .new_client()
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("This invitation has already been accepted."),
        "{page}"
    );
    assert!(page.contains("href=\"/login\">Sign In</a>"));

    // The second browser still holds the link and the form: its POST changes nothing.
    let replay = submit_join(
        &app,
        &second,
        &second_page,
        "grace2",
        "another long passphrase here",
    )
    .await;
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("This invitation has already been accepted.")
    );
    assert_eq!(
        app.text_value(
            "SELECT username FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .as_deref(),
        Some("grace")
    );
    assert_eq!(
        app.text_value(
            "SELECT password_hash FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await,
        hash_before
    );
    assert_eq!(app.count("sessions").await, 2, "no session for the replay");
}

async fn the_invitation_works_one_second_before_expiry_and_not_one_second_after(app: TestApp) {
    let (_, grace_link) = invite_grace(&app).await;
    let response = save_new_user(
        &app,
        "Alan",
        "Turing",
        "alan@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let alan_link = queued_join_link(&app, "alan@example.com").await;
    let (browser, page) = open_join_link(&app, &alan_link).await;

    let week = Duration::from_secs(7 * 24 * 60 * 60);
    app.clock.advance(week - Duration::from_secs(1));
    assert_eq!(
        location(&submit_join(&app, &browser, &page, "alan", GRACE_PASSWORD).await),
        "/",
        "one second before expiry"
    );

    app.clock.advance(Duration::from_secs(2));
    let response = app.new_client().get(&grace_link).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 410);
    let page = response.text().await.unwrap();
    assert!(page.contains("This invitation has expired."), "{page}");
    assert!(
        page.contains("Ada Lovelace invited you"),
        "it says who invited them: {page}"
    );
    assert_eq!(user_status(&app, "grace@example.com").await, "unconfirmed");
}

async fn unknown_and_tampered_links_get_the_same_generic_page(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let token = link.rsplit('/').next().unwrap().to_owned();
    let mut flipped = token.clone().into_bytes();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    let cases = [
        String::from_utf8(flipped).unwrap(),
        token[..40].to_owned(),
        format!("{token}="),
        "x".repeat(10_000),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
    ];
    for bad in cases {
        let response = app
            .new_client()
            .get(app.url(&format!("/join/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "{bad}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("This invitation link is not valid.")
        );
    }
    assert_eq!(user_status(&app, "grace@example.com").await, "unconfirmed");
}

async fn a_user_signed_in_as_someone_else_cannot_accept(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    // The administrator's own browser opens Grace's link.
    let page = app.get_text(&link.replacen(&app.address, "", 1)).await;
    assert!(
        page.contains("You are signed in as Ada Lovelace. Sign out to accept this invitation."),
        "{page}"
    );
    assert!(page.contains(">Sign Out</button>"));
    assert_eq!(user_status(&app, "grace@example.com").await, "unconfirmed");
    // Sign Out on that page leads straight on to the join form.
    let response = app
        .post_form(
            "/logout",
            &[("csrf_token", &csrf_token_in(&page)), ("next", "/join")],
        )
        .await;
    assert_eq!(location(&response), "/join");
    let form = app.get_text("/join").await;
    assert!(
        form.contains("Confirm Password") && form.contains("value=\"grace@example.com\" readonly"),
        "{form}"
    );
}

/// Ada's browser opened Grace's link (so it holds Grace's join cookie); a forged POST /join from
/// it, with Ada's own form token or with the anonymous one, and the same POST with a cookie
/// header made by hand, change nothing at all.
async fn a_forged_join_from_another_users_browser_changes_nothing(app: TestApp) {
    use crate::helpers::{Scope, Snapshot, assert_unchanged, cookie_value};
    let (organization, link) = invite_grace(&app).await;
    let token = link.rsplit('/').next().unwrap().to_owned();
    // Ada, who has agreed to the Terms already, in a browser whose cookies the test can read.
    let (ada, jar) = app.client_with_jar();
    assert_eq!(
        location(
            &app.sign_in_with(&ada, "ada", crate::helpers::ADMIN_PASSWORD)
                .await
        ),
        "/"
    );
    let opened = ada.get(&link).send().await.unwrap();
    assert_eq!(opened.status().as_u16(), 409);
    let page = opened.text().await.unwrap();
    assert!(
        page.contains("You are signed in as Ada Lovelace."),
        "{page}"
    );
    let cookies = app.cookie_header(&jar);
    assert_eq!(
        cookie_value(&cookies, "onestop_join").as_deref(),
        Some(token.as_str()),
        "Ada's browser holds Grace's link"
    );
    let ada_token = csrf_token_in(&page);
    // The token the browser's form cookie holds, which counted before Ada signed in.
    let anonymous_token = cookie_value(&cookies, "onestop_form").expect("a form cookie");

    let ada_row = "SELECT username || ' ' || password_hash FROM users WHERE id = $1";
    let ada_before = app.text_value(ada_row, &organization.admin_id).await;
    let ada_sessions = app
        .store
        .session_count(&organization.admin_id)
        .await
        .unwrap();
    let snapshot = Snapshot::plan(&app, Scope::Everything).await;
    let before = snapshot.take(&app).await;
    let fields = |csrf_token: &str| {
        vec![
            ("csrf_token", csrf_token.to_owned()),
            ("username", "mallory".to_owned()),
            ("password", GRACE_PASSWORD.to_owned()),
            ("password_confirmation", GRACE_PASSWORD.to_owned()),
        ]
    };
    for (what, csrf_token, status, says) in [
        (
            "Ada's form token",
            &ada_token,
            409,
            "You are signed in as Ada Lovelace.",
        ),
        (
            "the anonymous form token",
            &anonymous_token,
            403,
            "This form has expired",
        ),
    ] {
        let response = ada
            .post(app.url("/join"))
            .header("origin", &app.address)
            .form(&fields(csrf_token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        let body = response.text().await.unwrap();
        assert!(body.contains(says), "{what}: {body}");
        assert_unchanged(
            &before,
            &snapshot.take(&app).await,
            &format!("a forged join with {what}"),
        );
    }
    // The same, with the cookie header written by hand.
    let forger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let session = cookie_value(&cookies, "onestop_session").unwrap();
    let response = forger
        .post(app.url("/join"))
        .header("origin", &app.address)
        .header(
            "cookie",
            format!("onestop_session={session}; onestop_join={token}"),
        )
        .form(&fields(&ada_token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);
    assert_unchanged(
        &before,
        &snapshot.take(&app).await,
        "a hand-made forged join",
    );

    assert_eq!(user_status(&app, "grace@example.com").await, "unconfirmed");
    assert_eq!(
        app.text_value(ada_row, &organization.admin_id).await,
        ada_before
    );
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        ada_sessions
    );
    // Grace's own browser still joins with the link.
    let (browser, form) = open_join_link(&app, &link).await;
    assert_eq!(
        location(&submit_join(&app, &browser, &form, "grace", GRACE_PASSWORD).await),
        "/"
    );
}

async fn a_taken_username_is_refused_and_the_invitation_stays_valid(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let (browser, page) = open_join_link(&app, &link).await;
    let response = submit_join(&app, &browser, &page, "ADA", GRACE_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This username is taken; choose another.")
    );
    assert_eq!(user_status(&app, "grace@example.com").await, "unconfirmed");
    assert_eq!(
        location(&submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await),
        "/"
    );
}

async fn weak_passwords_are_refused_with_the_reason(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let (browser, page) = open_join_link(&app, &link).await;
    for (password, reason) in [
        (
            "fourteen chars",
            "Use at least 15 characters; this password has 14.",
        ),
        (
            "passwordpassword",
            "This password is one of the most common passwords",
        ),
        (
            "hopper rocks the whole fleet",
            "This password contains your last name",
        ),
        // Past the rules above, the strength estimator (zxcvbn) says why.
        (
            "asdfghjklqwerty1",
            "This password is too easy to guess. This is similar to a commonly used password.",
        ),
    ] {
        let response = submit_join(&app, &browser, &page, "grace", password).await;
        assert_eq!(response.status().as_u16(), 422);
        let text = response.text().await.unwrap();
        assert!(text.contains(reason), "{password}: {text}");
    }
    let mismatch = browser
        .post(app.url("/join"))
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("username", "grace"),
            ("password", GRACE_PASSWORD),
            ("password_confirmation", "something else entirely"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("The passwords do not match.")
    );
    assert_eq!(user_status(&app, "grace@example.com").await, "unconfirmed");
}

async fn fifty_parallel_submissions_make_exactly_one_account(app: TestApp) {
    let (organization, link) = invite_grace(&app).await;
    let mut browsers = Vec::new();
    for _ in 0..50 {
        browsers.push(open_join_link(&app, &link).await);
    }
    let submissions =
        browsers.iter().enumerate().map(|(index, (browser, page))| {
            let app = &app;
            async move {
                submit_join(app, browser, page, &format!("grace{index}"), GRACE_PASSWORD).await
            }
        });
    let responses = futures::future::join_all(submissions).await;
    let winners = responses
        .iter()
        .filter(|response| location(response) == "/")
        .count();
    assert_eq!(winners, 1, "exactly one submission joins");
    assert_eq!(
        app.number_value("SELECT COUNT(*) FROM users WHERE status = $1", "active")
            .await,
        2
    );
    let grace_id = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .unwrap();
    assert_eq!(
        app.store.session_count(&grace_id).await.unwrap(),
        1,
        "one session"
    );
    let joined = app
        .store
        .audit_actions(&organization.scope)
        .await
        .unwrap()
        .iter()
        .filter(|action| *action == "joined")
        .count();
    assert_eq!(joined, 1, "one audit event");
}

async fn extra_fields_posted_to_join_are_ignored(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let (browser, page) = open_join_link(&app, &link).await;
    let response = browser
        .post(app.url("/join"))
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("username", "grace"),
            ("password", GRACE_PASSWORD),
            ("password_confirmation", GRACE_PASSWORD),
            ("status", "deactivated"),
            ("profile_id", "administrator"),
            ("email", "evil@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/");
    assert_eq!(user_status(&app, "grace@example.com").await, "active");
    assert_eq!(
        app.text_value("SELECT p.name FROM users u JOIN profiles p ON p.id = u.profile_id WHERE u.email_normalized = $1", "grace@example.com").await.as_deref(),
        Some("Standard")
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM users WHERE email_normalized = $1",
            "evil@example.com"
        )
        .await,
        0
    );
}

async fn the_first_steps_checklist_keeps_each_users_progress(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let home = app.get_text("/").await;
    assert!(home.contains("0 of 3 done"), "{home}");
    assert!(home.contains("Invite your team"));
    let item = crate::helpers::hidden_field(&home, "item_id");
    let response = app
        .post_form(
            "/first-steps",
            &[
                ("csrf_token", &csrf_token_in(&home)),
                ("item_id", &item),
                ("done", "1"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/#first-steps");
    let home = app.get_text("/").await;
    assert!(home.contains("1 of 3 done"), "{home}");
    assert!(home.contains("Mark not done"));
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM checklist_progress WHERE user_id = $1",
            &organization.admin_id
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_invitation_arrives_through_a_real_smtp_server_with_both_parts() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(smtp) = RealSmtpServer::start().await else {
            return;
        };
        let Some(app) = spawn_app_with_mail(backend, None, Some(smtp.url())).await else {
            continue;
        };
        let (_, _) = invite_grace(&app).await;
        assert_eq!(app.deliver_emails().await, 1);
        let messages = smtp.wait_for(1).await;
        assert_eq!(messages.len(), 1, "{backend:?}");
        let email = &messages[0];
        assert_eq!(
            email.subject,
            "You are invited to join 1Stop Install's 1Stop Install account."
        );
        assert_eq!(email.to, "grace@example.com");
        assert_eq!(email.from, "no-reply@1stop.example.com");
        assert!(email.has_message_id && email.has_date);
        assert!(
            email.text.contains(
                "Ada Lovelace has invited you to join 1Stop Install's 1Stop Install account"
            ),
            "{}",
            email.text
        );
        assert!(email.text.contains("This invitation expires on"));
        assert!(email.text.contains("If you did not expect this invitation"));
        assert!(email.html.contains(">Join Now</a>"), "{}", email.html);
        let link = email.join_link();
        assert!(email.html.contains(&link));
        assert!(!email.html.contains("<img"), "no tracking pixels");

        let sent = app.emails_to("grace@example.com").await;
        assert_eq!(sent[0].state, "sent");
        assert!(
            sent[0].body_text.is_empty()
                && sent[0].body_html.is_empty()
                && sent[0].action_url.is_none(),
            "the token is wiped once sent"
        );

        let (browser, page) = open_join_link(&app, &link).await;
        assert_eq!(
            location(&submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await),
            "/"
        );
        let agreed = app.agree_with(&browser).await;
        assert_eq!(location(&agreed), "/");
        let home = browser
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            home.contains("Welcome, <bdi>Grace</bdi>") && home.contains("Manager"),
            "{home}"
        );
    }
}

/// A request whose `Host`, `X-Forwarded-Host` and `Forwarded` name another site (with an Origin
/// to match) still yields links to the configured public URL: the invitation of New User and the
/// link of "Forgot password?".
async fn links_use_the_configured_public_url_whatever_the_host_header_says(backend: Backend) {
    const PUBLIC_URL: &str = "http://1stop.example.test";
    let Some(app) = crate::helpers::spawn_app_with(backend, Some(PUBLIC_URL)).await else {
        return;
    };
    let forged = |request: reqwest::RequestBuilder| {
        request
            .header("host", "evil.example")
            .header("origin", "http://evil.example")
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "https")
            .header("forwarded", "host=evil.example;proto=https")
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let form = app.get_text("/setup/users/new").await;
    let response = forged(app.client.post(app.url("/setup/users/new")))
        .form(&[
            ("csrf_token", csrf_token_in(&form)),
            ("first_name", "Grace".into()),
            ("last_name", "Hopper".into()),
            ("email", "grace@example.com".into()),
            ("profile_id", option_value(&form, "Standard")),
            ("role_id", option_value(&form, "Manager")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303, "{backend:?}");
    let link = queued_join_link(&app, "grace@example.com").await;
    assert!(
        link.starts_with(&format!("{PUBLIC_URL}/join/")),
        "{backend:?}: {link}"
    );

    let visitor = app.new_client();
    let form = forged(visitor.get(app.url("/password/forgot")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = forged(visitor.post(app.url("/password/forgot")))
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("username", "ada"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{backend:?}");
    app.background_work_done().await;
    let emails = app.emails_to("ada@example.com").await;
    assert_eq!(emails.len(), 1, "{backend:?}: the reset email is queued");
    let link = emails[0].action_url.clone().unwrap();
    assert!(
        link.starts_with(&format!("{PUBLIC_URL}/password/reset/")),
        "{backend:?}: {link}"
    );
    for email in app
        .emails_to("grace@example.com")
        .await
        .iter()
        .chain(&emails)
    {
        assert!(
            !email.body_text.contains("evil") && !email.body_html.contains("evil"),
            "{backend:?}: no part of the email names the forged host"
        );
    }
}

async fn guessing_join_links_is_throttled_with_retry_after(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let guesser = app.new_client();
    for attempt in 0..30 {
        let guess = format!(
            "{}/join/{}",
            app.address,
            onestop_domain::SecretToken::generate().expose()
        );
        let response = guesser.get(&guess).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "guess {attempt}");
    }
    let blocked = guesser.get(&link).send().await.unwrap();
    assert_eq!(
        blocked.status().as_u16(),
        429,
        "even a real link waits while the address is throttled"
    );
    let retry_after: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    assert!(
        blocked
            .text()
            .await
            .unwrap()
            .contains("Too many invalid links were opened from your network")
    );
    app.clock.advance(Duration::from_secs(15 * 60 + 1));
    let (browser, page) = open_join_link(&app, &link).await;
    assert_eq!(
        location(&submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await),
        "/"
    );
}
