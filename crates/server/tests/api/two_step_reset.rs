//! Two-step verification on a user's page: their methods and recovery codes (never a secret),
//! and "Reset two-step verification", with who may and may not use it.
//!
//! The user's side (enrolling, the second step) is built elsewhere, so these tests put the rows
//! a user's enrolment would write straight into the database (`give_methods`).

use crate::helpers::{MEMBER_PASSWORD, TestApp, csrf_token_in, location, on_both_databases};
use crate::two_step_rows::{
    CREDENTIAL_ID, SEALED_SECRET, audit_details, give_methods, is_signed_in, signed_in_browser,
    two_step_rows,
};
use onestop_domain::Permission;
use onestop_server::metrics::ScrapeGauges;

on_both_databases!(
    a_users_page_lists_their_methods_and_codes_but_never_a_secret,
    reset_removes_every_method_code_browser_and_session_of_the_user_and_is_audited,
    reset_is_refused_without_the_permission_across_companies_by_the_grant_rule_and_for_oneself,
    reset_is_refused_without_the_forms_token,
);

async fn a_users_page_lists_their_methods_and_codes_but_never_a_secret(app: TestApp) {
    let organization = app.create_organization().await;
    let sam = app.add_sam(&organization.org_id).await;
    app.sign_in_as_admin(&organization).await;
    let page = app.get_text(&format!("/setup/users/{sam}")).await;
    assert!(page.contains("Two-step verification</h2>"), "{page}");
    assert!(
        page.contains("No authenticator app or passkey is set up."),
        "{page}"
    );
    assert!(page.contains("0 unused recovery codes."), "{page}");
    assert!(
        !page.contains("value=\"two_step_reset\""),
        "nothing to reset: {page}"
    );

    give_methods(&app, &organization.org_id, &sam).await;
    let page = app.get_text(&format!("/setup/users/{sam}")).await;
    for expected in [
        "Not required by profile.",
        "8 unused recovery codes.",
        "<td>Authenticator app</td><td><bdi>Phone</bdi></td>",
        "<td>Passkey</td><td><bdi>YubiKey</bdi></td>",
        // Added and last used, in the reader's zone (UTC: the company's default).
        " UTC</time></td><td>Never</td>",
        "value=\"two_step_reset\"",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    for secret in [SEALED_SECRET, CREDENTIAL_ID, "passkey-public-key", "hash-3"] {
        assert!(!page.contains(secret), "{secret} never reaches the page");
    }

    // Somebody gives Sam's password but not the second step: the administrator sees that
    // session for what it is, and /metrics does not count it as signed in.
    let pending = app.new_client();
    let response = app.sign_in_with(&pending, "sam", MEMBER_PASSWORD).await;
    assert_eq!(location(&response), "/login/two-step");
    let page = app.get_text(&format!("/setup/users/{sam}")).await;
    assert!(
        page.contains("(password given, second step not yet)"),
        "{page}"
    );
    let gauges = ScrapeGauges::read(&app.services).await.unwrap();
    assert_eq!(
        gauges.active_sessions, 1,
        "the administrator's session only"
    );

    // Their profile's requirement shows.
    app.execute(&format!(
        "UPDATE profiles SET require_two_step = 1 WHERE builtin = 'standard' AND org_id = '{}'",
        organization.org_id
    ))
    .await;
    let page = app.get_text(&format!("/setup/users/{sam}")).await;
    assert!(page.contains("Required by profile."), "{page}");

    // The administrator's own page sends them to My Account instead of offering Reset.
    let ada = &organization.admin_id;
    give_methods(&app, &organization.org_id, ada).await;
    let own = app.get_text(&format!("/setup/users/{ada}")).await;
    assert!(own.contains("<bdi>YubiKey</bdi>"), "{own}");
    assert!(!own.contains("value=\"two_step_reset\""), "{own}");
    assert!(own.contains("Manage your own methods on"), "{own}");
}

/// Presses Reset two-step verification on `user`'s page, then Confirm; returns the answer to
/// the confirmation.
async fn reset(app: &TestApp, user: &str) -> reqwest::Response {
    let page = app.get_text(&format!("/setup/users/{user}")).await;
    let token = csrf_token_in(&page);
    let path = format!("/setup/users/{user}/actions");
    let asked = app
        .post_form(
            &path,
            &[("csrf_token", &token), ("action", "two_step_reset")],
        )
        .await;
    assert_eq!(asked.status().as_u16(), 200, "Reset asks first");
    let confirmation = asked.text().await.unwrap();
    assert!(
        confirmation.contains("Reset two-step verification of Sam Standard?")
            && confirmation.contains("name=\"confirmed\" value=\"1\"")
            && confirmation.contains(&format!("href=\"/setup/users/{user}\">Cancel</a>")),
        "{confirmation}"
    );
    app.post_form(
        &path,
        &[
            ("csrf_token", &token),
            ("action", "two_step_reset"),
            ("confirmed", "1"),
        ],
    )
    .await
}

async fn reset_removes_every_method_code_browser_and_session_of_the_user_and_is_audited(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    let sam = app.add_sam(&organization.org_id).await;
    let bob = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Bob", "Builder"),
            "bob",
            MEMBER_PASSWORD,
        )
        .await;
    // Signed in before they had methods, so that no sign-in owes a second step.
    let sam_browser = signed_in_browser(&app, "sam", MEMBER_PASSWORD).await;
    let sam_phone = signed_in_browser(&app, "sam", MEMBER_PASSWORD).await;
    let bob_browser = signed_in_browser(&app, "bob", MEMBER_PASSWORD).await;
    app.sign_in_as_admin(&organization).await;
    give_methods(&app, &organization.org_id, &sam).await;
    give_methods(&app, &organization.org_id, &bob).await;
    assert_eq!(two_step_rows(&app, &sam).await, [2, 10, 1, 1]);

    // Before Confirm nothing changes.
    let page = app.get_text(&format!("/setup/users/{sam}")).await;
    let asked = app
        .post_form(
            &format!("/setup/users/{sam}/actions"),
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("action", "two_step_reset"),
            ],
        )
        .await;
    assert_eq!(asked.status().as_u16(), 200);
    assert_eq!(two_step_rows(&app, &sam).await, [2, 10, 1, 1]);
    assert!(is_signed_in(&app, &sam_browser).await);

    let response = reset(&app, &sam).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), format!("/setup/users/{sam}"));
    let page = app.get_text(&location(&response)).await;
    assert!(
        page.contains(
            "Two-step verification of Sam Standard was reset: their methods and recovery codes are removed and 2 sessions ended."
        ),
        "{page}"
    );
    assert!(
        page.contains("No authenticator app or passkey is set up."),
        "{page}"
    );
    assert_eq!(two_step_rows(&app, &sam).await, [0, 0, 0, 0]);
    assert!(!is_signed_in(&app, &sam_browser).await, "Sam is signed out");
    assert!(!is_signed_in(&app, &sam_phone).await, "everywhere");
    assert_eq!(
        two_step_rows(&app, &bob).await,
        [2, 10, 1, 1],
        "Bob keeps his"
    );
    assert!(is_signed_in(&app, &bob_browser).await, "and his session");
    assert!(app.get("/setup/users").await.status().is_success());
    let events = audit_details(&app, "two_step_reset").await;
    assert_eq!(
        events,
        vec![format!(
            "{} {sam} 2 methods and 8 unused recovery codes removed; 2 sessions ended",
            organization.admin_id
        )]
    );
    // The audit viewer names it.
    let log = app.get_text("/setup/audit").await;
    assert!(log.contains("Two-step verification reset"), "{log}");
}

