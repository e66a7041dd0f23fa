//! SCIM 2.0 at /scim/v2: requests shaped exactly as Okta and Microsoft Entra ID send them, filters,
//! paging, ETags, tenancy, and bad input. Each checks what an operator would: the rows, the
//! invitation email in the outbox, the SCIM answer.

use crate::helpers::{ADMIN_PASSWORD, Scope, Snapshot, TestApp, csrf_token_in, on_both_databases};
use onestop_domain::Permission;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_databases!(
    okta_creates_finds_deactivates_reactivates_and_deletes_a_user,
    entra_id_creates_finds_disables_enables_and_deletes_a_user_with_its_own_shapes,
    filters_find_users_by_each_attribute_and_paging_counts_from_one,
    etags_follow_the_user_and_if_match_guards_every_write,
    a_scim_token_sees_only_its_companys_users_and_other_tokens_are_refused,
    bad_input_gets_a_scim_error_naming_its_type_and_writes_nothing,
    deleting_a_user_who_joined_deactivates_them_and_scim_no_longer_sees_them,
    profile_and_role_come_from_the_extension_or_the_company_default_within_the_grant_rule,
    discovery_documents_declare_what_is_supported_and_groups_are_not,
    setup_shows_the_scim_address_and_saves_the_default_profile_and_role_within_the_grant_rule,
    an_email_changes_only_while_the_person_has_not_joined_and_attributes_shape_answers,
);

/// A bad request: method, path, body, the status, scimType and a word the detail mentions.
type BadRequest = (
    Method,
    String,
    Option<Value>,
    u16,
    &'static str,
    &'static str,
);

const OKTA_AGENT: &str = "Okta SCIM Client 1.0.0";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

