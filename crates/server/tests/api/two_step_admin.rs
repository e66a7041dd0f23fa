//! Two-step verification from the administrators' side: "Require two-step verification" on
//! profiles, the company's "remember this browser" option and its count of users without it, a
//! user's methods on their page (never a secret), and "Reset two-step verification".
//!
//! The user's side (enrolling, the second step) is built elsewhere, so these tests put the rows
//! a user's enrolment would write straight into the database (`give_methods`).

use crate::helpers::{MEMBER_PASSWORD, TestApp, csrf_token_in, location, on_both_databases};
use crate::two_step_rows::{CREDENTIAL_ID, SEALED_SECRET, give_methods, two_step_rows};
use onestop_domain::Permission;

on_both_databases!(
    a_profile_that_requires_two_step_verification_is_saved_shown_and_audited,
    the_built_in_administrator_profile_can_be_made_to_require_two_step_verification,
    remembering_browsers_is_off_by_default_and_company_details_save_it,
    company_details_count_active_users_without_two_step_verification,
    a_users_page_lists_their_methods_and_codes_but_never_a_secret,
    reset_removes_every_method_code_browser_and_session_of_the_user_and_is_audited,
    reset_is_refused_without_the_permission_across_companies_by_the_grant_rule_and_for_oneself,
    reset_is_refused_without_the_forms_token,
);

/// 1 when the profile requires two-step verification (the column is INTEGER on both databases).
const REQUIRES_TWO_STEP: &str =
    "SELECT COUNT(*) FROM profiles WHERE id = $1 AND require_two_step = 1";

async fn signed_in_browser(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let browser = app.new_client();
    let response = app.sign_in_with(&browser, username, password).await;
    assert_eq!(response.status().as_u16(), 303, "{username} signs in");
    let home = location(&browser.get(app.url("/")).send().await.unwrap());
    if home == "/terms" {
        app.agree_with(&browser).await;
    }
    browser
}

/// Whether `browser` still has a session: `/` shows the homepage rather than redirecting.
async fn is_signed_in(app: &TestApp, browser: &reqwest::Client) -> bool {
    location(&browser.get(app.url("/")).send().await.unwrap()).is_empty()
}

async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    app.text_values(&format!(
        "SELECT COALESCE(actor_user_id, '') || ' ' || COALESCE(target_user_id, '') || ' ' || details \
           FROM audit_events WHERE action = '{action}' ORDER BY at, id"
    ))
    .await
}

async fn a_profile_that_requires_two_step_verification_is_saved_shown_and_audited(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let token = csrf_token_in(&app.get_text("/setup/profiles").await);
    let created = app
        .post_form(
            "/setup/profiles",
            &[
                ("csrf_token", &token),
                ("name", "Field Crew"),
                ("description", "Out on the jobs"),
                ("permissions", Permission::ViewSetup.key()),
                ("require_two_step", "on"),
            ],
        )
        .await;
    assert_eq!(created.status().as_u16(), 200);
    let list = created.text().await.unwrap();
    assert!(list.contains("Profile Field Crew created."), "{list}");
    let field_crew = app.profile_id(&organization.org_id, "Field Crew").await;
    let stored = |id: String| {
        let app = &app;
        async move { app.number_value(REQUIRES_TWO_STEP, &id).await }
    };
    assert_eq!(stored(field_crew.clone()).await, 1, "the setting is stored");
    assert!(list.contains("<th scope=\"col\">Two-step</th>"), "{list}");
    assert!(
        list.contains("Require two-step verification for Standard"),
        "Standard does not require it, and offers to: {list}"
    );
    assert!(
        list.contains("Stop requiring two-step verification for Field Crew"),
        "Field Crew requires it: {list}"
    );

    // Editing shows the box ticked; saving without it turns it off; both are audited.
    let edit = app.get_text(&format!("/setup/profiles/{field_crew}")).await;
    assert!(
        edit.contains("name=\"require_two_step\" value=\"on\" aria-describedby=\"require_two_step-hint\" checked"),
        "{edit}"
    );
    let clone = app
        .get_text(&format!("/setup/profiles/{field_crew}/clone"))
        .await;
    assert!(
        clone.contains("aria-describedby=\"require_two_step-hint\" checked"),
        "a clone starts with the setting of its source: {clone}"
    );
    let updated = app
        .post_form(
            &format!("/setup/profiles/{field_crew}"),
            &[
                ("csrf_token", &token),
                ("name", "Field Crew"),
                ("description", "Out on the jobs"),
                ("permissions", Permission::ViewSetup.key()),
            ],
        )
        .await;
    assert_eq!(updated.status().as_u16(), 303);
    assert_eq!(stored(field_crew.clone()).await, 0, "unticked turns it off");
    let edit = app.get_text(&format!("/setup/profiles/{field_crew}")).await;
    assert!(
        !edit.contains("aria-describedby=\"require_two_step-hint\" checked"),
        "{edit}"
    );

    // The list's button turns it on again, for a custom profile too.
    let toggled = app
        .post_form(
            &format!("/setup/profiles/{field_crew}/two-step"),
            &[("csrf_token", &token), ("require_two_step", "on")],
        )
        .await;
    assert_eq!(toggled.status().as_u16(), 200);
    assert!(
        toggled
            .text()
            .await
            .unwrap()
            .contains("Field Crew now requires two-step verification"),
    );
    assert_eq!(stored(field_crew).await, 1);
    assert_eq!(audit_details(&app, "profile_created").await.len(), 1);
    let changes = audit_details(&app, "profile_updated").await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        changes[1].ends_with("Field Crew: two-step verification required"),
        "{changes:?}"
    );
}