async fn reset_is_refused_without_the_permission_across_companies_by_the_grant_rule_and_for_oneself(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    let org_id = organization.org_id.as_str();
    let ada = organization.admin_id.clone();
    // Uma manages users but is not an Administrator: Ada is above her.
    app.add_user_with_profile(
        org_id,
        "Users Only",
        &[Permission::ViewSetup, Permission::ManageUsers],
        "ceo",
        ("Uma", "Usersonly"),
        "uma",
    )
    .await;
    // Sam may not manage users at all.
    let sam = app.add_sam(org_id).await;
    let other = app
        .create_organization_named("Other Co", "otto", "otto@other.example")
        .await;
    // Everyone signs in before having methods, so that no sign-in owes a second step.
    app.sign_in_as_admin(&organization).await;
    let sam_browser = signed_in_browser(&app, "sam", MEMBER_PASSWORD).await;
    let uma_browser = signed_in_browser(&app, "uma", MEMBER_PASSWORD).await;
    give_methods(&app, org_id, &ada).await;
    give_methods(&app, org_id, &sam).await;
    give_methods(&app, &other.org_id, &other.admin_id).await;

    let post = |browser: reqwest::Client, page: String, target: String| {
        let app = &app;
        async move {
            browser
                .post(app.url(&format!("/setup/users/{target}/actions")))
                .header("origin", &app.address)
                .form(&[
                    ("csrf_token", csrf_token_in(&page).as_str()),
                    ("action", "two_step_reset"),
                    ("confirmed", "1"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let page_of = |browser: reqwest::Client, path: &'static str| {
        let app = &app;
        async move {
            browser
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };

    // Without Manage Users: 403.
    let home = page_of(sam_browser.clone(), "/account").await;
    let refused = post(sam_browser, home, ada.clone()).await;
    assert_eq!(refused.status().as_u16(), 403);

    // By the grant rule: Uma sees Ada's page without the section, and Reset is 404.
    let ada_page = uma_browser
        .get(app.url(&format!("/setup/users/{ada}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !ada_page.contains("Two-step verification</h2>"),
        "{ada_page}"
    );
    let refused = post(uma_browser.clone(), ada_page, ada.clone()).await;
    assert_eq!(refused.status().as_u16(), 404, "as on Edit User");
    assert!(is_signed_in(&app, &uma_browser).await);

    // Another company's user: 404.
    let users = app.get_text("/setup/users").await;
    let refused = post(app.client.clone(), users.clone(), other.admin_id.clone()).await;
    assert_eq!(refused.status().as_u16(), 404);

    // Oneself: refused with the reason, on one's own page.
    let response = post(app.client.clone(), users, ada.clone()).await;
    assert_eq!(response.status().as_u16(), 303);
    let own = app.get_text(&location(&response)).await;
    assert!(
        own.contains("You cannot reset your own two-step verification here; use My Account."),
        "{own}"
    );
    assert!(is_signed_in(&app, &app.client).await);

    assert_eq!(two_step_rows(&app, &ada).await, [2, 10, 1, 1]);
    assert_eq!(two_step_rows(&app, &other.admin_id).await, [2, 10, 1, 1]);
    assert_eq!(two_step_rows(&app, &sam).await, [2, 10, 1, 1]);
    assert!(audit_details(&app, "two_step_reset").await.is_empty());
}

async fn reset_is_refused_without_the_forms_token(app: TestApp) {
    let organization = app.create_organization().await;
    let sam = app.add_sam(&organization.org_id).await;
    give_methods(&app, &organization.org_id, &sam).await;
    app.sign_in_as_admin(&organization).await;
    let path = format!("/setup/users/{sam}/actions");
    for (how, token, origin) in [
        ("without a token", "", app.address.clone()),
        ("with a forged token", "forged", app.address.clone()),
    ] {
        let response = app
            .client
            .post(app.url(&path))
            .header("origin", origin)
            .form(&[
                ("csrf_token", token),
                ("action", "two_step_reset"),
                ("confirmed", "1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{how}");
    }
    let page = app.get_text(&format!("/setup/users/{sam}")).await;
    let cross_site = app
        .client
        .post(app.url(&path))
        .header("origin", "https://attacker.example")
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("action", "two_step_reset"),
            ("confirmed", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status().as_u16(), 403, "from another site");
    assert_eq!(two_step_rows(&app, &sam).await, [2, 10, 1, 1]);
    assert!(audit_details(&app, "two_step_reset").await.is_empty());
}