/// A SCIM request as identity providers send it: bearer token, `application/scim+json`.
async fn scim(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> Answer {
    let mut request = app
        .with_token(method, &format!("/scim/v2{path}"), token)
        .header("accept", "application/scim+json");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json; charset=utf-8")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("SCIM JSON: {text}"))
    };
    if !text.is_empty() {
        assert_eq!(
            headers["content-type"], "application/scim+json",
            "every SCIM body is application/scim+json: {text}"
        );
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn okta() -> [(&'static str, &'static str); 1] {
    [("user-agent", OKTA_AGENT)]
}

async fn user_row(app: &TestApp, id: &str) -> String {
    app.text_value(
        "SELECT u.status || ' ' || u.email || ' ' || COALESCE(u.first_name, '-') || ' ' || u.last_name \
           || ' ' || COALESCE(u.external_id, '-') || ' ' || p.name || ' ' || r.name \
           FROM users u JOIN profiles p ON p.id = u.profile_id JOIN roles r ON r.id = u.role_id \
          WHERE u.id = $1",
        id,
    )
    .await
    .unwrap_or_else(|| "(no row)".to_owned())
}

fn filter_path(filter: &str) -> String {
    let encoded: String = url_encode(filter);
    format!("/Users?filter={encoded}&startIndex=1&count=100")
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Okta's documented sequence (SCIM 2.0 provisioning guide): look up by userName, create with
/// the full profile (password included, which we ignore), fetch, update with PUT, deactivate and
/// reactivate with a path-less PATCH; then delete.
async fn okta_creates_finds_deactivates_reactivates_and_deletes_a_user(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;

    let lookup = scim(
        &app,
        Method::GET,
        &filter_path("userName eq \"test.user@okta.local\""),
        &token,
        None,
        &okta(),
    )
    .await;
    assert_eq!(lookup.status, 200, "{}", lookup.body);
    assert_eq!(lookup.body["totalResults"], 0);
    assert_eq!(
        lookup.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(lookup.body["Resources"], json!([]));

    let created = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        })),
        &okta(),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["userName"], "test.user@okta.local");
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(created.body["name"]["givenName"], "Test");
    assert_eq!(created.body["emails"][0]["value"], "test.user@okta.local");
    assert_eq!(created.body["meta"]["resourceType"], "User");
    let location = format!("{}scim/v2/Users/{id}", app.services.public_url);
    assert_eq!(created.body["meta"]["location"], location.as_str());
    assert_eq!(created.headers["location"], location.as_str());
    assert_eq!(
        created.headers["etag"].to_str().unwrap(),
        created.body["meta"]["version"].as_str().unwrap()
    );
    // The person was invited exactly as New User does: an Unconfirmed user and the email.
    assert_eq!(
        user_row(&app, &id).await,
        "unconfirmed test.user@okta.local Test User 00ujl29u0le5T6Aj10h7 Standard Manager"
    );
    let emails = app.emails_to("test.user@okta.local").await;
    assert_eq!(emails.len(), 1, "one invitation email is queued");
    assert!(
        emails[0].subject.contains("invited"),
        "{}",
        emails[0].subject
    );
    assert!(emails[0].action_url.as_deref().unwrap().contains("/join/"));
    assert!(
        emails[0].body_text.contains("Ada Lovelace"),
        "the email comes from the token's creator"
    );

    let found = scim(
        &app,
        Method::GET,
        &filter_path("userName eq \"test.user@okta.local\""),
        &token,
        None,
        &okta(),
    )
    .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());

    let fetched = scim(
        &app,
        Method::GET,
        &format!("/Users/{id}"),
        &token,
        None,
        &okta(),
    )
    .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body["id"], id.as_str());

    // Okta updates a profile with PUT, sending the whole user.
    let mut profile = created.body.clone();
    profile["name"]["givenName"] = json!("Testy");
    profile["name"]["familyName"] = json!("Userson");
    let put = scim(
        &app,
        Method::PUT,
        &format!("/Users/{id}"),
        &token,
        Some(profile),
        &okta(),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["name"]["familyName"], "Userson");
    assert_eq!(
        user_row(&app, &id).await,
        "unconfirmed test.user@okta.local Testy Userson 00ujl29u0le5T6Aj10h7 Standard Manager"
    );

    let deactivate = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    let patched = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(deactivate),
        &okta(),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["active"], false);
    assert!(user_row(&app, &id).await.starts_with("deactivated "));
    let inactive = scim(
        &app,
        Method::GET,
        &filter_path("active eq false"),
        &token,
        None,
        &okta(),
    )
    .await;
    assert_eq!(inactive.body["totalResults"], 1);

    let reactivate = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": true}}]
    });
    let patched = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(reactivate),
        &okta(),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["active"], true);
    // Never joined: activating makes them Unconfirmed again, as on the Users page.
    assert!(user_row(&app, &id).await.starts_with("unconfirmed "));

    let deleted = scim(
        &app,
        Method::DELETE,
        &format!("/Users/{id}"),
        &token,
        None,
        &okta(),
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(user_row(&app, &id).await, "(no row)");
    let gone = scim(
        &app,
        Method::GET,
        &format!("/Users/{id}"),
        &token,
        None,
        &okta(),
    )
    .await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(gone.body["status"], "404");

    // Every change is in the audit trail, by the token's creator.
    let actions = app
        .text_values(
            "SELECT action FROM audit_events WHERE action <> 'api_token_used' AND target_user_id IS NOT NULL \
              AND actor_user_id IS NOT NULL ORDER BY at, id",
        )
        .await;
    for action in [
        "user_created",
        "user_updated",
        "user_deactivated",
        "user_activated",
        "user_deleted",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

/// Microsoft Entra ID's documented shapes: the enterprise extension and unknown attributes on
/// create, filters by userName and by externalId, PATCH with capitalized `Replace`, filtered
/// email paths, string booleans ("False"), then DELETE.
async fn entra_id_creates_finds_disables_enables_and_deletes_a_user_with_its_own_shapes(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;
    let entra: [(&str, &str); 0] = [];

    // Entra's connection test: a filter for a random userName answers an empty list.
    let probe = scim(
        &app,
        Method::GET,
        "/Users?filter=userName+eq+%2203e5ab3e-6b6b-4d1e-8c1a-9f1e2b3c4d5e%22",
        &token,
        None,
        &entra,
    )
    .await;
    assert_eq!(probe.status, 200, "{}", probe.body);
    assert_eq!(probe.body["totalResults"], 0);

    let created = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee@contoso.com",
            "active": true,
            "addresses": [{"primary": true, "type": "work", "formatted": "1 Main St"}],
            "displayName": "Grace Hopper",
            "emails": [{"primary": true, "type": "work", "value": "grace@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
            "phoneNumbers": [{"type": "work", "value": "+1 555 0100"}],
            "roles": [],
            "title": "Rear Admiral",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Navy",
                "employeeNumber": "1906"
            }
        })),
        &entra,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    // userName is the email until the person joins (their username afterwards).
    assert_eq!(created.body["userName"], "grace@contoso.com");
    assert_eq!(
        user_row(&app, &id).await,
        "unconfirmed grace@contoso.com Grace Hopper 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef Standard Manager"
    );
    assert_eq!(app.emails_to("grace@contoso.com").await.len(), 1);

    let by_external = scim(
        &app,
        Method::GET,
        &filter_path("externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\""),
        &token,
        None,
        &entra,
    )
    .await;
    assert_eq!(by_external.body["totalResults"], 1, "{}", by_external.body);
    let by_email = scim(
        &app,
        Method::GET,
        &filter_path("emails[type eq \"work\"].value eq \"GRACE@contoso.com\""),
        &token,
        None,
        &entra,
    )
    .await;
    assert_eq!(by_email.body["Resources"][0]["id"], id.as_str());

    // Entra's update of multi-valued and nested attributes.
    let update = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "grace.hopper@contoso.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Murray Hopper"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Computing"}
        ]
    });
    let patched = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(update),
        &entra,
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        user_row(&app, &id).await,
        "unconfirmed grace.hopper@contoso.com Grace Murray Hopper 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef Standard Manager"
    );
    // A changed address of someone invited gets a fresh invitation there, as on Edit User.
    assert_eq!(app.emails_to("grace.hopper@contoso.com").await.len(), 1);

    // Disable, Entra's non-compliant way: a string boolean.
    let disable = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
    });
    let patched = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(disable),
        &entra,
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["active"], false);
    assert!(user_row(&app, &id).await.starts_with("deactivated "));

    // Enable, the compliant way.
    let enable = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": true}]
    });
    let patched = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(enable),
        &entra,
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert!(user_row(&app, &id).await.starts_with("unconfirmed "));

    let deleted = scim(
        &app,
        Method::DELETE,
        &format!("/Users/{id}"),
        &token,
        None,
        &entra,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
    assert_eq!(user_row(&app, &id).await, "(no row)");
}

