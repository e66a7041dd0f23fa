//! The JSON API under /api/v1: the Users page's work done by a script with a token. Each test
//! checks what an administrator would: the person invited got the email, the audit trail says
//! so, a refused request wrote nothing, another company's users stay invisible.

use crate::helpers::{Organization, Scope, Snapshot, TestApp, assert_unchanged, on_both_databases};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

on_both_databases!(
    creating_a_user_invites_them_as_new_user_does,
    a_token_without_manage_users_is_refused_and_writes_nothing,
    a_token_of_one_company_never_sees_or_touches_another_s_users,
    a_retry_with_the_same_idempotency_key_invites_nobody_again,
    two_requests_with_one_key_at_once_invite_once,
    paging_with_cursors_lists_every_user_once_in_the_page_s_order,
    bad_input_is_a_problem_document_naming_each_field,
    only_unconfirmed_users_can_be_deleted,
    edits_and_status_changes_go_through_the_users_page_rules,
    reinvite_answers_for_each_user,
    profiles_and_roles_say_which_the_token_may_assign,
    the_audit_log_is_read_by_cursor_and_filtered,
);

/// A request with `token` and, if given, a JSON body; the status, headers and JSON answer.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = app.with_token(method, path, token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON from {path}: {text}"))
    };
    (status, headers, value)
}

/// The body of a new user with the Standard profile and the Manager role.
pub async fn new_user(app: &TestApp, organization: &Organization, email: &str) -> Value {
    json!({
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": email,
        "profile_id": app.profile_id(&organization.org_id, "Standard").await,
        "role_id": app.role_id(&organization.org_id, "Manager").await,
    })
}

/// Invites `email` through the API; the new user's id.
pub async fn invite(
    app: &TestApp,
    organization: &Organization,
    token: &str,
    email: &str,
) -> String {
    let body = new_user(app, organization, email).await;
    let (status, _, user) = call(app, Method::POST, "/api/v1/users", token, Some(body)).await;
    assert_eq!(status, 201, "{user}");
    user["id"].as_str().unwrap().to_owned()
}

fn field_messages(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| {
                    (
                        error["field"].as_str().unwrap().to_owned(),
                        error["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn creating_a_user_invites_them_as_new_user_does(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &["manage_users"]).await;
    let mut body = new_user(&app, &organization, "grace@example.com").await;
    body["personal_message"] = json!("Welcome aboard!");

    let (status, headers, user) =
        call(&app, Method::POST, "/api/v1/users", &token, Some(body)).await;

    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap();
    assert_eq!(headers["location"], format!("/api/v1/users/{id}").as_str());
    assert_eq!(user["status"], "unconfirmed");
    assert_eq!(user["email"], "grace@example.com");
    assert_eq!(user["profile"]["name"], "Standard");
    assert_eq!(user["role"]["name"], "Manager");
    // The person gets the invitation, with the message and a Join Now link.
    let emails = app.emails_to("grace@example.com").await;
    assert_eq!(emails.len(), 1);
    assert!(
        emails[0].body_text.contains("Welcome aboard!"),
        "{}",
        emails[0].body_text
    );
    assert!(emails[0].action_url.as_deref().unwrap().contains("/join/"));
    // The audit trail names the token's creator as the inviter.
    let invited = app
        .text_values(&format!(
            "SELECT actor_user_id FROM audit_events WHERE action = 'user_created' AND target_user_id = '{id}'"
        ))
        .await;
    assert_eq!(invited, vec![organization.admin_id.clone()]);
    let (status, _, again) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!((status, &again), (StatusCode::OK, &user));
}

async fn a_token_without_manage_users_is_refused_and_writes_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    let grace = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            "quiet orange bicycle",
        )
        .await;
    let token = app.api_token(&organization, &["view_audit_log"]).await;
    let snapshot = Snapshot::plan(&app, Scope::Everything).await;
    let except_token_use = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|row| {
                !row.starts_with("api_tokens: ") && !row.contains("action=api_token_used")
            })
            .collect()
    };
    let before = except_token_use(snapshot.take(&app).await);

    let body = new_user(&app, &organization, "grace2@example.com").await;
    let attempts = [
        (Method::POST, "/api/v1/users".to_owned(), Some(body)),
        (
            Method::PATCH,
            format!("/api/v1/users/{grace}"),
            Some(json!({"last_name": "X"})),
        ),
        (
            Method::POST,
            format!("/api/v1/users/{grace}/deactivate"),
            None,
        ),
        (Method::DELETE, format!("/api/v1/users/{grace}"), None),
        (
            Method::POST,
            "/api/v1/users/reinvite".to_owned(),
            Some(json!({"user_ids": [grace]})),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, headers, problem) = call(&app, method.clone(), &path, &token, body).await;
        assert_eq!(status, 403, "{method} {path}: {problem}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert!(
            problem["detail"].as_str().unwrap().contains("Manage Users"),
            "{problem}"
        );
    }

    let after = except_token_use(snapshot.take(&app).await);
    assert_unchanged(&before, &after, "requests refused for their scope");
    assert!(app.emails_to("grace2@example.com").await.is_empty());
}

