use crate::helpers::{
    ADMIN_PASSWORD, Backend, TestApp, location, on_both_databases, spawn_app_with,
};
use onestop_domain::UserStatus;
use std::time::Duration;

on_both_databases!(
    an_administrator_signs_in_agrees_to_the_terms_and_is_welcomed,
    an_email_address_works_in_place_of_the_username,
    wrong_passwords_and_unknown_users_get_the_same_message,
    a_deactivated_user_cannot_sign_in,
    repeated_failures_are_throttled_until_the_window_ends,
    signing_in_replaces_the_session_the_browser_had,
    signing_out_kills_the_old_cookie,
    an_idle_session_expires,
    open_redirect_payloads_land_on_the_homepage,
    after_signing_in_the_visitor_returns_to_the_page_they_asked_for,
);

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|cookie| cookie.contains("onestop_session="))
        .expect("a session cookie is set")
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

async fn get_with_session(app: &TestApp, path: &str, session: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("cookie", format!("onestop_session={session}"))
        .send()
        .await
        .unwrap()
}

async fn an_administrator_signs_in_agrees_to_the_terms_and_is_welcomed(app: TestApp) {
    let organization = app.create_organization().await;

    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/");
    let cookie = session_cookie(&response);
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag over plain HTTP: {cookie}"
    );

    let home = app.get("/").await;
    assert_eq!(
        location(&home),
        "/terms",
        "the Terms come before anything else"
    );
    let agreed = app.agree_to_terms().await;
    assert_eq!(location(&agreed), "/");

    let home = app.get_text("/").await;
    assert!(home.contains("Welcome, <bdi>Ada</bdi>"), "{home}");
    assert!(home.contains("CEO"), "the homepage names the role: {home}");
    assert!(
        home.contains("1Stop Install"),
        "the header shows the account name"
    );
    assert!(
        home.contains("Ada Lovelace"),
        "the header shows the user's name"
    );
    assert!(
        home.contains("aria-label=\"Setup\""),
        "administrators see the gear"
    );
    assert!(home.contains("Sign Out"));

    let setup = app.get_text("/setup").await;
    for section in [
        "Users and Control",
        "Company",
        "Developer Space",
        "Users",
        "Profiles",
        "Roles",
        "Audit Log",
        "API Tokens",
    ] {
        assert!(setup.contains(section), "Setup lists {section}");
    }

    let acceptances = app
        .store
        .terms_acceptances(&organization.admin_id)
        .await
        .unwrap();
    assert_eq!(acceptances.len(), 1);
    assert_eq!(acceptances[0].version, 1);
    assert_eq!(acceptances[0].ip, "127.0.0.1");
    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    assert!(
        actions.contains(&"signed_in".to_owned()) && actions.contains(&"terms_accepted".to_owned()),
        "{actions:?}"
    );
}

async fn an_email_address_works_in_place_of_the_username(app: TestApp) {
    app.create_organization().await;
    let response = app.sign_in("  ADA@Example.com ", ADMIN_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/");
}

async fn wrong_passwords_and_unknown_users_get_the_same_message(app: TestApp) {
    let organization = app.create_organization().await;
    let wrong_password = app.sign_in("ada", "not the right password").await;
    let unknown_user = app.sign_in("nobody", ADMIN_PASSWORD).await;
    for response in [wrong_password, unknown_user] {
        assert_eq!(response.status().as_u16(), 401);
        assert!(
            response
                .headers()
                .get("set-cookie")
                .is_none_or(|cookie| !cookie.to_str().unwrap().contains("onestop_session"))
        );
        let body = response.text().await.unwrap();
        assert!(
            body.contains("The username or password is incorrect."),
            "{body}"
        );
    }
    assert_eq!(app.count("sessions").await, 0);
    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    assert_eq!(
        actions
            .iter()
            .filter(|action| *action == "sign_in_failed")
            .count(),
        1,
        "{actions:?}"
    );
}

async fn a_deactivated_user_cannot_sign_in(app: TestApp) {
    let organization = app.create_organization().await;
    app.store
        .set_user_status(
            &organization.scope,
            &onestop_domain::UserId::parse(&organization.admin_id).unwrap(),
            UserStatus::Deactivated,
        )
        .await
        .unwrap();
    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The username or password is incorrect.")
    );
    assert_eq!(app.count("sessions").await, 0);
}