async fn create(
    app: &TestApp,
    token: &str,
    given: &str,
    family: &str,
    email: &str,
    external: &str,
) -> Value {
    let answer = scim(
        app,
        Method::POST,
        "/Users",
        token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": email,
            "name": {"givenName": given, "familyName": family},
            "emails": [{"primary": true, "value": email, "type": "work"}],
            "externalId": external,
            "active": true
        })),
        &[],
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body
}

async fn filters_find_users_by_each_attribute_and_paging_counts_from_one(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;
    for index in 1..=5 {
        create(
            &app,
            &token,
            "Person",
            &format!("Number{index}"),
            &format!("p{index}@example.com"),
            &format!("ext-{index}"),
        )
        .await;
    }
    let total = |answer: &Answer| answer.body["totalResults"].as_i64().unwrap();
    // Ada, the administrator, plus five.
    let everyone = scim(&app, Method::GET, "/Users", &token, None, &[]).await;
    assert_eq!(total(&everyone), 6);
    // The administrator has joined: userName is her username, and the email finds her too.
    let ada = scim(
        &app,
        Method::GET,
        &filter_path("userName eq \"ADA\""),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(ada.body["Resources"][0]["userName"], "ada");
    let ada = scim(
        &app,
        Method::GET,
        &filter_path("userName eq \"ada@example.com\""),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(total(&ada), 1);
    let by_email = scim(
        &app,
        Method::GET,
        &filter_path("emails.value eq \"p3@EXAMPLE.com\""),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(
        by_email.body["Resources"][0]["name"]["familyName"],
        "Number3"
    );
    let by_external = scim(
        &app,
        Method::GET,
        &filter_path("EXTERNALID eq \"ext-4\""),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(
        by_external.body["Resources"][0]["name"]["familyName"],
        "Number4"
    );
    // externalId is case-exact.
    let wrong_case = scim(
        &app,
        Method::GET,
        &filter_path("externalId eq \"EXT-4\""),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(total(&wrong_case), 0);
    let both = scim(
        &app,
        Method::GET,
        &filter_path("externalId eq \"ext-2\" and active eq true"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(total(&both), 1);
    let contradiction = scim(
        &app,
        Method::GET,
        &filter_path("externalId eq \"ext-2\" and externalId eq \"ext-3\""),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(total(&contradiction), 0);
    let home = scim(
        &app,
        Method::GET,
        &filter_path("emails[type eq \"home\"].value eq \"p1@example.com\""),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(total(&home), 0);

    // Paging: 1-based, oldest first; totalResults counts every match.
    let page = scim(
        &app,
        Method::GET,
        "/Users?startIndex=2&count=2",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(total(&page), 6);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    let names: Vec<&str> = page.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["name"]["familyName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Number1", "Number2"]);
    let last = scim(
        &app,
        Method::GET,
        "/Users?startIndex=6&count=10",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(last.body["itemsPerPage"], 1);
    let past = scim(&app, Method::GET, "/Users?startIndex=60", &token, None, &[]).await;
    assert_eq!(past.body["Resources"], json!([]));
    let zero = scim(&app, Method::GET, "/Users?count=0", &token, None, &[]).await;
    assert_eq!(
        (total(&zero), zero.body["itemsPerPage"].as_i64()),
        (6, Some(0))
    );
    // Out-of-range values are brought into range (RFC 7644 §3.4.2.4).
    let below = scim(
        &app,
        Method::GET,
        "/Users?startIndex=0&count=-3",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(
        (below.status.as_u16(), below.body["startIndex"].as_i64()),
        (200, Some(1))
    );
}

async fn etags_follow_the_user_and_if_match_guards_every_write(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;
    let user = create(&app, &token, "Alan", "Turing", "alan@example.com", "t-1").await;
    let id = user["id"].as_str().unwrap();
    let first = user["meta"]["version"].as_str().unwrap().to_owned();
    assert!(first.starts_with("W/\""), "{first}");

    let fetched = scim(
        &app,
        Method::GET,
        &format!("/Users/{id}"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(
        fetched.headers["etag"].to_str().unwrap(),
        first,
        "unchanged, the same version"
    );

    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": "Alan M."}]});
    let changed = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(rename.clone()),
        &[("if-match", &first)],
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let second = changed.headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(second, first, "a change makes a new version");

    // The old version no longer matches: nothing is written.
    let before = user_row(&app, id).await;
    let stale_patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": "Stale"}]});
    let stale = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(stale_patch),
        &[("if-match", &first)],
    )
    .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.body["status"], "412");
    let mut replacement = changed.body.clone();
    replacement["name"]["familyName"] = json!("Stale");
    let stale = scim(
        &app,
        Method::PUT,
        &format!("/Users/{id}"),
        &token,
        Some(replacement.clone()),
        &[("if-match", &first)],
    )
    .await;
    assert_eq!(stale.status, 412);
    let stale = scim(
        &app,
        Method::DELETE,
        &format!("/Users/{id}"),
        &token,
        None,
        &[("if-match", &first)],
    )
    .await;
    assert_eq!(stale.status, 412);
    assert_eq!(user_row(&app, id).await, before);

    // The current version (or *) does.
    let put = scim(
        &app,
        Method::PUT,
        &format!("/Users/{id}"),
        &token,
        Some(replacement),
        &[("if-match", &second)],
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let deleted = scim(
        &app,
        Method::DELETE,
        &format!("/Users/{id}"),
        &token,
        None,
        &[("if-match", "*")],
    )
    .await;
    assert_eq!(deleted.status, 204);
}

async fn a_scim_token_sees_only_its_companys_users_and_other_tokens_are_refused(app: TestApp) {
    let first = app.create_organization().await;
    let second = app
        .create_organization_named("Other Company", "grace", "grace@other.example")
        .await;
    let first_token = app.scim_token(&first).await;
    let second_token = app.scim_token(&second).await;
    let user = create(
        &app,
        &first_token,
        "Ada",
        "Byron",
        "byron@example.com",
        "same-ext",
    )
    .await;
    let id = user["id"].as_str().unwrap();

    let listed = scim(&app, Method::GET, "/Users", &second_token, None, &[]).await;
    assert_eq!(
        listed.body["totalResults"], 1,
        "only the other company's administrator"
    );
    assert_eq!(listed.body["Resources"][0]["userName"], "grace");
    let found = scim(
        &app,
        Method::GET,
        &filter_path("userName eq \"byron@example.com\""),
        &second_token,
        None,
        &[],
    )
    .await;
    assert_eq!(found.body["totalResults"], 0);
    for method in [Method::GET, Method::DELETE] {
        let answer = scim(
            &app,
            method.clone(),
            &format!("/Users/{id}"),
            &second_token,
            None,
            &[],
        )
        .await;
        assert_eq!(answer.status, 404, "{method} of another company's user");
    }
    let patch = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
    let answer = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &second_token,
        Some(patch),
        &[],
    )
    .await;
    assert_eq!(answer.status, 404);
    assert!(user_row(&app, id).await.starts_with("unconfirmed "));
    // externalIds are unique per company only.
    create(
        &app,
        &second_token,
        "Other",
        "Person",
        "other@other.example",
        "same-ext",
    )
    .await;

    // An API token is not a SCIM token, and a session counts for nothing.
    let api = app.api_token(&first, &[]).await;
    let refused = scim(&app, Method::GET, "/Users", &api, None, &[]).await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(refused.body["status"], "401");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("API token")
    );
    let refused = scim(
        &app,
        Method::GET,
        "/Users",
        "1stop_not-a-real-token",
        None,
        &[],
    )
    .await;
    assert_eq!(refused.status, 401);
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let with_session = app
        .client
        .get(app.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_session.status(), 401);
}

async fn bad_input_gets_a_scim_error_naming_its_type_and_writes_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;
    let existing = create(&app, &token, "Ada", "Byron", "byron@example.com", "ext-1").await;
    let id = existing["id"].as_str().unwrap();
    let snapshot = Snapshot::plan(&app, Scope::Everything).await;
    let except_use = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|row| {
                !row.starts_with("api_tokens: ") && !row.contains("action=api_token_used")
            })
            .collect()
    };
    let before = except_use(snapshot.take(&app).await);
    let user = |email: &str, external: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
               "name": {"givenName": "New", "familyName": "Person"},
               "emails": [{"value": email, "type": "work", "primary": true}], "externalId": external})
    };
    let cases: Vec<BadRequest> = vec![
        (
            Method::POST,
            "/Users".into(),
            Some(user("BYRON@example.com", "ext-9")),
            409,
            "uniqueness",
            "email",
        ),
        (
            Method::POST,
            "/Users".into(),
            Some(user("new@example.com", "ext-1")),
            409,
            "uniqueness",
            "externalId",
        ),
        (
            Method::POST,
            "/Users".into(),
            Some(user("not an email", "ext-9")),
            400,
            "invalidValue",
            "emails",
        ),
        (
            Method::POST,
            "/Users".into(),
            Some(json!({"name": {"familyName": "X"}})),
            400,
            "invalidValue",
            "userName",
        ),
        (
            Method::POST,
            "/Users".into(),
            Some(json!({"userName": "x@example.com", "active": "maybe"})),
            400,
            "invalidValue",
            "active",
        ),
        (
            Method::POST,
            "/Users".into(),
            Some(
                json!({"userName": "x@example.com", "name": {"familyName": "X"},
            "urn:ietf:params:scim:schemas:extension:1stop:2.0:User": {"profile": "Emperor"}}),
            ),
            400,
            "invalidValue",
            "Emperor",
        ),
        (
            Method::POST,
            "/Users".into(),
            None,
            400,
            "invalidSyntax",
            "JSON",
        ),
        (
            Method::GET,
            "/Users?filter=userName%20sw%20%22a%22".into(),
            None,
            400,
            "invalidFilter",
            "sw",
        ),
        (
            Method::GET,
            "/Users?filter=title%20eq%20%22a%22".into(),
            None,
            400,
            "invalidFilter",
            "title",
        ),
        (
            Method::GET,
            "/Users?count=many".into(),
            None,
            400,
            "invalidValue",
            "count",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "replace", "path": "active", "value": "perhaps"}]})),
            400,
            "invalidValue",
            "active",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "jump", "path": "active"}]})),
            400,
            "invalidSyntax",
            "op",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "remove"}]})),
            400,
            "noTarget",
            "path",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            Some(
                json!({"Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "nope"}]}),
            ),
            400,
            "invalidValue",
            "emails",
        ),
        (
            Method::PUT,
            format!("/Users/{id}"),
            Some(
                json!({"userName": "byron@example.com", "externalId": "ext-1",
            "urn:ietf:params:scim:schemas:extension:1stop:2.0:User": {"role": "Janitor"}}),
            ),
            400,
            "invalidValue",
            "Janitor",
        ),
    ];
    for (method, path, body, status, scim_type, mention) in cases {
        let answer = match body {
            Some(body) => scim(&app, method.clone(), &path, &token, Some(body), &[]).await,
            None if method == Method::POST => {
                let response = app
                    .with_token(method.clone(), &format!("/scim/v2{path}"), &token)
                    .header("content-type", "application/scim+json")
                    .body("{not json")
                    .send()
                    .await
                    .unwrap();
                Answer {
                    status: response.status(),
                    headers: response.headers().clone(),
                    body: response.json().await.unwrap(),
                }
            }
            None => scim(&app, method.clone(), &path, &token, None, &[]).await,
        };
        let what = format!("{method} {path}: {}", answer.body);
        assert_eq!(answer.status.as_u16(), status, "{what}");
        assert_eq!(
            answer.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "{what}"
        );
        assert_eq!(answer.body["status"], status.to_string(), "{what}");
        if !scim_type.is_empty() {
            assert_eq!(answer.body["scimType"], scim_type, "{what}");
        }
        assert!(
            answer.body["detail"].as_str().unwrap().contains(mention),
            "{what}"
        );
    }
    let after = except_use(snapshot.take(&app).await);
    assert_eq!(before, after, "nothing was written");
}