async fn a_token_of_one_company_never_sees_or_touches_another_s_users(app: TestApp) {
    let first = app.create_organization().await;
    let second = app
        .create_organization_named("Other Company", "otto", "otto@example.com")
        .await;
    let first_token = app.api_token(&first, &[]).await;
    let second_token = app.api_token(&second, &[]).await;
    let theirs = invite(&app, &first, &first_token, "theirs@example.com").await;

    let (status, _, list) = call(
        &app,
        Method::GET,
        "/api/v1/users?limit=200",
        &second_token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let emails: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, vec!["otto@example.com"]);

    let snapshot = Snapshot::plan(&app, Scope::Organization(&first.org_id)).await;
    let before = snapshot.take(&app).await;
    let unknown = "01900000-0000-7000-8000-00000000abcd";
    for id in [theirs.as_str(), unknown, "not-an-id"] {
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/users/{id}"), None),
            (
                Method::PATCH,
                format!("/api/v1/users/{id}"),
                Some(json!({"last_name": "Taken"})),
            ),
            (Method::POST, format!("/api/v1/users/{id}/deactivate"), None),
            (Method::POST, format!("/api/v1/users/{id}/activate"), None),
            (Method::DELETE, format!("/api/v1/users/{id}"), None),
        ] {
            let (status, _, problem) = call(&app, method.clone(), &path, &second_token, body).await;
            assert_eq!(status, 404, "{method} {path}: {problem}");
            assert_eq!(
                problem["detail"],
                "There is nothing at this address in your company. Check the id."
            );
        }
    }
    app.clock.advance(Duration::from_secs(120));
    let (status, _, outcome) = call(
        &app,
        Method::POST,
        "/api/v1/users/reinvite",
        &second_token,
        Some(json!({"user_ids": [theirs]})),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["results"][0]["result"], "not_found");
    assert_eq!(outcome["reinvited"], 0);
    assert_unchanged(
        &before,
        &snapshot.take(&app).await,
        "another company's token",
    );
}

async fn a_retry_with_the_same_idempotency_key_invites_nobody_again(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let body = new_user(&app, &organization, "grace@example.com").await;
    let send = |body: Value, key: &'static str| {
        app.with_token(Method::POST, "/api/v1/users", &token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };

    let first = send(body.clone(), "create-grace-1").await.unwrap();
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    let first_body: Value = first.json().await.unwrap();
    let retry = send(body.clone(), "create-grace-1").await.unwrap();

    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["location"], location);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap(), first_body);
    assert_eq!(app.emails_to("grace@example.com").await.len(), 1);
    assert_eq!(
        app.number("SELECT COUNT(*) FROM users WHERE email = 'grace@example.com'")
            .await,
        1
    );

    // The same key with another request is refused, naming the header.
    let mut other = body.clone();
    other["email"] = json!("someone.else@example.com");
    let refused = send(other.clone(), "create-grace-1").await.unwrap();
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(
        field_messages(&problem)[0].0,
        "Idempotency-Key",
        "{problem}"
    );
    assert!(app.emails_to("someone.else@example.com").await.is_empty());

    // A failed request's answer is kept too: the retry does not run it again.
    let mut invalid = body.clone();
    invalid["email"] = json!("not an address");
    let failed = send(invalid.clone(), "bad-1").await.unwrap();
    assert_eq!(failed.status(), 422);
    let replayed = send(invalid, "bad-1").await.unwrap();
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");

    // After 24 hours the key is forgotten and may name a new request.
    app.clock.advance(Duration::from_secs(24 * 60 * 60 + 1));
    let later = send(other, "create-grace-1").await.unwrap();
    assert_eq!(later.status(), 201);
    assert!(later.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.emails_to("someone.else@example.com").await.len(), 1);

    // A key that cannot be one is refused before anything runs.
    let bad_key = app
        .with_token(Method::POST, "/api/v1/users", &token)
        .header("Idempotency-Key", "two words")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), 400);
}

