//! Two-step verification in Setup: "Require two-step verification" on profiles (the built-in
//! Administrator profile included), the company's "remember this browser" option, and Company
//! Details' count of the active users without it.

use crate::helpers::{MEMBER_PASSWORD, TestApp, csrf_token_in, on_both_databases};
use crate::two_step_rows::{audit_details, give_methods, signed_in_browser};
use onestop_domain::Permission;

on_both_databases!(
    a_profile_that_requires_two_step_verification_is_saved_shown_and_audited,
    the_built_in_administrator_profile_can_be_made_to_require_two_step_verification,
    remembering_browsers_is_off_by_default_and_company_details_save_it,
    company_details_count_active_users_without_two_step_verification,
);

/// 1 when the profile requires two-step verification (the column is INTEGER on both databases).
const REQUIRES_TWO_STEP: &str =
    "SELECT COUNT(*) FROM profiles WHERE id = $1 AND require_two_step = 1";

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
    let sam = app.add_sam(org_id).await;
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