async fn deleting_a_user_who_joined_deactivates_them_and_scim_no_longer_sees_them(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;
    let joined = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            "cobol compiler navy",
        )
        .await;
    let shown = scim(
        &app,
        Method::GET,
        &format!("/Users/{joined}"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(shown.body["userName"], "grace");
    assert_eq!(shown.body["active"], true);

    // The administrator is above what a SCIM token may grant: it cannot remove her.
    let own = scim(
        &app,
        Method::DELETE,
        &format!("/Users/{}", organization.admin_id),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(own.status, 403, "{}", own.body);
    assert!(
        user_row(&app, &organization.admin_id)
            .await
            .starts_with("active ")
    );

    let deleted = scim(
        &app,
        Method::DELETE,
        &format!("/Users/{joined}"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert!(
        user_row(&app, &joined)
            .await
            .starts_with("deactivated grace@example.com Grace Hopper - "),
        "{}",
        user_row(&app, &joined).await
    );
    assert_eq!(
        scim(
            &app,
            Method::GET,
            &format!("/Users/{joined}"),
            &token,
            None,
            &[]
        )
        .await
        .status,
        404
    );
    let listed = scim(&app, Method::GET, "/Users", &token, None, &[]).await;
    assert_eq!(listed.body["totalResults"], 1, "only Ada is left for SCIM");
    assert_eq!(
        scim(
            &app,
            Method::DELETE,
            &format!("/Users/{joined}"),
            &token,
            None,
            &[]
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE target_user_id = $1 AND details LIKE 'Removed by SCIM%'",
            &joined
        )
        .await,
        1
    );
}

async fn profile_and_role_come_from_the_extension_or_the_company_default_within_the_grant_rule(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;
    const EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:1stop:2.0:User";

    let named = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXTENSION],
            "userName": "boss@example.com", "name": {"givenName": "Big", "familyName": "Boss"},
            EXTENSION: {"profile": "standard", "role": "Manager"}
        })),
        &[],
    )
    .await;
    assert_eq!(named.status, 201, "{}", named.body);
    assert_eq!(named.body[EXTENSION]["profile"], "Standard");
    assert_eq!(named.body[EXTENSION]["role"], "Manager");
    let id = named.body["id"].as_str().unwrap();
    assert!(user_row(&app, id).await.ends_with(" Standard Manager"));
    // A SCIM token carries Manage Users only, so under the grant rule it may not hand out the
    // Administrator profile, even when an administrator made it.
    let refused = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(json!({
            "userName": "root@example.com", "name": {"familyName": "Root"},
            EXTENSION: {"profile": "Administrator"}
        })),
        &[],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(app.emails_to("root@example.com").await.is_empty());

    // Without the extension: the company's default, once chosen in Setup > SCIM provisioning.
    let manager = app.role_id(&organization.org_id, "Manager").await;
    let standard = app.profile_id(&organization.org_id, "Standard").await;
    app.execute(&format!(
        "UPDATE organizations SET scim_profile_id = '{standard}', scim_role_id = '{manager}'"
    ))
    .await;
    let defaulted = create(&app, &token, "Plain", "Person", "plain@example.com", "p-1").await;
    assert_eq!(defaulted[EXTENSION]["role"], "Manager");
    assert_eq!(defaulted[EXTENSION]["profile"], "Standard");

    // PATCH through the extension keeps to the grant rule too: the CEO role is above what this
    // token may grant, and nothing changes.
    let pid = defaulted["id"].as_str().unwrap();
    let promote = json!({"Operations": [{"op": "replace", "path": format!("{EXTENSION}:role"), "value": "CEO"}]});
    let answer = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{pid}"),
        &token,
        Some(promote),
        &[],
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("Choose one of: Manager")
    );
    assert!(user_row(&app, pid).await.ends_with(" Standard Manager"));

    // A token acts within its creator's grant rule: a manager with user rights may not hand out
    // the Administrator profile, nor change a user above them.
    let (_, member) = app
        .add_user_with_profile(
            &organization.org_id,
            "User Managers",
            &[Permission::ViewSetup, Permission::ManageUsers],
            "manager",
            ("Mary", "Manager"),
            "mary",
        )
        .await;
    let member_token = app_scim_token_of(&app, &organization.org_id, &member).await;
    let refused = scim(
        &app,
        Method::POST,
        "/Users",
        &member_token,
        Some(json!({
            "userName": "sneaky@example.com", "name": {"familyName": "Sneaky"},
            EXTENSION: {"profile": "Administrator"}
        })),
        &[],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["scimType"], "invalidValue");
    assert!(app.emails_to("sneaky@example.com").await.is_empty());
    let above = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{}", organization.admin_id),
        &member_token,
        Some(json!({"Operations": [{"op": "replace", "path": "active", "value": false}]})),
        &[],
    )
    .await;
    assert_eq!(above.status, 403, "{}", above.body);
    assert!(
        user_row(&app, &organization.admin_id)
            .await
            .starts_with("active ")
    );
}

