//! "Forgot password?" from the sign-in page.

use crate::helpers::{ADMIN_PASSWORD, TestApp, csrf_token_in, location, on_both_databases};
use crate::invitations::{assert_no_referrer, save_new_user};
use std::time::Duration;

on_both_databases!(
    an_active_user_resets_their_password_and_every_old_session_ends,
    everyone_gets_the_same_answer_and_only_active_users_get_an_email,
    a_reset_link_expires_after_an_hour,
    a_newer_reset_link_replaces_the_older_one,
    an_account_gets_at_most_three_reset_emails_an_hour,
    deactivation_kills_an_outstanding_reset_link,
);

pub const NEW_PASSWORD: &str = "granite harbour sunrise";
const ANSWER: &str =
    "If an active account matches, a link to choose a new password is on its way by email.";

pub async fn ask_for_reset(app: &TestApp, login: &str) -> String {
    let browser = app.new_client();
    let page = browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("href=\"/password/forgot\">Forgot password?</a>"));
    let form = browser
        .get(app.url("/password/forgot"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    browser
        .post(app.url("/password/forgot"))
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("username", login),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Follows a reset link to its form: the browser and the form page.
pub async fn open_reset_link(app: &TestApp, link: &str) -> (reqwest::Client, String) {
    let browser = app.new_client();
    let response = browser.get(link).send().await.unwrap();
    assert_eq!(
        location(&response),
        "/password/reset",
        "the token leaves the address at once"
    );
    assert_no_referrer(&response, "the reset link");
    let response = browser
        .get(app.url("/password/reset"))
        .send()
        .await
        .unwrap();
    assert_no_referrer(&response, "the reset form");
    let page = response.text().await.unwrap();
    (browser, page)
}

pub async fn choose(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(app.url("/password/reset"))
        .form(&[
            ("csrf_token", csrf_token_in(page).as_str()),
            ("password", password),
            ("password_confirmation", password),
        ])
        .send()
        .await
        .unwrap()
}

/// The link of the newest reset email to `email`, once the background requests are done, when
/// there are `count` reset emails.
pub async fn reset_link_number(app: &TestApp, email: &str, count: usize) -> String {
    app.background_work_done().await;
    let emails: Vec<_> = app
        .emails_to(email)
        .await
        .into_iter()
        .filter(|email| email.subject.starts_with("Reset your 1Stop password"))
        .collect();
    assert_eq!(emails.len(), count, "reset emails in the outbox");
    let email = emails.last().expect("a reset email");
    assert_eq!(
        email.subject,
        "Reset your 1Stop password for the 1Stop Install account"
    );
    email.action_url.clone().expect("with its link")
}

pub async fn reset_link(app: &TestApp, email: &str) -> String {
    reset_link_number(app, email, 1).await
}

async fn an_active_user_resets_their_password_and_every_old_session_ends(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    assert!(ask_for_reset(&app, "ADA").await.contains(ANSWER));
    let link = reset_link(&app, "ada@example.com").await;
    assert!(link.starts_with(&format!("{}/password/reset/", app.address)));

    app.execute(&format!(
        "INSERT INTO remembered_browsers (token_hash, user_id, created_at, expires_at) \
         VALUES ('remembered', '{}', 0, 9999999999999)",
        organization.admin_id
    ))
    .await;
    let (browser, page) = open_reset_link(&app, &link).await;
    assert!(page.contains("For the account <strong>ada</strong>") && page.contains("New Password"));
    let weak = choose(&app, &browser, &page, "lovelace forever and ever").await;
    assert_eq!(weak.status().as_u16(), 422);
    assert!(
        weak.text()
            .await
            .unwrap()
            .contains("This password contains your last name")
    );
    let done = choose(&app, &browser, &page, NEW_PASSWORD).await;
    assert_eq!(location(&done), "/login?password_changed=1");

    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        0,
        "every old session ended"
    );
    assert_eq!(
        app.count("remembered_browsers").await,
        0,
        "a browser remembered after a second step is asked again"
    );
    assert_eq!(location(&app.get("/").await), "/login");
    assert_eq!(
        app.sign_in_with(&app.new_client(), "ada", ADMIN_PASSWORD)
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        location(
            &app.sign_in_with(&app.new_client(), "ada", NEW_PASSWORD)
                .await
        ),
        "/"
    );
    let again = app.new_client().get(&link).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 404, "the link works once");
    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    assert!(
        actions.contains(&"password_reset_requested".to_owned())
            && actions.contains(&"password_reset".to_owned())
    );
}

