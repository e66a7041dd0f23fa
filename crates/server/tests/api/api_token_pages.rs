//! Setup > API Tokens: making a token on the page (shown once, only its hash stored, audited),
//! the form's refusals with what was typed kept, revoking with a confirmation, who may open the
//! pages, another company's tokens, and what the list says about each token.

use crate::helpers::{
    MEMBER_PASSWORD, Organization, TestApp, csrf_token_in, location, on_both_databases,
};
use onestop_domain::{ApiTokenSecret, Permission};

on_both_databases!(
    a_token_made_on_the_page_is_shown_once_stored_hashed_audited_and_works,
    the_form_offers_only_the_creators_permissions_and_keeps_what_was_typed_when_refused,
    revoking_asks_first_then_the_token_stops_working,
    a_user_without_manage_api_tokens_is_refused_like_on_other_setup_pages,
    another_companys_token_is_not_found_and_stays_live,
    the_list_shows_last_use_expiry_and_a_deactivated_creator_and_the_users_page_counts_tokens,
);

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// The token a "token created" page shows in its field.
fn token_in(html: &str) -> String {
    let marker = "value=\"1stop_";
    let start = html.find(marker).expect("the page shows a token") + "value=\"".len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Opens New token and submits `fields` (the form token is added).
async fn submit_new_token(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let form = app.get_text("/setup/api-tokens/new").await;
    let token = csrf_token_in(&form);
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    app.post_form("/setup/api-tokens/new", &all).await
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.with_token(reqwest::Method::GET, "/api/v1/me", token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn token_id(app: &TestApp, name: &str) -> String {
    app.text_value("SELECT id FROM api_tokens WHERE name = $1", name)
        .await
        .expect("the token is stored")
}

async fn a_token_made_on_the_page_is_shown_once_stored_hashed_audited_and_works(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let setup = app.get_text("/setup").await;
    assert!(
        setup.contains("<a href=\"/setup/api-tokens\">API Tokens</a>"),
        "Setup links to API Tokens: {setup}"
    );

    let response = submit_new_token(
        &app,
        &[
            ("name", "Payroll sync"),
            ("kind", "api"),
            ("permissions", "manage_users"),
            ("permissions", "view_audit_log"),
            ("lifetime_days", "30"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()[reqwest::header::CACHE_CONTROL],
        "no-store",
        "the page with the token is never cached"
    );
    assert!(location(&response).is_empty(), "no redirect carries it");
    let page = response.text().await.unwrap();
    assert!(page.contains("You will not see it again"), "{page}");
    let secret = token_in(&page);
    assert_eq!(secret.len(), 49, "{secret}");
    assert!(
        page.contains(&format!(
            "curl -H \"Authorization: Bearer {secret}\" {}/api/v1/me",
            app.address
        )),
        "an example that works: {page}"
    );
    assert!(page.contains("Manage Users, View Audit Log"), "{page}");

    // Only the hash is stored, with the chosen permissions and lifetime.
    let hash = ApiTokenSecret::parse(&secret).unwrap().hash();
    assert_eq!(
        app.text_value(
            "SELECT token_hash FROM api_tokens WHERE name = $1",
            "Payroll sync"
        )
        .await
        .as_deref(),
        Some(hash.as_str())
    );
    assert_eq!(
        app.number(&format!(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{secret}' OR name LIKE '%{secret}%'"
        ))
        .await,
        0,
        "the token itself is nowhere in the table"
    );
    assert_eq!(
        app.text_value(
            "SELECT permissions FROM api_tokens WHERE name = $1",
            "Payroll sync"
        )
        .await
        .as_deref(),
        Some("manage_users view_audit_log")
    );
    let lifetime = app
        .number_value(
            "SELECT expires_at - created_at FROM api_tokens WHERE name = $1",
            "Payroll sync",
        )
        .await;
    assert_eq!(lifetime, 30 * DAY_MILLIS);
    assert_eq!(
        app.text_value(
            "SELECT details FROM audit_events WHERE action = $1",
            "api_token_created"
        )
        .await
        .as_deref(),
        Some("API token \"Payroll sync\"")
    );

    // The list names it, but never shows the token again.
    let list = app.get_text("/setup/api-tokens").await;
    for shown in [
        "Payroll sync",
        "Manage Users, View Audit Log",
        "Ada Lovelace",
        "Active",
        "Never",
    ] {
        assert!(list.contains(shown), "the list shows {shown:?}: {list}");
    }
    assert!(!list.contains(&secret), "the list never shows the token");

    // And it works, with the permissions it carries.
    assert_eq!(me_status(&app, &secret).await, 200);
    let audit = app.get_text("/setup/audit").await;
    let rows = audit
        .split("<tbody>")
        .nth(1)
        .expect("the Audit Log has rows");
    assert!(
        rows.contains("API token created")
            && rows.contains("API token used")
            && rows.contains("Payroll sync")
            && rows.contains("GET /api/v1/me"),
        "the Audit Log lists the new actions with their labels: {rows}"
    );
}

async fn the_form_offers_only_the_creators_permissions_and_keeps_what_was_typed_when_refused(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.add_user_with_profile(
        &organization.org_id,
        "Auditors",
        &[
            Permission::ViewSetup,
            Permission::ManageApiTokens,
            Permission::ViewAuditLog,
        ],
        "manager",
        ("Ray", "Reader"),
        "ray",
    )
    .await;
    assert_eq!(
        app.sign_in("ray", MEMBER_PASSWORD).await.status().as_u16(),
        303
    );
    assert_eq!(location(&app.agree_to_terms().await), "/");

    let form = app.get_text("/setup/api-tokens/new").await;
    assert!(form.contains("id=\"permission-view_audit_log\""), "{form}");
    assert!(
        form.contains("id=\"permission-manage_api_tokens\""),
        "{form}"
    );
    assert!(
        !form.contains("permission-manage_users") && !form.contains("permission-manage_roles"),
        "permissions Ray does not hold are not offered: {form}"
    );
    assert!(
        !form.contains("id=\"kind-scim\""),
        "no SCIM without Manage Users: {form}"
    );
    assert!(form.contains("<option value=\"90\" selected>90 days</option>"));

    // A permission Ray does not hold, sent anyway: refused, the name kept, nothing stored.
    let refused = submit_new_token(
        &app,
        &[
            ("name", "Audit export"),
            ("kind", "api"),
            ("permissions", "manage_users"),
            ("lifetime_days", "7"),
        ],
    )
    .await;
    assert_eq!(refused.status().as_u16(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Nothing was saved."), "{page}");
    assert!(
        page.contains("You do not hold Manage Users, so a token of yours cannot carry it."),
        "{page}"
    );
    assert!(page.contains("value=\"Audit export\""), "{page}");
    assert!(
        page.contains("<option value=\"7\" selected>7 days</option>"),
        "{page}"
    );

    // Several problems at once, each on its field.
    let refused = submit_new_token(
        &app,
        &[("name", " "), ("kind", "scim"), ("lifetime_days", "999")],
    )
    .await;
    assert_eq!(refused.status().as_u16(), 422);
    let page = refused.text().await.unwrap();
    for message in [
        "Enter a name that says what the token is for",
        "A SCIM token manages users, and you do not hold Manage Users.",
        "Enter how many days the token works: 1 to 366.",
    ] {
        assert!(page.contains(message), "the page says {message:?}: {page}");
    }
    assert_eq!(app.count("api_tokens").await, 0, "nothing was stored");
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'api_token_created'")
            .await,
        0
    );

    // What Ray holds is accepted, and the token carries exactly that.
    let made = submit_new_token(
        &app,
        &[
            ("name", "Audit export"),
            ("kind", "api"),
            ("permissions", "view_audit_log"),
            ("lifetime_days", "7"),
        ],
    )
    .await;
    assert_eq!(made.status().as_u16(), 200);
    assert_eq!(
        app.text_value(
            "SELECT permissions FROM api_tokens WHERE name = $1",
            "Audit export"
        )
        .await
        .as_deref(),
        Some("view_audit_log")
    );
}

/// Presses Revoke for `id` in the list, then answers the confirmation page; returns both.
async fn revoke(app: &TestApp, id: &str) -> (String, reqwest::Response) {
    let list = app.get_text("/setup/api-tokens").await;
    let token = csrf_token_in(&list);
    let path = format!("/setup/api-tokens/{id}/revoke");
    let asked = app.post_form(&path, &[("csrf_token", &token)]).await;
    assert_eq!(asked.status().as_u16(), 200, "Revoke asks first");
    let confirmation = asked.text().await.unwrap();
    let done = app
        .post_form(&path, &[("csrf_token", &token), ("confirmed", "1")])
        .await;
    (confirmation, done)
}

async fn revoking_asks_first_then_the_token_stops_working(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let secret = app.api_token(&organization, &[]).await;
    let id = token_id(&app, "api test token").await;
    assert_eq!(me_status(&app, &secret).await, 200);
    let list = app.get_text("/setup/api-tokens").await;
    assert!(
        list.contains(&format!("action=\"/setup/api-tokens/{id}/revoke\"")),
        "a live token offers Revoke: {list}"
    );

    let (confirmation, done) = revoke(&app, &id).await;
    assert!(
        confirmation.contains("Revoke the token “api test token”?")
            && confirmation.contains("name=\"confirmed\"")
            && confirmation.contains("Cancel"),
        "{confirmation}"
    );
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(location(&done), "/setup/api-tokens");
    let list = app.get_text("/setup/api-tokens").await;
    assert!(
        list.contains("Revoked the token “api test token”."),
        "{list}"
    );
    assert!(list.contains("Revoked"), "{list}");
    assert!(
        !list.contains(&format!("/setup/api-tokens/{id}/revoke")),
        "a revoked token offers no Revoke: {list}"
    );
    let again = app.get_text("/setup/api-tokens").await;
    assert!(
        !again.contains("Revoked the token"),
        "the message shows once: {again}"
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'api_token_revoked'")
            .await,
        1
    );
    assert_eq!(me_status(&app, &secret).await, 401, "a revoked token stops");

    // Revoking again changes nothing and says so.
    let list = app.get_text("/setup/api-tokens").await;
    let repeat = app
        .post_form(
            &format!("/setup/api-tokens/{id}/revoke"),
            &[("csrf_token", &csrf_token_in(&list)), ("confirmed", "1")],
        )
        .await;
    assert_eq!(location(&repeat), "/setup/api-tokens");
    let list = app.get_text("/setup/api-tokens").await;
    assert!(
        list.contains("The token “api test token” was already revoked."),
        "{list}"
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'api_token_revoked'")
            .await,
        1
    );
}

async fn a_user_without_manage_api_tokens_is_refused_like_on_other_setup_pages(app: TestApp) {
    let organization = app.create_organization().await;
    app.api_token(&organization, &[]).await;
    let id = token_id(&app, "api test token").await;
    app.add_user_with_profile(
        &organization.org_id,
        "User admins",
        &[Permission::ViewSetup, Permission::ManageUsers],
        "manager",
        ("Una", "Usher"),
        "una",
    )
    .await;
    assert_eq!(
        app.sign_in("una", MEMBER_PASSWORD).await.status().as_u16(),
        303
    );
    assert_eq!(location(&app.agree_to_terms().await), "/");
    for path in ["/setup/api-tokens", "/setup/api-tokens/new"] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 403, "GET {path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Your profile does not allow this.")
        );
    }
    let token = csrf_token_in(&app.get_text("/").await);
    let created = app
        .post_form(
            "/setup/api-tokens/new",
            &[
                ("csrf_token", token.as_str()),
                ("name", "Sneaky"),
                ("kind", "api"),
                ("lifetime_days", "7"),
            ],
        )
        .await;
    assert_eq!(created.status().as_u16(), 403);
    let revoked = app
        .post_form(
            &format!("/setup/api-tokens/{id}/revoke"),
            &[("csrf_token", token.as_str()), ("confirmed", "1")],
        )
        .await;
    assert_eq!(revoked.status().as_u16(), 403);
    assert_eq!(app.count("api_tokens").await, 1);
    assert_eq!(
        app.number("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL")
            .await,
        0
    );
}

async fn another_companys_token_is_not_found_and_stays_live(app: TestApp) {
    let alpha = app.create_organization().await;
    let beta: Organization = app
        .create_organization_named("Beta Install", "bob", "bob@beta.example.com")
        .await;
    let secret = app.api_token(&alpha, &[]).await;
    let id = token_id(&app, "api test token").await;
    app.sign_in_as_admin(&beta).await;
    let list = app.get_text("/setup/api-tokens").await;
    assert!(
        !list.contains("api test token"),
        "another company's token is not listed: {list}"
    );
    let token = csrf_token_in(&list);
    for path in [
        format!("/setup/api-tokens/{id}/revoke"),
        "/setup/api-tokens/not-an-id/revoke".to_owned(),
        format!("/setup/api-tokens/{}/revoke", uuid::Uuid::now_v7()),
    ] {
        for confirmed in ["", "1"] {
            let response = app
                .post_form(
                    &path,
                    &[("csrf_token", token.as_str()), ("confirmed", confirmed)],
                )
                .await;
            assert_eq!(response.status().as_u16(), 404, "POST {path}");
            let body = response.text().await.unwrap();
            assert!(!body.contains("api test token"), "{body}");
        }
    }
    assert_eq!(me_status(&app, &secret).await, 200, "the token still works");
}

async fn the_list_shows_last_use_expiry_and_a_deactivated_creator_and_the_users_page_counts_tokens(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    let (_, member) = app
        .add_user_with_profile(
            &organization.org_id,
            "Integrators",
            &[Permission::ViewSetup, Permission::ManageApiTokens],
            "manager",
            ("Ivan", "Integrator"),
            "ivan",
        )
        .await;
    let used = app.api_token_of(&organization.org_id, &member, &[]).await;
    assert_eq!(me_status(&app, &used).await, 200);
    app.api_token_of(&organization.org_id, &member, &[]).await;
    app.execute(
        "UPDATE api_tokens SET name = 'Old sync', expires_at = created_at WHERE last_used_at IS NULL",
    )
    .await;
    app.sign_in_as_admin(&organization).await;

    let list = app.get_text("/setup/api-tokens").await;
    assert!(list.contains("from 127.0.0.1"), "{list}");
    assert!(list.contains("Expired"), "{list}");
    assert!(
        list.contains(&format!("href=\"/setup/users/{member}\"")),
        "the creator links to their page: {list}"
    );
    assert!(!list.contains("creator deactivated"), "{list}");
    let user_page = app.get_text(&format!("/setup/users/{member}")).await;
    assert!(
        user_page.contains("<a href=\"/setup/api-tokens\">1 active</a>"),
        "the user's page counts their live tokens: {user_page}"
    );

    app.text_value(
        "UPDATE users SET status = 'deactivated' WHERE id = $1 RETURNING id",
        &member,
    )
    .await
    .unwrap();
    let list = app.get_text("/setup/api-tokens").await;
    assert!(list.contains("creator deactivated"), "{list}");
    let user_page = app.get_text(&format!("/setup/users/{member}")).await;
    assert!(
        user_page.contains("they work only while their maker is Active"),
        "{user_page}"
    );
    assert_eq!(
        me_status(&app, &used).await,
        401,
        "a deactivated creator's token stops"
    );
}