async fn repeated_failures_are_throttled_until_the_window_ends(app: TestApp) {
    app.create_organization().await;
    for _ in 0..10 {
        assert_eq!(
            app.sign_in("ada", "wrong wrong wrong wrong")
                .await
                .status()
                .as_u16(),
            401
        );
    }
    let blocked = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(
        blocked.status().as_u16(),
        429,
        "even the right password waits while the account is throttled"
    );
    let retry_after: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let body = blocked.text().await.unwrap();
    assert!(
        body.contains("Too many sign-in attempts. Try again in"),
        "{body}"
    );
    assert_eq!(app.count("sessions").await, 0);

    app.clock.advance(Duration::from_secs(15 * 60 + 1));
    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "the real user is not locked out for good"
    );
}

async fn signing_in_replaces_the_session_the_browser_had(app: TestApp) {
    let organization = app.create_organization().await;
    let token = crate::helpers::csrf_token_in(&app.get_text("/login").await);
    let form = [
        ("csrf_token", token.as_str()),
        ("username", "ada"),
        ("password", ADMIN_PASSWORD),
        ("next", ""),
    ];
    let first = cookie_value(&session_cookie(&app.post_form("/login", &form).await));
    // The browser now presents `first`, as it would a session id someone planted in it (with
    // that session's form token, which whoever planted it knows: the anonymous one no longer
    // counts once a session is presented).
    let session_token = crate::helpers::csrf_token_in(&app.get_text("/terms").await);
    let form = [
        ("csrf_token", session_token.as_str()),
        ("username", "ada"),
        ("password", ADMIN_PASSWORD),
        ("next", ""),
    ];
    let second = cookie_value(&session_cookie(&app.post_form("/login", &form).await));
    assert_ne!(first, second, "a fresh session id at every sign-in");
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        1,
        "the presented session was ended"
    );
    assert_eq!(
        location(&get_with_session(&app, "/", &first).await),
        "/login"
    );
}

async fn signing_out_kills_the_old_cookie(app: TestApp) {
    let organization = app.create_organization().await;
    let session = cookie_value(&session_cookie(&app.sign_in("ada", ADMIN_PASSWORD).await));
    app.agree_to_terms().await;
    let home = app.get_text("/").await;
    let token = crate::helpers::csrf_token_in(&home);
    let response = app.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(location(&response), "/login?signed_out=1");
    assert!(
        app.get_text("/login?signed_out=1")
            .await
            .contains("You have signed out.")
    );
    assert_eq!(
        location(&get_with_session(&app, "/", &session).await),
        "/login"
    );
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        0
    );
    assert!(
        app.store
            .audit_actions(&organization.scope)
            .await
            .unwrap()
            .contains(&"signed_out".to_owned())
    );
}

async fn an_idle_session_expires(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    assert_eq!(app.get("/").await.status().as_u16(), 200);
    app.clock.advance(Duration::from_secs(2 * 60 * 60 + 1));
    assert_eq!(location(&app.get("/").await), "/login");
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        0,
        "the expired session is deleted"
    );
}

async fn open_redirect_payloads_land_on_the_homepage(app: TestApp) {
    app.create_organization().await;
    for payload in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "javascript:alert(1)",
    ] {
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = browser
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = crate::helpers::csrf_token_in(&page);
        let response = browser
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", "ada"),
                ("password", ADMIN_PASSWORD),
                ("next", payload),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), "/", "payload {payload}");
    }
}

async fn after_signing_in_the_visitor_returns_to_the_page_they_asked_for(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let home = app.get_text("/").await;
    app.post_form(
        "/logout",
        &[("csrf_token", &crate::helpers::csrf_token_in(&home))],
    )
    .await;

    let response = app.get("/setup").await;
    assert_eq!(location(&response), "/login?next=%2Fsetup");
    let page = app.get_text("/login?next=%2Fsetup").await;
    let token = crate::helpers::csrf_token_in(&page);
    assert_eq!(crate::helpers::hidden_field(&page, "next"), "/setup");
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", "ada"),
                ("password", ADMIN_PASSWORD),
                ("next", "/setup"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/setup");
}

#[tokio::test]
async fn over_https_cookies_are_secure_with_the_host_prefix_and_hsts_is_sent() {
    let app = spawn_app_with(Backend::Sqlite, Some("https://1stop.example.com"))
        .await
        .unwrap();
    app.create_organization().await;
    let page = app.get("/login").await;
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let form_cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        form_cookie.starts_with("__Host-onestop_form="),
        "{form_cookie}"
    );
    let token = crate::helpers::csrf_token_in(&page.text().await.unwrap());
    // The client does not send Secure cookies over plain HTTP, so send the form cookie by hand.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("cookie", format!("__Host-onestop_form={token}"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "ada"),
            ("password", ADMIN_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let cookie = session_cookie(&response);
    assert!(cookie.starts_with("__Host-onestop_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
}
