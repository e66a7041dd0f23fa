//! Time zones: every reader sees times in their own zone with its abbreviation, relative where
//! people expect it; the company's zone (Company Details) is the default and the zone invitation
//! emails state their expiry in; join offers a zone and stores it; My Account changes it.

use crate::helpers::{
    MEMBER_PASSWORD, TestApp, csrf_token_in, location, on_both_databases, save_new_user,
};
use crate::invitations::{open_join_link, queued_join_link};
use std::time::Duration;

on_both_databases!(
    readers_in_tokyo_and_los_angeles_see_the_same_invitation_at_their_local_times,
    company_details_set_the_company_zone_and_the_invitation_states_its_expiry_in_it,
    joining_offers_the_company_zone_and_stores_the_zone_chosen,
    my_account_shows_the_account_and_changes_its_time_zone,
);

/// A browser signed in as `username`, past the Terms.
async fn signed_in(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let browser = app.new_client();
    let response = app.sign_in_with(&browser, username, password).await;
    assert_eq!(response.status().as_u16(), 303, "{username} signs in");
    assert_eq!(location(&app.agree_with(&browser).await), "/");
    browser
}

async fn get(app: &TestApp, browser: &reqwest::Client, path: &str) -> reqwest::Response {
    browser.get(app.url(path)).send().await.unwrap()
}

/// Chooses `zone` on My Account.
async fn choose_time_zone(
    app: &TestApp,
    browser: &reqwest::Client,
    zone: &str,
) -> reqwest::Response {
    let page = get(app, browser, "/account").await.text().await.unwrap();
    browser
        .post(app.url("/account"))
        .header("origin", &app.address)
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("time_zone", zone),
        ])
        .send()
        .await
        .unwrap()
}

async fn user_time_zone(app: &TestApp, username: &str) -> Option<String> {
    app.text_value(
        "SELECT time_zone FROM users WHERE username_normalized = $1",
        username,
    )
    .await
}

async fn readers_in_tokyo_and_los_angeles_see_the_same_invitation_at_their_local_times(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.add_active_user(
        &organization.org_id,
        "administrator",
        "ceo",
        ("Linus", "Pauling"),
        "linus",
        MEMBER_PASSWORD,
    )
    .await;
    app.sign_in_as_admin(&organization).await;
    let ada = app.client.clone();
    let linus = signed_in(&app, "linus", MEMBER_PASSWORD).await;
    assert_eq!(
        location(&choose_time_zone(&app, &ada, "Asia/Tokyo").await),
        "/account?saved=1"
    );
    assert_eq!(
        location(&choose_time_zone(&app, &linus, "America/Los_Angeles").await),
        "/account?saved=1"
    );

    // Ada invites Grace at 2026-11-27 04:00 UTC; the invitation lives 7 days. Ninety minutes later:
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
    app.clock.advance(Duration::from_secs(90 * 60));

    for (browser, invited, expires) in [
        (&ada, "2026-11-27 13:00 JST", "2026-12-04 13:00 JST"),
        (&linus, "2026-11-26 20:00 PST", "2026-12-03 20:00 PST"),
    ] {
        let page = get(&app, browser, "/setup/users?view=unconfirmed")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!(
                "Invited <time datetime=\"2026-11-27T04:00:00Z\" title=\"{invited}\">1 hour ago</time> by Ada Lovelace"
            )),
            "{invited}: {page}"
        );
        assert!(
            page.contains(&format!(
                "Expires <time datetime=\"2026-12-04T04:00:00Z\" title=\"{expires}\">in 6 days</time>"
            )),
            "{expires}: {page}"
        );
        assert!(!page.contains(" UTC"), "no UTC time is left on the page");
    }

    // The Audit Log too.
    let log = get(&app, &linus, "/setup/audit")
        .await
        .text()
        .await
        .unwrap();
    assert!(log.contains(">2026-11-26 20:00 PST</time>"), "{log}");
}

async fn company_details_set_the_company_zone_and_the_invitation_states_its_expiry_in_it(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let form = app.get_text("/setup/company").await;
    assert!(
        form.contains("<option value=\"UTC\" selected>UTC</option>"),
        "existing companies are in UTC: {form}"
    );
    let token = csrf_token_in(&form);
    let details = |zone: &'static str| {
        [
            ("csrf_token", token.clone()),
            ("company_name", "Hopper Heating".to_owned()),
            ("account_name", "Field Team".to_owned()),
            ("invitation_lifetime_hours", "168".to_owned()),
            ("time_zone", zone.to_owned()),
        ]
    };
    let post = |fields: [(&'static str, String); 5]| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            app.post_form("/setup/company", &fields).await
        }
    };

    let refused = post(details("Atlantis/Lost_City")).await;
    assert_eq!(refused.status().as_u16(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("is not a time zone we know; choose one from the list"),
        "{page}"
    );
    assert_eq!(
        app.text_value(
            "SELECT company_name || ' ' || time_zone FROM organizations WHERE id = $1",
            &organization.org_id
        )
        .await
        .unwrap(),
        "1Stop Install UTC",
        "nothing was saved"
    );

    let saved = post(details("Asia/Tokyo")).await;
    assert!(
        saved
            .text()
            .await
            .unwrap()
            .contains("Company details saved.")
    );
    let form = app.get_text("/setup/company").await;
    assert!(
        form.contains("<option value=\"Asia/Tokyo\" selected>"),
        "{form}"
    );

    save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    let email = &app.emails_to("grace@example.com").await[0];
    assert!(
        email
            .body_text
            .contains("This invitation expires on 2026-12-04 13:00 JST."),
        "{}",
        email.body_text
    );
    assert!(
        email.body_html.contains("expires on 2026-12-04 13:00 JST."),
        "{}",
        email.body_html
    );
    // Ada never chose a zone: she follows the company's.
    let users = app.get_text("/setup/users?view=unconfirmed").await;
    assert!(users.contains("title=\"2026-11-27 13:00 JST\""), "{users}");
}

