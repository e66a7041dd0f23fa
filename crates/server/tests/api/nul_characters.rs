//! The NUL character (U+0000, `%00`, `\u0000`) in any text a request carries. PostgreSQL's text
//! cannot hold it, so it must be refused at the edge with a message naming where it is, on both
//! databases alike: never a 500 from the database, never a partial write.

use crate::helpers::{Organization, TestApp, location, on_both_databases, save_new_user};
use crate::invitations::{GRACE_PASSWORD, open_join_link, submit_join};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(
    a_nul_in_a_query_string_is_refused_naming_the_parameter,
    a_nul_in_a_form_is_refused_naming_the_field_and_writes_nothing,
    a_nul_in_a_json_or_scim_body_is_refused_naming_the_field_and_writes_nothing,
    a_nul_inside_a_cursor_or_a_path_id_is_no_cursor_and_no_id,
);

/// What an administrator would see changed: people, emails queued, audit events (but the
/// record of a token's use, which every request with a token writes).
async fn written(app: &TestApp) -> [i64; 3] {
    [
        app.count("users").await,
        app.count("outbox").await,
        app.number("SELECT COUNT(*) FROM audit_events WHERE action <> 'api_token_used'")
            .await,
    ]
}

async fn signed_in_company(app: &TestApp) -> Organization {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    organization
}

async fn a_nul_in_a_query_string_is_refused_naming_the_parameter(app: TestApp) {
    let organization = signed_in_company(&app).await;
    let token = app.api_token(&organization, &[]).await;
    let scim_token = app.scim_token(&organization).await;

    let response = app
        .with_token(Method::GET, "/api/v1/users?q=%C3%A0X%00&view=all", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 400, "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("`q`") && detail.contains("NUL"),
        "the problem names the parameter and the character: {problem}"
    );

    let response = app
        .with_token(
            Method::GET,
            "/scim/v2/Users?filter=userName%20eq%20%22a%00%22",
            &scim_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["scimType"], "invalidValue", "{error}");
    assert!(
        error["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("filter"),
        "the SCIM error names the parameter: {error}"
    );

    for path in [
        "/setup/users?q=ada%00",
        "/setup/audit?who=%00",
        "/login?next=/%00",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 400, "{path}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("NUL character"),
            "{path}: the page says what is wrong: {page}"
        );
        assert!(!page.contains("sqlx") && !page.contains("SELECT"), "{page}");
    }
    // The same searches without the character work.
    assert_eq!(app.get("/setup/users?q=ada").await.status().as_u16(), 200);
    let response = app
        .with_token(Method::GET, "/api/v1/users?q=ada", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

async fn a_nul_in_a_form_is_refused_naming_the_field_and_writes_nothing(app: TestApp) {
    signed_in_company(&app).await;
    let before = written(&app).await;
    let response = save_new_user(
        &app,
        "Gr\0ace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 400);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("first_name") && page.contains("NUL character"),
        "the page names the field: {page}"
    );
    assert_eq!(written(&app).await, before, "nothing is written");

    // The join form: refused, and the invitation still works.
    let link = app.invite("Grace", "Hopper", "grace@example.com").await;
    let (browser, page) = open_join_link(&app, &link).await;
    let response = submit_join(&app, &browser, &page, "grace\0x", GRACE_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 400);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("username") && text.contains("NUL character"),
        "{text}"
    );
    let response = submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await;
    assert_eq!(location(&response), "/", "the same invitation still works");

    // Before sign-in too: the sign-in form.
    let response = app
        .sign_in_with(&app.new_client(), "ada\0", "whatever it is")
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("username"), "{page}");
}

async fn a_nul_in_a_json_or_scim_body_is_refused_naming_the_field_and_writes_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let scim_token = app.scim_token(&organization).await;
    let before = written(&app).await;

    let response = app
        .with_token(Method::POST, "/api/v1/users", &token)
        .json(&json!({
            "first_name": "Gr\u{0}ace",
            "last_name": "Hopper",
            "email": "grace@example.com",
            "profile_id": app.profile_id(&organization.org_id, "Standard").await,
            "role_id": app.role_id(&organization.org_id, "Manager").await,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "first_name", "{problem}");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("NUL"),
        "{problem}"
    );

    let response = app
        .with_token(Method::POST, "/scim/v2/Users", &scim_token)
        .header("content-type", "application/scim+json")
        .body(
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "grace@example.com",
                "name": {"givenName": "Grace", "familyName": "Hop\u{0}per"},
                "emails": [{"value": "grace@example.com", "primary": true}],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["scimType"], "invalidValue", "{error}");
    assert!(
        error["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("name.familyName"),
        "the SCIM error names the attribute: {error}"
    );
    assert_eq!(written(&app).await, before, "nothing is written");
}

/// A cursor as the API writes them: hex-encoded JSON.
fn cursor_of(position: &Value) -> String {
    position
        .to_string()
        .bytes()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn a_nul_inside_a_cursor_or_a_path_id_is_no_cursor_and_no_id(app: TestApp) {
    let organization = signed_in_company(&app).await;
    let token = app.api_token(&organization, &[]).await;
    let users = cursor_of(&json!({
        "sort": "name", "descending": false, "text": null, "time": null,
        "last_name": "Love\u{0}lace", "id": "x",
    }));
    let events = cursor_of(&json!({"at": 1, "id": "\u{0}"}));
    for (path, parameter) in [
        (format!("/api/v1/users?cursor={users}"), "cursor"),
        (format!("/api/v1/audit-events?cursor={events}"), "cursor"),
    ] {
        let response = app
            .with_token(Method::GET, &path, &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], parameter, "{problem}");
    }
    let response = app.get("/setup/users/import/0192f3a4%00").await;
    assert_eq!(
        response.status().as_u16(),
        404,
        "a malformed id is not found"
    );
}
