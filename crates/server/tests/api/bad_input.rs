use crate::helpers::{ADMIN_PASSWORD, TestApp, csrf_token_in, on_both_databases};
use onestop_server::usecases::create_organization::{
    CreateError, OrganizationInput, create_organization,
};

on_both_databases!(
    a_malformed_or_mistyped_body_gets_a_400_page_not_a_500,
    an_oversized_body_is_refused_before_any_work,
    an_email_used_in_another_organization_is_refused_and_nothing_is_written,
    a_username_taken_in_any_case_is_refused,
    markup_in_names_is_stored_as_typed_and_shown_escaped,
    empty_sign_in_fields_are_named,
);

async fn a_malformed_or_mistyped_body_gets_a_400_page_not_a_500(app: TestApp) {
    app.get("/login").await;
    let cases: [(&str, &[u8]); 3] = [
        (
            "application/x-www-form-urlencoded",
            b"csrf_token=%%%&username",
        ),
        ("application/json", b"{\"username\":\"ada\"}"),
        (
            "application/x-www-form-urlencoded",
            b"username=\xff\xfe&password=x",
        ),
    ];
    for (content_type, body) in cases {
        let response = app
            .client
            .post(app.url("/login"))
            .header("content-type", content_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{content_type}: {status}");
        let text = response.text().await.unwrap();
        assert!(
            !text.to_lowercase().contains("sqlx")
                && !text.contains("panicked")
                && !text.contains("src/"),
            "{text}"
        );
    }
}

async fn an_oversized_body_is_refused_before_any_work(app: TestApp) {
    let organization = app.create_organization().await;
    let token = csrf_token_in(&app.get_text("/login").await);
    let huge = "a".repeat(3 * 1024 * 1024);
    let result = app
        .client
        .post(app.url("/login"))
        .header("origin", &app.address)
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "ada"),
            ("password", huge.as_str()),
        ])
        .send()
        .await;
    match result {
        Ok(response) => assert_eq!(response.status().as_u16(), 413),
        // The server may answer 413 and close before the client has finished sending.
        Err(error) => assert!(error.is_request(), "{error:?}"),
    }
    assert_eq!(
        app.count("throttle_counters").await,
        0,
        "no sign-in attempt was even counted"
    );
    assert_eq!(app.count("sessions").await, 0);
    assert!(
        !app.store
            .audit_actions(&organization.scope)
            .await
            .unwrap()
            .contains(&"sign_in_failed".to_owned())
    );
}

fn organization_input(company: &str, email: &str, username: &str) -> OrganizationInput {
    OrganizationInput {
        company_name: company.into(),
        last_name: "Lovelace".into(),
        email: email.into(),
        username: username.into(),
        password: ADMIN_PASSWORD.into(),
        ..OrganizationInput::default()
    }
}

async fn an_email_used_in_another_organization_is_refused_and_nothing_is_written(app: TestApp) {
    app.create_organization().await;
    let result = create_organization(
        &app.services,
        &organization_input("Other Co", "  ADA@example.COM ", "ada2"),
        None,
        None,
    )
    .await;
    let Err(CreateError::Invalid(errors)) = result else {
        panic!("expected a field error, got {result:?}")
    };
    assert_eq!(
        errors.get("email"),
        Some("A user with this email address already exists; use another address.")
    );
    assert_eq!(
        app.count("organizations").await,
        1,
        "the whole organization was rolled back"
    );
    assert_eq!(app.count("profiles").await, 2);
    assert_eq!(app.count("users").await, 1);
}

async fn a_username_taken_in_any_case_is_refused(app: TestApp) {
    app.create_organization().await;
    let result = create_organization(
        &app.services,
        &organization_input("Other Co", "other@example.com", "ADA"),
        None,
        None,
    )
    .await;
    let Err(CreateError::Invalid(errors)) = result else {
        panic!("expected a field error, got {result:?}")
    };
    assert_eq!(
        errors.get("username"),
        Some("This username is taken; choose another.")
    );
    assert_eq!(app.count("organizations").await, 1);
}

async fn markup_in_names_is_stored_as_typed_and_shown_escaped(app: TestApp) {
    let input = OrganizationInput {
        first_name: "<script>alert(1)</script>".into(),
        ..organization_input(
            "Robert'); DROP TABLE users;--",
            "bobby@example.com",
            "bobby",
        )
    };
    let summary = create_organization(&app.services, &input, None, None)
        .await
        .unwrap();
    let organization = crate::helpers::Organization {
        scope: onestop_server::tenancy::OrganizationScope::operator(summary.org_id.clone()),
        org_id: summary.org_id.to_string(),
        admin_id: summary.administrator_id.to_string(),
        admin_username: "bobby",
    };
    app.sign_in_as_admin(&organization).await;
    let home = app.get_text("/").await;
    assert!(
        home.contains("Welcome, <bdi>&#60;script&#62;alert(1)&#60;/script&#62;</bdi>"),
        "{home}"
    );
    assert!(!home.contains("<script>alert(1)</script>"));
    assert!(home.contains("Robert&#39;); DROP TABLE users;--"), "{home}");
    assert_eq!(
        app.count("users").await,
        1,
        "the users table is still there"
    );
}

async fn empty_sign_in_fields_are_named(app: TestApp) {
    let token = csrf_token_in(&app.get_text("/login").await);
    let response = app
        .post_form(
            "/login",
            &[("csrf_token", &token), ("username", " "), ("password", "")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Enter your username or email address.")
            && page.contains("Enter your password."),
        "{page}"
    );
}