async fn the_built_in_administrator_profile_can_be_made_to_require_two_step_verification(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.add_user_with_profile(
        &organization.org_id,
        "Profile Editors",
        &[Permission::ViewSetup, Permission::ManageProfiles],
        "ceo",
        ("Pat", "Profiles"),
        "pat",
    )
    .await;
    app.sign_in_as_admin(&organization).await;
    let administrator = app
        .text_value(
            "SELECT id FROM profiles WHERE builtin = 'administrator' AND org_id = $1",
            &organization.org_id,
        )
        .await
        .unwrap();
    // Someone without all of its permissions may not change it.
    let pat = signed_in_browser(&app, "pat", MEMBER_PASSWORD).await;
    let list = pat
        .get(app.url("/setup/profiles"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused = pat
        .post(app.url(&format!("/setup/profiles/{administrator}/two-step")))
        .header("origin", &app.address)
        .form(&[
            ("csrf_token", csrf_token_in(&list).as_str()),
            ("require_two_step", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 404);
    let stored = || app.number_value(REQUIRES_TWO_STEP, &administrator);
    assert_eq!(stored().await, 0);

    let list = app.get_text("/setup/profiles").await;
    let response = app
        .post_form(
            &format!("/setup/profiles/{administrator}/two-step"),
            &[
                ("csrf_token", &csrf_token_in(&list)),
                ("require_two_step", "on"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let list = response.text().await.unwrap();
    assert!(
        list.contains("Administrator now requires two-step verification"),
        "{list}"
    );
    assert!(
        list.contains("Stop requiring two-step verification for Administrator"),
        "{list}"
    );
    assert_eq!(stored().await, 1);
    // The JSON API says so too.
    let token = app.api_token(&organization, &[]).await;
    let listed: serde_json::Value = app
        .with_token(reqwest::Method::GET, "/api/v1/profiles", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let requires = |name: &str| {
        listed["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|profile| profile["name"] == name)
            .map(|profile| profile["require_two_step"].clone())
    };
    assert_eq!(
        requires("Administrator"),
        Some(serde_json::Value::Bool(true))
    );
    assert_eq!(requires("Standard"), Some(serde_json::Value::Bool(false)));
    let events = audit_details(&app, "profile_updated").await;
    assert_eq!(
        events,
        vec![format!(
            "{admin} {admin} Administrator: two-step verification required",
            admin = organization.admin_id
        )]
    );
}

async fn remembering_browsers_is_off_by_default_and_company_details_save_it(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let stored = || {
        app.number_value(
            "SELECT COUNT(*) FROM organizations WHERE id = $1 AND remember_two_step_browsers = 1",
            &organization.org_id,
        )
    };
    assert_eq!(stored().await, 0, "off by default");
    let page = app.get_text("/setup/company").await;
    assert!(
        page.contains("Remember a browser for 30 days after its second step"),
        "{page}"
    );
    assert!(
        !page.contains("aria-describedby=\"remember_two_step_browsers-hint\" checked"),
        "{page}"
    );
    let token = csrf_token_in(&page);
    let form = |remember: bool| {
        let mut fields = vec![
            ("csrf_token", token.clone()),
            ("company_name", "1Stop Install".to_owned()),
            ("account_name", "Install".to_owned()),
            ("invitation_lifetime_hours", "168".to_owned()),
            ("time_zone", "UTC".to_owned()),
        ];
        if remember {
            fields.push(("remember_two_step_browsers", "on".to_owned()));
        }
        fields
    };
    let saved = app
        .client
        .post(app.url("/setup/company"))
        .header("origin", &app.address)
        .form(&form(true))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status().as_u16(), 200);
    let page = saved.text().await.unwrap();
    assert!(page.contains("Company details saved."), "{page}");
    assert!(
        page.contains("aria-describedby=\"remember_two_step_browsers-hint\" checked"),
        "{page}"
    );
    assert_eq!(stored().await, 1);
    let saved = app
        .client
        .post(app.url("/setup/company"))
        .header("origin", &app.address)
        .form(&form(false))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status().as_u16(), 200);
    assert_eq!(stored().await, 0, "unticked turns it off");
    assert_eq!(
        audit_details(&app, "company_details_changed").await.len(),
        2,
        "each save is audited like other company changes"
    );
}

async fn company_details_count_active_users_without_two_step_verification(app: TestApp) {
    let organization = app.create_organization().await;
    let org_id = organization.org_id.as_str();
    let (field_crew, _) = app
        .add_user_with_profile(
            org_id,
            "Field Crew",
            &[],
            "manager",
            ("Carol", "Crew"),
            "carol",
        )
        .await;
    app.execute(&format!(
        "UPDATE profiles SET require_two_step = 1 WHERE id = '{field_crew}'"
    ))
    .await;
    // Dave needs it too, but is deactivated: not counted.
    let dave = app
        .add_active_user(
            org_id,
            "standard",
            "manager",
            ("Dave", "Gone"),
            "dave",
            MEMBER_PASSWORD,
        )
        .await;
    app.set_user_profile(&dave, &field_crew).await;
    app.execute(&format!(
        "UPDATE users SET status = 'deactivated' WHERE id = '{dave}'"
    ))
    .await;
    // Erin has it set up, in the profile that requires it; Sam set it up without having to.
    let erin = app
        .add_active_user(
            org_id,
            "standard",
            "manager",
            ("Erin", "Enrolled"),
            "erin",
            MEMBER_PASSWORD,
        )
        .await;
    app.set_user_profile(&erin, &field_crew).await;
    give_methods(&app, org_id, &erin).await;
    let sam = app
        .add_active_user(
            org_id,
            "standard",
            "manager",
            ("Sam", "Standard"),
            "sam",
            MEMBER_PASSWORD,
        )
        .await;
    give_methods(&app, org_id, &sam).await;
    // Bob has none and need not.
    app.add_active_user(
        org_id,
        "standard",
        "manager",
        ("Bob", "Builder"),
        "bob",
        MEMBER_PASSWORD,
    )
    .await;
    // Another company's users count only there.
    let other = app
        .create_organization_named("Other Co", "otto", "otto@other.example")
        .await;
    app.add_active_user(
        &other.org_id,
        "standard",
        "manager",
        ("Olga", "Other"),
        "olga",
        MEMBER_PASSWORD,
    )
    .await;

    app.sign_in_as_admin(&organization).await;
    let page = app.get_text("/setup/company").await;
    // Ada, Carol and Bob lack it; of them Carol must have it.
    assert!(
        page.contains(
            "3 active users have not set up two-step verification; 1 of them is in a profile that requires it"
        ),
        "{page}"
    );
    // Requiring it of the Standard profile adds Bob.
    app.execute(&format!(
        "UPDATE profiles SET require_two_step = 1 WHERE builtin = 'standard' AND org_id = '{org_id}'"
    ))
    .await;
    let page = app.get_text("/setup/company").await;
    assert!(
        page.contains(
            "3 active users have not set up two-step verification; 2 of them are in a profile that requires it"
        ),
        "{page}"
    );
}

async fn a_users_page_lists_their_methods_and_codes_but_never_a_secret(app: TestApp) {
    let organization = app.create_organization().await;
    let sam = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Sam", "Standard"),
            "sam",
            MEMBER_PASSWORD,
        )
        .await;
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
    let sam = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Sam", "Standard"),
            "sam",
            MEMBER_PASSWORD,
        )
        .await;
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
    give_methods(&app, &organization.org_id, &sam).await;
    give_methods(&app, &organization.org_id, &bob).await;
    let sam_browser = signed_in_browser(&app, "sam", MEMBER_PASSWORD).await;
    let sam_phone = signed_in_browser(&app, "sam", MEMBER_PASSWORD).await;
    let bob_browser = signed_in_browser(&app, "bob", MEMBER_PASSWORD).await;
    app.sign_in_as_admin(&organization).await;
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
    give_methods(&app, org_id, &ada).await;
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
    let sam = app
        .add_active_user(
            org_id,
            "standard",
            "manager",
            ("Sam", "Standard"),
            "sam",
            MEMBER_PASSWORD,
        )
        .await;
    give_methods(&app, org_id, &sam).await;
    let other = app
        .create_organization_named("Other Co", "otto", "otto@other.example")
        .await;
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
    let sam_browser = signed_in_browser(&app, "sam", MEMBER_PASSWORD).await;
    let home = page_of(sam_browser.clone(), "/account").await;
    let refused = post(sam_browser, home, ada.clone()).await;
    assert_eq!(refused.status().as_u16(), 403);

    // By the grant rule: Uma sees Ada's page without the section, and Reset is 404.
    let uma_browser = signed_in_browser(&app, "uma", MEMBER_PASSWORD).await;
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
    app.sign_in_as_admin(&organization).await;
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
    let sam = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Sam", "Standard"),
            "sam",
            MEMBER_PASSWORD,
        )
        .await;
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