async fn everyone_gets_the_same_answer_and_only_active_users_get_an_email(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    let linus = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Linus", "Torvalds"),
            "linus",
            "quiet orange bicycle",
        )
        .await;
    app.store
        .set_user_status(
            &organization.scope,
            &onestop_domain::UserId::parse(&linus).unwrap(),
            onestop_domain::UserStatus::Deactivated,
        )
        .await
        .unwrap();
    let outbox_before = app.count("outbox").await;
    for login in ["nobody", "nobody@example.com", "grace@example.com", "linus"] {
        assert!(ask_for_reset(&app, login).await.contains(ANSWER), "{login}");
    }
    app.background_work_done().await;
    assert_eq!(
        app.count("outbox").await,
        outbox_before,
        "no email for unknown, unconfirmed or deactivated accounts"
    );
    assert_eq!(app.count("password_resets").await, 0);
}

async fn a_reset_link_expires_after_an_hour(app: TestApp) {
    app.create_organization().await;
    ask_for_reset(&app, "ada").await;
    let link = reset_link(&app, "ada@example.com").await;
    app.clock.advance(Duration::from_secs(60 * 60 + 1));
    let response = app.new_client().get(&link).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 410);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This link has expired")
    );
}

async fn a_newer_reset_link_replaces_the_older_one(app: TestApp) {
    app.create_organization().await;
    ask_for_reset(&app, "ada").await;
    let first = reset_link(&app, "ada@example.com").await;
    ask_for_reset(&app, "ada@example.com").await;
    let second = reset_link_number(&app, "ada@example.com", 2).await;
    assert_ne!(first, second);
    assert_eq!(
        app.new_client()
            .get(&first)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let (browser, page) = open_reset_link(&app, &second).await;
    assert_eq!(
        location(&choose(&app, &browser, &page, NEW_PASSWORD).await),
        "/login?password_changed=1"
    );
}

async fn an_account_gets_at_most_three_reset_emails_an_hour(app: TestApp) {
    app.create_organization().await;
    for count in 1..=3 {
        ask_for_reset(&app, "ada").await;
        reset_link_number(&app, "ada@example.com", count).await;
    }
    assert!(
        ask_for_reset(&app, "ada@example.com")
            .await
            .contains(ANSWER),
        "the same answer"
    );
    app.background_work_done().await;
    let resets = app.emails_to("ada@example.com").await.len();
    assert_eq!(resets, 3, "no fourth email within the hour");
}

async fn deactivation_kills_an_outstanding_reset_link(app: TestApp) {
    let organization = app.create_organization().await;
    let linus = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Linus", "Torvalds"),
            "linus",
            "quiet orange bicycle",
        )
        .await;
    ask_for_reset(&app, "linus").await;
    let link = reset_link(&app, "linus@example.com").await;
    app.sign_in_as_admin(&organization).await;
    let page = app.get_text("/setup/users?view=active").await;
    let response = app
        .post_form(
            "/setup/users/bulk",
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("back", "view=active"),
                ("action", "deactivate"),
                ("confirmed", "1"),
                ("ids", &linus),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert!(
        app.get_text(&location(&response))
            .await
            .contains("Deactivated 1 user.")
    );
    let page = app.get_text("/setup/users?view=deactivated").await;
    app.post_form(
        "/setup/users/bulk",
        &[
            ("csrf_token", &csrf_token_in(&page)),
            ("view", "deactivated"),
            ("action", "activate"),
            ("ids", &linus),
        ],
    )
    .await;
    assert_eq!(
        app.new_client()
            .get(&link)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404,
        "the old link stays dead"
    );
}
