use crate::helpers::{
    ADMIN_PASSWORD, TestApp, csrf_token_in, hidden_field, location, on_both_databases,
};

on_both_databases!(
    every_page_waits_until_the_terms_are_accepted,
    declining_the_terms_signs_the_user_out,
    acceptance_records_the_version_time_address_and_browser,
    accepting_a_version_that_is_no_longer_current_shows_the_current_one,
    extra_fields_posted_to_accept_are_ignored,
);

async fn every_page_waits_until_the_terms_are_accepted(app: TestApp) {
    app.create_organization().await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    for path in ["/", "/setup"] {
        assert_eq!(
            location(&app.get(path).await),
            "/terms",
            "{path} waits for the Terms"
        );
    }
    let terms = app.get_text("/terms").await;
    assert!(
        terms.contains("Terms of Service")
            && terms.contains("I Agree")
            && terms.contains("Decline"),
        "{terms}"
    );
    assert!(terms.contains("Version 1"));
}

async fn declining_the_terms_signs_the_user_out(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let terms = app.get_text("/terms").await;
    let response = app
        .post_form("/terms/decline", &[("csrf_token", &csrf_token_in(&terms))])
        .await;
    assert_eq!(location(&response), "/login?declined=1");
    assert!(
        app.get_text("/login?declined=1")
            .await
            .contains("You declined the Terms of Service")
    );
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        0
    );
    assert_eq!(location(&app.get("/").await), "/login");
    assert!(
        app.store
            .terms_acceptances(&organization.admin_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.store
            .audit_actions(&organization.scope)
            .await
            .unwrap()
            .contains(&"terms_declined".to_owned())
    );
}

async fn acceptance_records_the_version_time_address_and_browser(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let terms = app.get_text("/terms").await;
    let response = app
        .client
        .post(app.url("/terms/accept"))
        .header("origin", &app.address)
        .header("user-agent", "Field Tablet Browser/2.0")
        .form(&[
            ("csrf_token", csrf_token_in(&terms)),
            ("version_id", hidden_field(&terms, "version_id")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/");
    let acceptances = app
        .store
        .terms_acceptances(&organization.admin_id)
        .await
        .unwrap();
    assert_eq!(acceptances.len(), 1);
    let acceptance = &acceptances[0];
    assert_eq!(acceptance.version, 1);
    assert_eq!(acceptance.ip, "127.0.0.1");
    assert_eq!(acceptance.user_agent, "Field Tablet Browser/2.0");
    assert_eq!(acceptance.accepted_at, app.now().unix_millis());
    let after = app.get_text("/terms").await;
    assert!(after.contains("You have accepted this version."), "{after}");
}

async fn accepting_a_version_that_is_no_longer_current_shows_the_current_one(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let terms = app.get_text("/terms").await;
    let response = app
        .post_form(
            "/terms/accept",
            &[
                ("csrf_token", &csrf_token_in(&terms)),
                ("version_id", "an-older-version"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The Terms of Service were updated while you were reading them.")
    );
    assert!(
        app.store
            .terms_acceptances(&organization.admin_id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn extra_fields_posted_to_accept_are_ignored(app: TestApp) {
    let organization = app.create_organization().await;
    let grace = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            crate::helpers::MEMBER_PASSWORD,
        )
        .await;
    app.sign_in_as_admin(&organization).await;
    let first_version = app
        .text_value(
            "SELECT id FROM terms_versions WHERE org_id = $1 AND version = 1",
            &organization.org_id,
        )
        .await
        .unwrap();
    app.store
        .publish_terms(
            &organization.scope,
            &organization.admin_id,
            "New terms.",
            "Everything changed.",
            None,
            app.now(),
        )
        .await
        .unwrap();
    app.clock.advance(std::time::Duration::from_secs(60));
    let terms = app.get_text("/terms").await;
    assert!(terms.contains("Version 2"), "{terms}");
    let response = app
        .client
        .post(app.url("/terms/accept"))
        .header("origin", &app.address)
        .header("x-forwarded-for", "203.0.113.9")
        .form(&[
            ("csrf_token", csrf_token_in(&terms).as_str()),
            ("version_id", hidden_field(&terms, "version_id").as_str()),
            ("user_id", grace.as_str()),
            ("version", "1"),
            ("terms_version_id", first_version.as_str()),
            ("ip", "203.0.113.9"),
            ("accepted_at", "0"),
            ("user_agent", "Forged/1.0"),
            ("org_id", "another-organization"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/");
    let acceptances = app
        .store
        .terms_acceptances(&organization.admin_id)
        .await
        .unwrap();
    let versions: Vec<i64> = acceptances
        .iter()
        .map(|acceptance| acceptance.version)
        .collect();
    assert_eq!(
        versions,
        [1, 2],
        "the signed-in user accepted the current version"
    );
    let acceptance = &acceptances[1];
    assert_eq!(
        acceptance.ip, "127.0.0.1",
        "the server's own view of the address"
    );
    assert_eq!(
        acceptance.accepted_at,
        app.now().unix_millis(),
        "the server's time"
    );
    assert_ne!(acceptance.user_agent, "Forged/1.0");
    assert!(
        app.store
            .terms_acceptances(&grace)
            .await
            .unwrap()
            .is_empty(),
        "nothing for the user named in the form"
    );
    assert_eq!(app.count("terms_acceptances").await, 2);
}
