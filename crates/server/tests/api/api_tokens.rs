//! API and SCIM tokens: who a token acts as, what it carries, when it stops working, how every
//! use is recorded, the command line that makes one, and the rule every token route keeps.

use crate::helpers::{ADMIN_PASSWORD, BINARY, Scope, Snapshot, TestApp, on_both_databases, scope};
use onestop_domain::{ApiTokenId, Permission, PermissionSet, UserId};
use onestop_server::usecases::api_tokens::{
    CreateTokenError, NewTokenInput, TokenCreator, create_api_token,
};
use onestop_server::web::{Access, route_table};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

on_both_databases!(
    a_token_acts_as_its_creator_and_every_use_is_recorded,
    requests_without_a_valid_api_token_get_a_problem_document,
    revoked_expired_and_deactivated_creators_tokens_stop_working,
    a_token_carries_only_what_its_creator_still_holds,
    nobody_makes_a_token_carrying_a_permission_they_lack,
    the_command_line_prints_a_token_once_and_it_works,
    every_token_route_refuses_what_its_rule_does_not_admit,
);

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let response = app
        .with_token(Method::GET, "/api/v1/me", token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn permissions_of(body: &Value) -> Vec<String> {
    body["token"]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

async fn a_token_acts_as_its_creator_and_every_use_is_recorded(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    assert!(token.starts_with("1stop_") && token.len() == 49, "{token}");

    let (status, body) = me(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["company"], "1Stop Install");
    assert_eq!(permissions_of(&body).len(), Permission::ALL.len());

    // Only the hash is stored; the use is on the token's row and in the audit trail.
    let stored = app
        .text_values("SELECT token_hash || ' ' || COALESCE(last_used_ip, '-') FROM api_tokens")
        .await;
    assert_eq!(
        stored,
        vec![format!(
            "{} 127.0.0.1",
            onestop_domain::ApiTokenSecret::parse(&token)
                .unwrap()
                .hash()
                .as_str()
        )]
    );
    let used = app
        .text_values(
            "SELECT details || ' by ' || actor_user_id FROM audit_events WHERE action = 'api_token_used'",
        )
        .await;
    assert_eq!(
        used,
        vec![format!(
            "API token \"api test token\": GET /api/v1/me by {}",
            organization.admin_id
        )]
    );
    let created = app
        .number("SELECT COUNT(*) FROM audit_events WHERE action = 'api_token_created'")
        .await;
    assert_eq!(created, 1);
}

async fn requests_without_a_valid_api_token_get_a_problem_document(app: TestApp) {
    let organization = app.create_organization().await;
    let scim = app.scim_token(&organization).await;
    app.sign_in_as_admin(&organization).await;

    let anonymous = app
        .new_client()
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["status"], 401);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{body}"
    );

    for garbage in ["garbage", "1stop_short", &"x".repeat(5000)] {
        let (status, body) = me(&app, garbage).await;
        assert_eq!(status, 401, "{garbage}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("not valid"));
    }

    // A signed-in administrator's browser gets nothing from the API: cookies do not count.
    let with_session = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(with_session.status(), 401);

    let (status, body) = me(&app, &scim).await;
    assert_eq!(status, 401);
    assert!(
        body["detail"].as_str().unwrap().contains("/scim/v2"),
        "{body}"
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'api_token_used'")
            .await,
        0,
        "refused requests are not uses"
    );
}

async fn revoked_expired_and_deactivated_creators_tokens_stop_working(app: TestApp) {
    let organization = app.create_organization().await;
    let revoked = app.api_token(&organization, &[]).await;
    let kept = app.api_token(&organization, &[]).await;
    let (manager_profile, manager) = app
        .add_user_with_profile(
            &organization.org_id,
            "Managers",
            &[Permission::ViewSetup, Permission::ManageUsers],
            "manager",
            ("Grace", "Hopper"),
            "grace",
        )
        .await;
    let _ = manager_profile;
    let managers = app.api_token_of(&organization.org_id, &manager, &[]).await;
    for token in [&revoked, &kept, &managers] {
        assert_eq!(me(&app, token).await.0, 200);
    }

    let id = app
        .text_value(
            "SELECT id FROM api_tokens WHERE token_hash = $1",
            onestop_domain::ApiTokenSecret::parse(&revoked)
                .unwrap()
                .hash()
                .as_str(),
        )
        .await
        .unwrap();
    let admin = app
        .store
        .token_creator(&organization.scope, None)
        .await
        .unwrap()
        .unwrap();
    let session = admin_session(&app, &organization, admin.0).await;
    let revoked_now = onestop_server::usecases::api_tokens::revoke_api_token(
        &app.services,
        &session,
        &ApiTokenId::parse(&id).unwrap(),
        None,
    )
    .await
    .unwrap();
    assert!(revoked_now);
    assert_eq!(me(&app, &revoked).await.0, 401, "a revoked token");
    assert_eq!(me(&app, &kept).await.0, 200);

    app.execute(&format!(
        "UPDATE users SET status = 'deactivated' WHERE id = '{manager}'"
    ))
    .await;
    assert_eq!(
        me(&app, &managers).await.0,
        401,
        "a deactivated creator's token"
    );

    app.clock.advance(Duration::from_secs(91 * 24 * 60 * 60));
    assert_eq!(me(&app, &kept).await.0, 401, "an expired token");
}

/// The administrator as a signed-in session, for use cases that take one.
async fn admin_session(
    app: &TestApp,
    organization: &crate::helpers::Organization,
    user_id: UserId,
) -> onestop_server::usecases::sessions::SignedInSession {
    let token = app.api_token(organization, &[]).await;
    let secret = onestop_domain::ApiTokenSecret::parse(&token).unwrap();
    let caller = onestop_server::usecases::api_tokens::authenticate(
        &app.services,
        &secret,
        onestop_domain::ApiTokenKind::Api,
        None,
        "test",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(caller.actor.user_id, user_id);
    caller.actor
}

async fn a_token_carries_only_what_its_creator_still_holds(app: TestApp) {
    let organization = app.create_organization().await;
    let (profile_id, manager) = app
        .add_user_with_profile(
            &organization.org_id,
            "Managers",
            &[
                Permission::ViewSetup,
                Permission::ManageUsers,
                Permission::ViewAuditLog,
            ],
            "manager",
            ("Grace", "Hopper"),
            "grace",
        )
        .await;
    let token = app
        .api_token_of(
            &organization.org_id,
            &manager,
            &["manage_users", "view_audit_log"],
        )
        .await;
    let (_, body) = me(&app, &token).await;
    assert_eq!(permissions_of(&body), ["manage_users", "view_audit_log"]);

    app.execute(&format!(
        "UPDATE profiles SET permissions = 'view_setup manage_users' WHERE id = '{profile_id}'"
    ))
    .await;
    let (status, body) = me(&app, &token).await;
    assert_eq!(status, 200);
    assert_eq!(permissions_of(&body), ["manage_users"]);
}

async fn nobody_makes_a_token_carrying_a_permission_they_lack(app: TestApp) {
    let organization = app.create_organization().await;
    let creator = TokenCreator {
        scope: scope(&organization.org_id),
        user_id: UserId::from_trusted(organization.admin_id.clone()),
        permissions: PermissionSet::empty().with(Permission::ViewAuditLog),
    };
    let cases = [
        (
            NewTokenInput {
                name: "Payroll".to_owned(),
                kind: "api".to_owned(),
                permissions: vec!["manage_users".to_owned()],
                lifetime_days: "30".to_owned(),
            },
            "permissions",
            "You do not hold Manage Users",
        ),
        (
            NewTokenInput {
                name: "Okta".to_owned(),
                kind: "scim".to_owned(),
                permissions: vec![],
                lifetime_days: "30".to_owned(),
            },
            "kind",
            "do not hold Manage Users",
        ),
        (
            NewTokenInput {
                name: "Typo".to_owned(),
                kind: "api".to_owned(),
                permissions: vec!["manage_everything".to_owned()],
                lifetime_days: "30".to_owned(),
            },
            "permissions",
            "Unknown permission \"manage_everything\"",
        ),
        (
            NewTokenInput {
                name: " ".to_owned(),
                kind: "api".to_owned(),
                permissions: vec![],
                lifetime_days: "367".to_owned(),
            },
            "lifetime_days",
            "1 to 366",
        ),
    ];
    for (input, field, message) in cases {
        let Err(CreateTokenError::Invalid(errors)) =
            create_api_token(&app.services, &creator, &input, None).await
        else {
            panic!("{input:?} is refused");
        };
        let said = errors.get(field).unwrap_or_default();
        assert!(said.contains(message), "{field}: {said}");
    }
    assert_eq!(app.count("api_tokens").await, 0, "nothing is written");
}

async fn the_command_line_prints_a_token_once_and_it_works(app: TestApp) {
    let organization = app.create_organization().await;
    let run = |args: &[&str]| {
        std::process::Command::new(BINARY)
            .args(args)
            .env_clear()
            .env("ONESTOP_DATA_DIR", app.data_dir.path())
            .env("ONESTOP_DATABASE_URL", &app.database_url)
            .env("ONESTOP_LOG", "warn")
            .output()
            .expect("the onestop binary runs")
    };
    let output = run(&[
        "api-token",
        "create",
        "--org",
        &organization.org_id,
        "--name",
        "Nightly sync",
        "--permission",
        "manage_users",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.trim();
    assert_eq!(stdout.lines().count(), 1, "the token alone: {stdout}");
    assert!(stderr.contains("carrying manage_users"), "{stderr}");
    let (status, body) = me(&app, token).await;
    assert_eq!(status, 200);
    assert_eq!(body["token"]["name"], "Nightly sync");
    assert_eq!(permissions_of(&body), ["manage_users"]);

    let scim = run(&[
        "api-token",
        "create",
        "--org",
        &organization.org_id,
        "--name",
        "Okta",
        "--scim",
    ]);
    assert!(scim.status.success());
    let scim_token = String::from_utf8(scim.stdout).unwrap();
    assert_eq!(
        me(&app, scim_token.trim()).await.0,
        401,
        "SCIM tokens stay out of the API"
    );

    let refused = run(&[
        "api-token",
        "create",
        "--org",
        &organization.org_id,
        "--name",
        "Bad",
        "--permission",
        "fly",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--permission: Unknown permission \"fly\""),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());
    let elsewhere = run(&[
        "api-token",
        "create",
        "--org",
        "01900000-0000-7000-8000-000000000001",
        "--name",
        "Nowhere",
    ]);
    assert_eq!(elsewhere.status.code(), Some(2));
    assert_eq!(app.count("api_tokens").await, 2);
    let _ = ADMIN_PASSWORD;
}

/// Every route authorized by a token answers 401 without one, with a session cookie instead of
/// one, and with a token of the other kind; 403 to a token without the route's permission; and
/// a refused request changes nothing but the token's record of use.
async fn every_token_route_refuses_what_its_rule_does_not_admit(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let api = app.api_token(&organization, &[]).await;
    let scim = app.scim_token(&organization).await;
    let routes: Vec<_> = route_table()
        .into_iter()
        .filter(|route| route.access.is_token())
        .collect();
    assert!(!routes.is_empty(), "the table has token routes");
    let snapshot = Snapshot::plan(&app, Scope::Everything).await;
    let except_use = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|row| {
                !row.starts_with("api_tokens: ") && !row.contains("action=api_token_used")
            })
            .collect()
    };
    let before = except_use(snapshot.take(&app).await);
    for route in &routes {
        let path = route
            .path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "01900000-0000-7000-8000-00000000abcd"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let what = format!("{} {path}", route.method);
        let send = |request: reqwest::RequestBuilder| async move {
            request
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap()
                .status()
        };
        assert_eq!(
            send(app.new_client().request(method.clone(), app.url(&path))).await,
            401,
            "{what} without a token"
        );
        assert_eq!(
            send(app.client.request(method.clone(), app.url(&path))).await,
            401,
            "{what} with the administrator's session"
        );
        let other_kind = if route.access == Access::ScimToken {
            &api
        } else {
            &scim
        };
        assert_eq!(
            send(app.with_token(method.clone(), &path, other_kind)).await,
            401,
            "{what} with a token of the other kind"
        );
        if let Access::ApiToken(Some(permission)) = route.access {
            let other = Permission::ALL
                .into_iter()
                .find(|other| *other != permission)
                .unwrap();
            let lacking = app.api_token(&organization, &[other.key()]).await;
            assert_eq!(
                send(app.with_token(method.clone(), &path, &lacking)).await,
                403,
                "{what} with a token without {permission:?}"
            );
        }
    }
    let after = except_use(snapshot.take(&app).await);
    let new_tokens: Vec<&String> = after.iter().filter(|row| !before.contains(row)).collect();
    assert!(
        new_tokens
            .iter()
            .all(|row| row.contains("action=api_token_created")),
        "refused requests change nothing: {new_tokens:?}"
    );
}