async fn joining_offers_the_company_zone_and_stores_the_zone_chosen(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    app.execute(&format!(
        "UPDATE organizations SET time_zone = 'Europe/Berlin' WHERE id = '{}'",
        organization.org_id
    ))
    .await;
    save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    let link = queued_join_link(&app, "grace@example.com").await;
    let (browser, page) = open_join_link(&app, &link).await;
    assert!(
        page.contains("<option value=\"Europe/Berlin\" selected>Europe/Berlin</option>"),
        "without JavaScript the company's zone is chosen: {page}"
    );
    assert!(
        page.contains("<script src=\"/static/time_zone_guess.js\"></script>"),
        "the browser's own zone is offered by a script: {page}"
    );
    let script = app.get_text("/static/time_zone_guess.js").await;
    assert!(script.contains("Intl.DateTimeFormat().resolvedOptions().timeZone"));

    let submit = |page: String, zone: &'static str| {
        let app = &app;
        let browser = &browser;
        async move {
            browser
                .post(app.url("/join"))
                .header("origin", &app.address)
                .form(&[
                    ("csrf_token", csrf_token_in(&page).as_str()),
                    ("username", "grace"),
                    ("password", "copper meadow lantern"),
                    ("password_confirmation", "copper meadow lantern"),
                    ("time_zone", zone),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let refused = submit(page, "Mars/Olympus_Mons").await;
    assert_eq!(refused.status().as_u16(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("is not a time zone we know"),
        "the field says what is wrong: {page}"
    );
    assert_eq!(
        app.text_value(
            "SELECT status FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .unwrap(),
        "unconfirmed",
        "nothing was saved"
    );

    let joined = submit(page, "America/Los_Angeles").await;
    assert_eq!(location(&joined), "/");
    assert_eq!(
        user_time_zone(&app, "grace").await.as_deref(),
        Some("America/Los_Angeles")
    );
}

async fn my_account_shows_the_account_and_changes_its_time_zone(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let home = app.get_text("/").await;
    assert!(
        home.contains("<a href=\"/account\">My Account</a>"),
        "the header links My Account: {home}"
    );
    let page = app.get_text("/account").await;
    for shown in [
        "<h1>My Account</h1>",
        "<dd><bdi>Ada Lovelace</bdi></dd>",
        "<dd>ada@example.com</dd>",
        "<dt>Username</dt><dd>ada</dd>",
        "<dd>Administrator</dd>",
        "<dd>CEO</dd>",
        "<option value=\"UTC\" selected>UTC</option>",
        "You follow your company's zone, UTC, until you choose one.",
        ">2026-11-27 04:00 UTC</time>",
    ] {
        assert!(page.contains(shown), "My Account shows {shown:?}: {page}");
    }

    let refused = choose_time_zone(&app, &app.client, "Nowhere/Special").await;
    assert_eq!(refused.status().as_u16(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("\"Nowhere/Special\" is not a time zone we know")
            || page.contains("&#34;Nowhere/Special&#34; is not a time zone we know"),
        "{page}"
    );
    assert_eq!(user_time_zone(&app, "ada").await, None, "nothing was saved");

    let saved = choose_time_zone(&app, &app.client, "asia/tokyo").await;
    assert_eq!(location(&saved), "/account?saved=1");
    assert_eq!(
        user_time_zone(&app, "ada").await.as_deref(),
        Some("Asia/Tokyo")
    );
    let page = app.get_text("/account?saved=1").await;
    assert!(page.contains("Your time zone is saved."), "{page}");
    assert!(
        page.contains("<option value=\"Asia/Tokyo\" selected>"),
        "{page}"
    );
    assert!(page.contains(">2026-11-27 13:00 JST</time>"), "{page}");
    assert!(!page.contains("You follow your company's zone"), "{page}");
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'user_updated' \
               AND details = 'time zone set to Asia/Tokyo' AND actor_user_id = $1",
            &organization.admin_id,
        )
        .await,
        1
    );
}
