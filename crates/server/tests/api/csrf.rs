use crate::helpers::{ADMIN_PASSWORD, TestApp, csrf_token_in, on_both_databases};

on_both_databases!(
    a_sign_in_without_the_form_token_is_refused,
    a_sign_in_with_another_browsers_token_is_refused,
    a_post_from_another_origin_is_refused_even_with_a_valid_token,
    a_post_that_the_browser_marks_cross_site_is_refused,
    a_null_origin_is_accepted_only_when_the_browser_vouches_same_origin,
    a_browser_without_cookies_is_told_to_enable_them,
    a_signed_in_form_needs_the_sessions_token,
);

async fn a_sign_in_without_the_form_token_is_refused(app: TestApp) {
    app.create_organization().await;
    app.get("/login").await;
    let response = app
        .post_form(
            "/login",
            &[("username", "ada"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    assert_eq!(app.count("sessions").await, 0);
}

async fn a_sign_in_with_another_browsers_token_is_refused(app: TestApp) {
    app.create_organization().await;
    let other_browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let foreign_page = other_browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    app.get("/login").await;
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &csrf_token_in(&foreign_page)),
                ("username", "ada"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.count("sessions").await, 0);
}

async fn a_post_from_another_origin_is_refused_even_with_a_valid_token(app: TestApp) {
    app.create_organization().await;
    let token = csrf_token_in(&app.get_text("/login").await);
    let response = app
        .client
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "ada"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.count("sessions").await, 0);
}

async fn a_post_that_the_browser_marks_cross_site_is_refused(app: TestApp) {
    app.create_organization().await;
    let token = csrf_token_in(&app.get_text("/login").await);
    let response = app
        .client
        .post(app.url("/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "ada"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.count("sessions").await, 0);
}

async fn a_browser_without_cookies_is_told_to_enable_them(app: TestApp) {
    app.create_organization().await;
    let no_cookies = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = no_cookies
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = no_cookies
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("username", "ada"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Cookie is disabled in your browser. Please enable the Cookie to continue."),
        "{body}"
    );
    assert!(
        body.contains("another browser"),
        "it says what to do: {body}"
    );
}

async fn a_signed_in_form_needs_the_sessions_token(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let response = app
        .post_form("/logout", &[("csrf_token", "not-the-token")])
        .await;
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        1,
        "still signed in"
    );
}

async fn a_null_origin_is_accepted_only_when_the_browser_vouches_same_origin(app: TestApp) {
    app.create_organization().await;
    let token = csrf_token_in(&app.get_text("/login").await);
    let form = [
        ("csrf_token", token.as_str()),
        ("username", "ada"),
        ("password", ADMIN_PASSWORD),
    ];
    let without_vouching = app
        .client
        .post(app.url("/login"))
        .header("origin", "null")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(without_vouching.status().as_u16(), 403);
    let vouched = app
        .client
        .post(app.url("/login"))
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(vouched.status().as_u16(), 303);
}
