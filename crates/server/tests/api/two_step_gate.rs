//! The gates of two-step verification on every route of the router's table: a session that
//! owes its second step opens the second-step page and Sign Out only; a session whose profile
//! requires two-step verification, not yet set up, opens the setup pages and Sign Out only
//! (like the Terms gate, which comes after it).

use crate::helpers::{
    ADMIN_PASSWORD, MEMBER_PASSWORD, Scope, Snapshot, TestApp, assert_unchanged, csrf_token_in,
    location, on_both_databases,
};
use crate::two_step_helpers::{STEP, add_authenticator, get_text, post, require_two_step};
use onestop_server::web::{Access, RouteInfo, route_table};

on_both_databases!(
    a_session_owing_its_second_step_opens_only_the_second_step_page_and_sign_out,
    a_session_owing_the_two_step_setup_opens_only_the_setup_pages_and_sign_out,
);

/// The routes a browser session can reach behind sign-in: signed-in pages and Setup.
fn gated_routes() -> Vec<RouteInfo> {
    route_table()
        .into_iter()
        .filter(|route| matches!(route.access, Access::SignedIn | Access::Setup(_)))
        .collect()
}

/// The path with each parameter replaced by a well-formed value (the gate answers first).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(name) if name.ends_with("_id}") => {
                "0195a7c2-0000-7000-8000-000000000000".to_owned()
            }
            Some("slug}") => "first-steps".to_owned(),
            Some(_) => "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq".to_owned(),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `page?next=path` as the gates write it.
fn with_next(page: &str, path: &str) -> String {
    if path == "/" {
        page.to_owned()
    } else {
        format!("{page}?next={}", path.replace('/', "%2F"))
    }
}

async fn answer(
    app: &TestApp,
    browser: &reqwest::Client,
    route: &RouteInfo,
    token: &str,
) -> (u16, String) {
    let path = concrete(route.path);
    let response = if route.method.as_str() == "GET" {
        browser.get(app.url(&path)).send().await.unwrap()
    } else {
        post(app, browser, &path, &[("csrf_token", token)]).await
    };
    (response.status().as_u16(), location(&response))
}

async fn a_session_owing_its_second_step_opens_only_the_second_step_page_and_sign_out(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let enrolled = add_authenticator(
        &app,
        &app.client,
        "/account/two-step/authenticator",
        "Phone",
    )
    .await;
    assert_eq!(enrolled.status, 200);
    app.clock.advance(STEP);

    let pending = app.new_client();
    let response = app.sign_in_with(&pending, "ada", ADMIN_PASSWORD).await;
    assert_eq!(location(&response), "/login/two-step");
    let page = get_text(&app, &pending, "/login/two-step").await;
    let token = csrf_token_in(&page);
    let snapshot = Snapshot::plan(&app, Scope::Organization(&organization.org_id)).await;
    let before = snapshot.take(&app).await;
    for route in gated_routes() {
        if route.path == "/logout" {
            continue;
        }
        let (status, target) = answer(&app, &pending, &route, &token).await;
        assert_eq!(
            (status, target.as_str()),
            (303, "/login/two-step"),
            "{} {} with a pending session",
            route.method,
            route.path
        );
    }
    assert_unchanged(
        &before,
        &snapshot.take(&app).await,
        "a pending session changes nothing",
    );
    let page = pending
        .get(app.url("/login/two-step"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200, "the second-step page opens");
    // A complete session has nothing to do on the second-step page.
    assert_eq!(location(&app.get("/login/two-step").await), "/login");
    let response = post(&app, &pending, "/logout", &[("csrf_token", &token)]).await;
    assert_eq!(location(&response), "/login?signed_out=1", "Sign Out works");
    assert_eq!(
        location(&pending.get(app.url("/")).send().await.unwrap()),
        "/login"
    );
}

async fn a_session_owing_the_two_step_setup_opens_only_the_setup_pages_and_sign_out(app: TestApp) {
    let organization = app.create_organization().await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Grace", "Hopper"),
        "grace",
        MEMBER_PASSWORD,
    )
    .await;
    require_two_step(&app, &organization.org_id, "Standard").await;
    let grace = app.new_client();
    let response = app.sign_in_with(&grace, "grace", MEMBER_PASSWORD).await;
    assert_eq!(location(&response), "/", "no method yet: no second step");
    let home = grace.get(app.url("/")).send().await.unwrap();
    assert_eq!(
        location(&home),
        "/account/two-step/setup",
        "the setup comes first"
    );
    let setup = get_text(&app, &grace, "/account/two-step/setup").await;
    assert!(
        setup.contains("Your profile requires two-step verification."),
        "{setup}"
    );
    let token = csrf_token_in(&setup);
    let snapshot = Snapshot::plan(&app, Scope::Organization(&organization.org_id)).await;
    let before = snapshot.take(&app).await;
    for route in gated_routes() {
        if route.path == "/logout" {
            continue;
        }
        let (status, target) = answer(&app, &grace, &route, &token).await;
        let what = format!("{} {} owing the setup", route.method, route.path);
        match (route.method.as_str(), route.path) {
            ("GET", "/account/two-step/setup" | "/account/two-step/authenticator") => {
                assert_eq!(status, 200, "{what}");
            }
            // The setup's own form: an empty one is refused for what it lacks.
            ("POST", "/account/two-step/authenticator") => assert_eq!(status, 400, "{what}"),
            // Adding a passkey is part of the setup too; this server's public URL is an IP
            // address, so the options are refused for that (tests/api/passkeys.rs), and a finish
            // without a ceremony is refused for what it lacks.
            ("POST", "/account/two-step/passkeys/options") => assert_eq!(status, 422, "{what}"),
            ("POST", "/account/two-step/passkeys") => assert_eq!(status, 400, "{what}"),
            ("GET", path) => assert_eq!(
                (status, target),
                (303, with_next("/account/two-step/setup", &concrete(path))),
                "{what}"
            ),
            _ => assert_eq!(
                (status, target.as_str()),
                (303, "/account/two-step/setup"),
                "{what}"
            ),
        }
    }
    assert_unchanged(
        &before,
        &snapshot.take(&app).await,
        "a session owing the setup changes nothing",
    );

    // Set up: the recovery codes, then on to the Terms, then the homepage.
    let enrolled = add_authenticator(&app, &grace, "/account/two-step/setup", "Phone").await;
    assert_eq!(enrolled.status, 200);
    assert_eq!(enrolled.recovery_codes.len(), 10);
    assert_eq!(
        location(&grace.get(app.url("/")).send().await.unwrap()),
        "/terms"
    );
    assert_eq!(location(&app.agree_with(&grace).await), "/");
    assert_eq!(
        grace
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}
