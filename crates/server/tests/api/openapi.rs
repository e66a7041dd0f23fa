//! The OpenAPI document at /api/v1/openapi.json: it is OpenAPI 3.1, documents exactly the routes
//! the server has under /api/v1, every reference in it resolves, and real answers of every
//! endpoint (successes and problems) match the schemas it documents for them.

use crate::helpers::{TestApp, on_both_databases};
use crate::json_api::{invite, new_user};
use onestop_server::web::route_table;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

on_both_databases!(
    the_document_is_openapi_3_1_and_documents_every_api_route,
    every_endpoint_answers_as_the_document_says,
);

async fn document(app: &TestApp) -> Value {
    let response = app
        .new_client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.unwrap()
}

/// Every `$ref` in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(reference)) => found.push(reference.clone()),
                    _ => references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

const METHODS: [&str; 5] = ["get", "post", "patch", "put", "delete"];

async fn the_document_is_openapi_3_1_and_documents_every_api_route(app: TestApp) {
    let document = document(&app).await;

    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "1Stop API");
    let scheme = &document["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["scheme"].as_str()),
        (Some("http"), Some("bearer"))
    );

    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let served: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .filter(|route| route.path.starts_with("/api/v1/"))
        .map(|route| (route.method.to_string(), route.path.to_owned()))
        .collect();
    assert_eq!(
        documented, served,
        "the document lists exactly the served routes"
    );

    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(found.len() > 10, "{found:?}");
    for reference in found {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} is local"));
        assert!(document.pointer(pointer).is_some(), "{reference} resolves");
    }

    for (method, path) in &served {
        let operation = &document["paths"][path][method.to_lowercase()];
        let responses = operation["responses"].as_object().unwrap();
        for (status, response) in responses {
            if status != "204" {
                let content = response["content"].as_object();
                assert!(
                    content.is_some_and(|content| content
                        .values()
                        .all(|media| media.get("schema").is_some())),
                    "{method} {path} {status} documents its body's schema"
                );
            }
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    response["content"]
                        .get("application/problem+json")
                        .is_some(),
                    "{method} {path} {status} is a problem document"
                );
            }
        }
        if path != "/api/v1/openapi.json" {
            assert!(
                responses.contains_key("401"),
                "{method} {path} documents 401"
            );
            assert!(
                responses.contains_key("500"),
                "{method} {path} documents 500"
            );
            assert_eq!(
                operation["security"],
                json!([{"bearerAuth": []}]),
                "{method} {path}"
            );
        }
    }
}

/// Checks one real answer against the document: its status is documented for the operation,
/// and its body matches the schema documented for that status and content type.
struct Checker {
    document: Value,
    checked: BTreeSet<(String, String, u16)>,
}

impl Checker {
    fn schema_for(&self, method: &Method, path: &str, status: u16, content_type: &str) -> Value {
        let operation = &self.document["paths"][path][method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{method} {path} is documented");
        let response = &operation["responses"][status.to_string()];
        assert!(response.is_object(), "{method} {path} documents {status}");
        let schema = response["content"][content_type]["schema"].clone();
        assert!(
            !schema.is_null(),
            "{method} {path} {status} documents {content_type}"
        );
        // A standalone JSON Schema: the components become its $defs.
        let mut standalone = serde_json::to_string(&schema)
            .unwrap()
            .replace("#/components/schemas/", "#/$defs/");
        standalone = format!(
            "{{\"$defs\": {}, \"allOf\": [{standalone}]}}",
            self.document["components"]["schemas"]
                .to_string()
                .replace("#/components/schemas/", "#/$defs/")
        );
        serde_json::from_str(&standalone).unwrap()
    }

    async fn check(&mut self, method: Method, path: &str, response: reqwest::Response) -> Value {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        self.checked
            .insert((method.to_string(), path.to_owned(), status));
        if status == 204 {
            assert!(text.is_empty());
            return Value::Null;
        }
        let content_type =
            content_type.unwrap_or_else(|| panic!("{method} {path} {status} has a content type"));
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {text}"));
        let schema = self.schema_for(&method, path, status, &content_type);
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|error| {
                panic!("{method} {path} {status}: the schema compiles: {error}")
            });
        let problems: Vec<String> = validator
            .iter_errors(&body)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(
            problems.is_empty(),
            "{method} {path} {status}: {problems:#?}\n{body:#}"
        );
        body
    }
}