/// A SCIM token of any user (the helpers make one for the administrator).
async fn app_scim_token_of(app: &TestApp, org_id: &str, user_id: &str) -> String {
    use onestop_domain::{PermissionSet, UserId};
    use onestop_server::usecases::api_tokens::{NewTokenInput, TokenCreator, create_api_token};
    let permissions = app
        .text_value(
            "SELECT p.permissions FROM users u JOIN profiles p ON p.id = u.profile_id WHERE u.id = $1",
            user_id,
        )
        .await
        .unwrap();
    let creator = TokenCreator {
        scope: crate::helpers::scope(org_id),
        user_id: UserId::from_trusted(user_id.to_owned()),
        permissions: PermissionSet::parse_stored(&permissions).unwrap(),
    };
    let input = NewTokenInput {
        name: "member scim".into(),
        kind: "scim".into(),
        permissions: Vec::new(),
        lifetime_days: "30".into(),
    };
    create_api_token(&app.services, &creator, &input, None)
        .await
        .unwrap()
        .secret
        .expose()
        .to_owned()
}

async fn discovery_documents_declare_what_is_supported_and_groups_are_not(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;
    let config = scim(
        &app,
        Method::GET,
        "/ServiceProviderConfig",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(config.status, 200);
    let body = &config.body;
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    assert_eq!(body["patch"]["supported"], true);
    assert_eq!(body["bulk"]["supported"], false);
    assert_eq!(
        body["filter"],
        json!({"supported": true, "maxResults": 200})
    );
    assert_eq!(body["changePassword"]["supported"], false);
    assert_eq!(body["sort"]["supported"], false);
    assert_eq!(body["etag"]["supported"], true);
    assert_eq!(body["authenticationSchemes"][0]["type"], "oauthbearertoken");

    let types = scim(&app, Method::GET, "/ResourceTypes", &token, None, &[]).await;
    assert_eq!(types.body["totalResults"], 1);
    let user_type = &types.body["Resources"][0];
    assert_eq!(user_type["endpoint"], "/Users");
    assert_eq!(
        user_type["schema"],
        "urn:ietf:params:scim:schemas:core:2.0:User"
    );
    assert_eq!(
        user_type["schemaExtensions"][0]["schema"],
        "urn:ietf:params:scim:schemas:extension:1stop:2.0:User"
    );
    assert_eq!(
        scim(&app, Method::GET, "/ResourceTypes/User", &token, None, &[])
            .await
            .body["id"],
        "User"
    );
    assert_eq!(
        scim(&app, Method::GET, "/ResourceTypes/Group", &token, None, &[])
            .await
            .status,
        404
    );

    let schemas = scim(&app, Method::GET, "/Schemas", &token, None, &[]).await;
    let ids: Vec<&str> = schemas.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:1stop:2.0:User"
        ]
    );
    let user_schema = scim(
        &app,
        Method::GET,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        &token,
        None,
        &[],
    )
    .await;
    let attributes: Vec<&str> = user_schema.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        attributes,
        ["userName", "name", "displayName", "emails", "active"]
    );

    for (method, path) in [
        (Method::GET, "/Groups"),
        (Method::POST, "/Groups"),
        (Method::GET, "/Groups/abc"),
    ] {
        let answer = scim(
            &app,
            method.clone(),
            path,
            &token,
            if method == Method::POST {
                Some(json!({}))
            } else {
                None
            },
            &[],
        )
        .await;
        assert_eq!(answer.status, 404, "{method} {path}");
        assert!(
            answer.body["detail"]
                .as_str()
                .unwrap()
                .contains("Groups are not supported")
        );
    }
    // Without a token, discovery is refused like everything else.
    let anonymous = app
        .new_client()
        .get(app.url("/scim/v2/ServiceProviderConfig"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn setup_shows_the_scim_address_and_saves_the_default_profile_and_role_within_the_grant_rule(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let setup = app.get_text("/setup").await;
    assert!(
        setup.contains("<a href=\"/setup/scim\">SCIM provisioning</a>"),
        "{setup}"
    );
    let page = app.get_text("/setup/scim").await;
    assert!(
        page.contains(&format!("{}scim/v2", app.services.public_url)),
        "{page}"
    );
    let csrf = csrf_token_in(&page);
    let standard = app.profile_id(&organization.org_id, "Standard").await;
    let administrator = app.profile_id(&organization.org_id, "Administrator").await;
    let manager = app.role_id(&organization.org_id, "Manager").await;

    let saved = app
        .post_form(
            "/setup/scim",
            &[
                ("csrf_token", &csrf),
                ("profile_id", &standard),
                ("role_id", &manager),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    assert!(saved.text().await.unwrap().contains("SCIM defaults saved."));
    let stored = app
        .text_value(
            "SELECT scim_profile_id || ' ' || scim_role_id FROM organizations WHERE id = $1",
            &organization.org_id,
        )
        .await;
    assert_eq!(stored, Some(format!("{standard} {manager}")));
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE details = $1",
            "SCIM defaults: profile Standard, role Manager"
        )
        .await,
        1
    );

    // A profile that is not one of the company's is refused, and nothing changes.
    let refused = app
        .post_form(
            "/setup/scim",
            &[
                ("csrf_token", &csrf),
                ("profile_id", "01900000-0000-7000-8000-00000000abcd"),
                ("role_id", &manager),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Choose a profile from the list.")
    );
    let still = app
        .text_value(
            "SELECT scim_profile_id FROM organizations WHERE id = $1",
            &organization.org_id,
        )
        .await;
    assert_eq!(still, Some(standard.clone()));

    // The administrator may grant the Administrator profile, so may choose it here; a SCIM
    // token, which carries Manage Users only, then cannot use it and says what to do.
    let saved = app
        .post_form(
            "/setup/scim",
            &[
                ("csrf_token", &csrf),
                ("profile_id", &administrator),
                ("role_id", &manager),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    let token = app.scim_token(&organization).await;
    let answer = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(json!({"userName": "x@example.com", "name": {"familyName": "X"}})),
        &[],
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("Setup > SCIM provisioning")
    );
    assert!(app.emails_to("x@example.com").await.is_empty());
}

async fn an_email_changes_only_while_the_person_has_not_joined_and_attributes_shape_answers(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    let token = app.scim_token(&organization).await;
    let joined = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            "cobol compiler navy",
        )
        .await;
    let mut shown = scim(
        &app,
        Method::GET,
        &format!("/Users/{joined}"),
        &token,
        None,
        &[],
    )
    .await
    .body;
    shown["userName"] = json!("someone.else@example.com");
    shown["emails"] = json!([{"value": "new.grace@example.com", "type": "work"}]);
    shown["name"]["givenName"] = json!("Amazing Grace");
    let put = scim(
        &app,
        Method::PUT,
        &format!("/Users/{joined}"),
        &token,
        Some(shown),
        &[],
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    // Her name changes; her address and username are hers.
    assert_eq!(put.body["userName"], "grace");
    assert_eq!(
        user_row(&app, &joined).await,
        "active grace@example.com Amazing Grace Hopper - Standard Manager"
    );
    assert!(app.emails_to("new.grace@example.com").await.is_empty());

    // Someone deactivated before joining may be readdressed, without an email.
    let invited = create(&app, &token, "Ivy", "Invited", "ivy@example.com", "ivy-1").await;
    let id = invited["id"].as_str().unwrap();
    let operations = json!({"Operations": [
        {"op": "replace", "path": "active", "value": false},
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ivy@new.example.com"}
    ]});
    let patched = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(operations),
        &[],
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        user_row(&app, id).await,
        "deactivated ivy@new.example.com Ivy Invited ivy-1 Standard Manager"
    );
    assert!(app.emails_to("ivy@new.example.com").await.is_empty());

    // attributes / excludedAttributes: id, schemas and meta always come back.
    let only = scim(
        &app,
        Method::GET,
        "/Users?attributes=userName&filter=externalId%20eq%20%22ivy-1%22",
        &token,
        None,
        &[],
    )
    .await;
    let keys: Vec<&String> = only.body["Resources"][0]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["id", "meta", "schemas", "userName"]);
    let without = scim(
        &app,
        Method::GET,
        &format!("/Users/{id}?excludedAttributes=emails,name"),
        &token,
        None,
        &[],
    )
    .await;
    assert!(without.body.get("emails").is_none() && without.body.get("name").is_none());
    assert_eq!(without.body["userName"], "ivy@new.example.com");
}