async fn two_requests_with_one_key_at_once_invite_once(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let body = new_user(&app, &organization, "grace@example.com").await;
    let send = || {
        app.with_token(Method::POST, "/api/v1/users", &token)
            .header("Idempotency-Key", "simultaneous")
            .json(&body)
            .send()
    };

    let answers = futures::future::join_all((0..6).map(|_| send())).await;

    let mut statuses: Vec<u16> = answers
        .into_iter()
        .map(|answer| answer.unwrap().status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert!(statuses.contains(&201), "{statuses:?}");
    assert!(
        statuses.iter().all(|status| [201, 409].contains(status)),
        "{statuses:?}"
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM users WHERE email = 'grace@example.com'")
            .await,
        1
    );
    assert_eq!(app.emails_to("grace@example.com").await.len(), 1);
}

async fn list_ids(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("/api/v1/users?{query}");
    let mut pages = 0;
    loop {
        let (status, _, page) = call(app, Method::GET, &path, token, None).await;
        assert_eq!(status, 200, "{path}: {page}");
        pages += 1;
        for user in page["users"].as_array().unwrap() {
            ids.push(user["last_name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/users?{query}&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 50, "paging ends");
    }
    ids
}

async fn paging_with_cursors_lists_every_user_once_in_the_page_s_order(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let standard = app.profile_id(&organization.org_id, "Standard").await;
    let manager = app.role_id(&organization.org_id, "Manager").await;
    // Twelve invited (in reverse name order, so creation order is not name order).
    for index in (0..12).rev() {
        let body = json!({
            "last_name": format!("Name{index:02}"),
            "email": format!("person{index}@example.com"),
            "profile_id": standard,
            "role_id": manager,
        });
        let (status, _, answer) =
            call(&app, Method::POST, "/api/v1/users", &token, Some(body)).await;
        assert_eq!(status, 201, "{answer}");
        app.clock.advance(Duration::from_secs(1));
    }

    let by_name = list_ids(&app, &token, "limit=5").await;
    let mut expected: Vec<String> = (0..12).map(|index| format!("Name{index:02}")).collect();
    expected.insert(0, "Lovelace".to_owned());
    expected.sort();
    assert_eq!(by_name, expected);

    let newest_first = list_ids(
        &app,
        &token,
        "view=unconfirmed&sort=invited&direction=desc&limit=5",
    )
    .await;
    let expected: Vec<String> = (0..12).map(|index| format!("Name{index:02}")).collect();
    assert_eq!(
        newest_first, expected,
        "the last invited (Name00) comes first"
    );

    let searched = list_ids(&app, &token, "q=name1&limit=1").await;
    assert_eq!(searched, vec!["Name10", "Name11"]);

    // A cursor belongs to its order.
    let (_, _, page) = call(&app, Method::GET, "/api/v1/users?limit=2", &token, None).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, _, problem) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users?limit=2&sort=invited&cursor={cursor}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(field_messages(&problem)[0].0, "cursor");
}

async fn bad_input_is_a_problem_document_naming_each_field(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let users_before = app.count("users").await;
    let post = |body: &'static str, content_type: &'static str| {
        app.with_token(Method::POST, "/api/v1/users", &token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let (status, _, problem) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        &token,
        Some(
            json!({"last_name": "", "email": "not an address", "profile_id": "x", "role_id": "y"}),
        ),
    )
    .await;
    assert_eq!(status, 422);
    let fields = field_messages(&problem);
    let named: Vec<&str> = fields.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(
        named,
        vec!["email", "last_name", "profile_id", "role_id"],
        "{problem}"
    );
    // The messages are New User's.
    assert!(fields.contains(&(
        "profile_id".to_owned(),
        "Choose a profile from the list.".to_owned()
    )));

    for (body, field) in [
        (
            r#"{"last_name": 5, "email": "a@example.com", "profile_id": "p", "role_id": "r"}"#,
            "last_name",
        ),
        (
            r#"{"last_name": "A", "email": "a@example.com", "profile_id": "p", "role_id": "r", "admin": true}"#,
            "admin",
        ),
        (
            r#"{"last_name": "A", "profile_id": "p", "role_id": "r"}"#,
            "email",
        ),
    ] {
        let answer = post(body, "application/json").await.unwrap();
        assert_eq!(answer.status(), 422, "{body}");
        assert_eq!(answer.headers()["content-type"], "application/problem+json");
        let problem: Value = answer.json().await.unwrap();
        assert_eq!(field_messages(&problem)[0].0, field, "{problem}");
    }
    assert_eq!(
        post("{\"last_name\": ", "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        post("last_name=A", "application/x-www-form-urlencoded")
            .await
            .unwrap()
            .status(),
        415
    );

    for (query, parameter) in [
        ("view=everyone", "view"),
        ("sort=age", "sort"),
        ("direction=up", "direction"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("cursor=abc", "cursor"),
        ("profile_id=nope", "profile_id"),
    ] {
        let (status, _, problem) = call(
            &app,
            Method::GET,
            &format!("/api/v1/users?{query}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert_eq!(field_messages(&problem)[0].0, parameter, "{query}");
    }

    let (status, headers, problem) =
        call(&app, Method::GET, "/api/v1/nothing-here", &token, None).await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(problem["status"], 404);
    assert_eq!(
        app.count("users").await,
        users_before,
        "nothing was written"
    );
}

async fn only_unconfirmed_users_can_be_deleted(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let grace = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            "quiet orange bicycle",
        )
        .await;
    let invited = invite(&app, &organization, &token, "new@example.com").await;

    let (status, _, problem) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{grace}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 409);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("Only Unconfirmed users can be deleted"),
        "{detail}"
    );
    assert!(detail.contains("deactivate"), "{detail}");
    assert_eq!(
        app.number(&format!("SELECT COUNT(*) FROM users WHERE id = '{grace}'"))
            .await,
        1
    );

    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{invited}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        app.number(&format!(
            "SELECT COUNT(*) FROM users WHERE id = '{invited}'"
        ))
        .await,
        0
    );
    let (status, _, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{invited}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn edits_and_status_changes_go_through_the_users_page_rules(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let grace = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            "quiet orange bicycle",
        )
        .await;
    let path = format!("/api/v1/users/{grace}");

    let (status, _, user) = call(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({"first_name": "Amazing Grace"})),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(
        (user["first_name"].as_str(), user["last_name"].as_str()),
        (Some("Amazing Grace"), Some("Hopper"))
    );
    let (status, _, problem) = call(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({"email": "new@example.com"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(field_messages(&problem)[0].0, "email");
    let (status, _, problem) = call(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({"last_name": ""})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(field_messages(&problem)[0].0, "last_name");

    let (status, _, user) = call(
        &app,
        Method::POST,
        &format!("{path}/deactivate"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        (status, user["status"].as_str()),
        (StatusCode::OK, Some("deactivated"))
    );
    let (status, _, problem) = call(
        &app,
        Method::POST,
        &format!("{path}/deactivate"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("already deactivated"),
        "{problem}"
    );
    let (status, _, user) = call(
        &app,
        Method::POST,
        &format!("{path}/activate"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        (status, user["status"].as_str()),
        (StatusCode::OK, Some("active"))
    );

    // The token's creator cannot deactivate themselves, as on the page.
    let (status, _, problem) = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{}/deactivate", organization.admin_id),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("cannot deactivate yourself"),
        "{problem}"
    );
    let actions = app
        .text_values(&format!(
            "SELECT action FROM audit_events WHERE target_user_id = '{grace}' ORDER BY at, id"
        ))
        .await;
    assert!(
        actions.contains(&"user_deactivated".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"user_activated".to_owned()),
        "{actions:?}"
    );
}

async fn reinvite_answers_for_each_user(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let invited = invite(&app, &organization, &token, "new@example.com").await;
    let grace = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            "quiet orange bicycle",
        )
        .await;
    let unknown = "01900000-0000-7000-8000-00000000abcd";
    app.clock.advance(Duration::from_secs(120));

    let (status, _, outcome) = call(
        &app,
        Method::POST,
        "/api/v1/users/reinvite",
        &token,
        Some(json!({"user_ids": [invited, grace, unknown, invited], "personal_message": "Second try"})),
    )
    .await;

    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["reinvited"], 1);
    let results = outcome["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "one per distinct id: {outcome}");
    assert_eq!(
        (
            results[0]["user_id"].as_str(),
            results[0]["result"].as_str()
        ),
        (Some(invited.as_str()), Some("reinvited"))
    );
    assert_eq!(results[1]["result"], "skipped");
    assert_eq!(results[1]["reason"], "Grace Hopper has already joined");
    assert_eq!(results[2]["result"], "not_found");
    let emails = app.emails_to("new@example.com").await;
    assert!(emails.last().unwrap().body_text.contains("Second try"));
    assert_eq!(
        app.number(&format!(
            "SELECT COUNT(*) FROM invitations WHERE user_id = '{invited}'"
        ))
        .await,
        2
    );

    let (status, _, problem) = call(
        &app,
        Method::POST,
        "/api/v1/users/reinvite",
        &token,
        Some(json!({"user_ids": []})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(field_messages(&problem)[0].0, "user_ids");
}

async fn profiles_and_roles_say_which_the_token_may_assign(app: TestApp) {
    let organization = app.create_organization().await;
    // A user who may manage users but is no administrator: the Administrator profile is not theirs to give.
    let (_, manager) = app
        .add_user_with_profile(
            &organization.org_id,
            "User Managers",
            &[
                onestop_domain::Permission::ViewSetup,
                onestop_domain::Permission::ManageUsers,
            ],
            "ceo",
            ("Grace", "Hopper"),
            "grace",
        )
        .await;
    let token = app.api_token_of(&organization.org_id, &manager, &[]).await;

    let (status, _, profiles) = call(&app, Method::GET, "/api/v1/profiles", &token, None).await;
    assert_eq!(status, 200, "{profiles}");
    let assignable = |name: &str| {
        profiles["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|profile| profile["name"] == name)
            .map(|profile| profile["assignable"].as_bool().unwrap())
    };
    assert_eq!(assignable("Administrator"), Some(false));
    assert_eq!(assignable("User Managers"), Some(true));

    let (status, _, roles) = call(&app, Method::GET, "/api/v1/roles", &token, None).await;
    assert_eq!(status, 200, "{roles}");
    let role = |name: &str| {
        roles["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|role| role["name"] == name)
            .cloned()
            .unwrap()
    };
    // The roles below the creator's own are theirs to give.
    assert_eq!(role("Manager")["assignable"], true);
    assert_eq!(role("Manager")["parent_id"], role("CEO")["id"]);
}

async fn the_audit_log_is_read_by_cursor_and_filtered(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    for index in 0..3 {
        invite(
            &app,
            &organization,
            &token,
            &format!("person{index}@example.com"),
        )
        .await;
        app.clock.advance(Duration::from_secs(1));
    }

    let mut targets = Vec::new();
    let mut path = "/api/v1/audit-events?action=user_created&limit=2".to_owned();
    loop {
        let (status, _, page) = call(&app, Method::GET, &path, &token, None).await;
        assert_eq!(status, 200, "{page}");
        for event in page["events"].as_array().unwrap() {
            assert_eq!(event["action"], "user_created");
            targets.push(format!(
                "{} by {}",
                event["target"]["id"].as_str().unwrap(),
                event["actor"]["id"].as_str().unwrap_or("nobody")
            ));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/audit-events?action=user_created&limit=2&cursor={cursor}")
            }
            None => break,
        }
    }
    let newest_first = app
        .text_values(
            "SELECT target_user_id || ' by ' || COALESCE(actor_user_id, 'nobody') FROM audit_events \
             WHERE action = 'user_created' ORDER BY at DESC, id DESC",
        )
        .await;
    // The three invited by the token's creator, then the administrator created with the company.
    assert_eq!(targets.len(), 4);
    assert_eq!(targets, newest_first);
    assert!(targets[0].ends_with(&format!(" by {}", organization.admin_id)));

    for (query, parameter) in [
        ("from=2026-13-01", "from"),
        ("action=coffee", "action"),
        ("person=x", "person"),
    ] {
        let (status, _, problem) = call(
            &app,
            Method::GET,
            &format!("/api/v1/audit-events?{query}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(field_messages(&problem)[0].0, parameter);
    }
    let (status, _, page) = call(
        &app,
        Method::GET,
        "/api/v1/audit-events?from=2000-01-01&to=2000-01-02",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["events"], json!([]));
}