async fn every_endpoint_answers_as_the_document_says(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let audit_only = app.api_token(&organization, &["view_audit_log"]).await;
    let mut checker = Checker {
        document: document(&app).await,
        checked: BTreeSet::new(),
    };
    let send = |method: Method, path: &str, token: &str, body: Option<Value>| {
        let mut request = app.with_token(method, path, token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let invited = invite(&app, &organization, &token, "first@example.com").await;
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
    let user_path = "/api/v1/users/{user_id}";
    let unknown = "01900000-0000-7000-8000-00000000abcd";

    let get = |path: &'static str| (Method::GET, path);
    for (method, path) in [
        get("/api/v1/me"),
        get("/api/v1/profiles"),
        get("/api/v1/roles"),
        get("/api/v1/audit-events"),
        get("/api/v1/users"),
    ] {
        let answer = send(method.clone(), path, &token, None).await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        checker.check(method.clone(), path, answer).await;
        let refused = app
            .new_client()
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        checker.check(method, path, refused).await;
    }
    let answer = send(
        Method::GET,
        "/api/v1/users?limit=1&sort=last_sign_in&direction=desc",
        &token,
        None,
    )
    .await
    .unwrap();
    let page = checker.check(Method::GET, "/api/v1/users", answer).await;
    assert!(page["next_cursor"].is_string());
    let answer = send(Method::GET, "/api/v1/users?view=sideways", &token, None)
        .await
        .unwrap();
    checker.check(Method::GET, "/api/v1/users", answer).await;
    let answer = send(Method::GET, "/api/v1/users", &audit_only, None)
        .await
        .unwrap();
    checker.check(Method::GET, "/api/v1/users", answer).await;
    let answer = send(Method::GET, "/api/v1/audit-events?limit=x", &token, None)
        .await
        .unwrap();
    checker
        .check(Method::GET, "/api/v1/audit-events", answer)
        .await;

    let answer = send(
        Method::POST,
        "/api/v1/users",
        &token,
        Some(new_user(&app, &organization, "second@example.com").await),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 201);
    checker.check(Method::POST, "/api/v1/users", answer).await;
    let answer = send(
        Method::POST,
        "/api/v1/users",
        &token,
        Some(json!({"last_name": 1})),
    )
    .await
    .unwrap();
    checker.check(Method::POST, "/api/v1/users", answer).await;
    let answer = app
        .with_token(Method::POST, "/api/v1/users", &token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    checker.check(Method::POST, "/api/v1/users", answer).await;
    let answer = app
        .with_token(Method::POST, "/api/v1/users", &token)
        .body("{}")
        .send()
        .await
        .unwrap();
    checker.check(Method::POST, "/api/v1/users", answer).await;

    let path = format!("/api/v1/users/{grace}");
    let answer = send(Method::GET, &path, &token, None).await.unwrap();
    checker.check(Method::GET, user_path, answer).await;
    let answer = send(
        Method::GET,
        &format!("/api/v1/users/{unknown}"),
        &token,
        None,
    )
    .await
    .unwrap();
    checker.check(Method::GET, user_path, answer).await;
    let answer = send(
        Method::PATCH,
        &path,
        &token,
        Some(json!({"first_name": "Amazing"})),
    )
    .await
    .unwrap();
    checker.check(Method::PATCH, user_path, answer).await;
    let answer = send(
        Method::PATCH,
        &path,
        &token,
        Some(json!({"profile_id": "nope"})),
    )
    .await
    .unwrap();
    checker.check(Method::PATCH, user_path, answer).await;
    let answer = send(Method::POST, &format!("{path}/deactivate"), &token, None)
        .await
        .unwrap();
    checker
        .check(Method::POST, "/api/v1/users/{user_id}/deactivate", answer)
        .await;
    let answer = send(Method::POST, &format!("{path}/deactivate"), &token, None)
        .await
        .unwrap();
    assert_eq!(answer.status(), 409);
    checker
        .check(Method::POST, "/api/v1/users/{user_id}/deactivate", answer)
        .await;
    let answer = send(Method::POST, &format!("{path}/activate"), &token, None)
        .await
        .unwrap();
    checker
        .check(Method::POST, "/api/v1/users/{user_id}/activate", answer)
        .await;
    let answer = send(Method::DELETE, &path, &token, None).await.unwrap();
    assert_eq!(answer.status(), 409);
    checker.check(Method::DELETE, user_path, answer).await;

    app.clock.advance(Duration::from_secs(120));
    let answer = send(
        Method::POST,
        "/api/v1/users/reinvite",
        &token,
        Some(json!({"user_ids": [invited, grace, unknown]})),
    )
    .await
    .unwrap();
    let outcome = checker
        .check(Method::POST, "/api/v1/users/reinvite", answer)
        .await;
    assert_eq!(outcome["reinvited"], 1);
    let answer = send(
        Method::POST,
        "/api/v1/users/reinvite",
        &token,
        Some(json!({"user_ids": "all"})),
    )
    .await
    .unwrap();
    checker
        .check(Method::POST, "/api/v1/users/reinvite", answer)
        .await;
    let answer = send(
        Method::DELETE,
        &format!("/api/v1/users/{invited}"),
        &token,
        None,
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 204);
    checker.check(Method::DELETE, user_path, answer).await;

    let answer = app
        .new_client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    checker
        .check(Method::GET, "/api/v1/openapi.json", answer)
        .await;

    // Every documented operation was exercised at least once.
    let operations: BTreeSet<(String, String)> = checker
        .checked
        .iter()
        .map(|(method, path, _)| (method.clone(), path.clone()))
        .collect();
    let served: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .filter(|route| route.path.starts_with("/api/v1/"))
        .map(|route| (route.method.to_string(), route.path.to_owned()))
        .collect();
    assert_eq!(operations, served);
    let statuses: BTreeSet<u16> = checker
        .checked
        .iter()
        .map(|(_, _, status)| *status)
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from([200, 201, 204, 400, 401, 403, 404, 409, 415, 422])
    );
}
