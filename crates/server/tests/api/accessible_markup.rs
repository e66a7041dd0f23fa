//! What a screen reader needs from the markup, which axe-core in the browser tests cannot judge:
//! each rule hint and error is tied to its field, required fields are marked, each join outcome has
//! a title of its own, and an error page keeps the signed-in header.

use crate::helpers::{TestApp, csrf_token_in, on_both_databases};
use crate::invitations::{invite_grace, open_join_link};

on_both_databases!(
    the_join_form_ties_its_rules_and_errors_to_their_fields,
    a_drop_down_with_an_error_is_tied_to_its_message,
    each_join_outcome_has_a_title_of_its_own,
    a_signed_in_error_page_keeps_the_header_and_a_signed_out_one_has_none,
);

async fn the_join_form_ties_its_rules_and_errors_to_their_fields(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let (browser, page) = open_join_link(&app, &link).await;
    for expected in [
        r#"id="username-hint""#,
        r#"id="password-hint""#,
        r#"name="username" type="text" value="" autocomplete="username" required aria-describedby="username-hint""#,
        r#"name="password" type="password" value="" autocomplete="new-password" required aria-describedby="password-hint""#,
        "are required.",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }

    let answer = browser
        .post(app.url("/join"))
        .header("origin", &app.address)
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("username", ""),
            ("password", ""),
            ("password_confirmation", ""),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        answer.contains(r#"aria-invalid="true" aria-describedby="username-error username-hint""#),
        "{answer}"
    );
    assert!(answer.contains(r#"id="username-error""#), "{answer}");
}

async fn a_drop_down_with_an_error_is_tied_to_its_message(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let form = app.get_text("/setup/users/new").await;
    let answer = app
        .post_form(
            "/setup/users/new",
            &[
                ("csrf_token", csrf_token_in(&form).as_str()),
                ("first_name", "Grace"),
                ("last_name", "Hopper"),
                ("email", "grace@example.com"),
                ("profile_id", "not-a-profile"),
                ("role_id", "not-a-role"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    for expected in [
        r#"<select id="profile_id" name="profile_id" aria-invalid="true" aria-describedby="profile_id-error">"#,
        r#"<p class="field-error" id="profile_id-error">Choose a profile from the list.</p>"#,
        r#"<select id="role_id" name="role_id" aria-invalid="true" aria-describedby="role_id-error">"#,
    ] {
        assert!(answer.contains(expected), "{expected} in {answer}");
    }
}

async fn each_join_outcome_has_a_title_of_its_own(app: TestApp) {
    let page = app.get_text("/join/not-a-valid-token").await;
    assert!(
        page.contains("<title>Invitation not valid · 1Stop</title>"),
        "{page}"
    );
}

async fn a_signed_in_error_page_keeps_the_header_and_a_signed_out_one_has_none(app: TestApp) {
    let signed_out = app.new_client();
    let page = signed_out
        .get(app.url("/no-such-page"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Page not found"), "{page}");
    assert!(!page.contains("Sign Out"), "{page}");

    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let response = app.get("/setup/no-such-page").await;
    assert_eq!(response.status().as_u16(), 404);
    let page = response.text().await.unwrap();
    for expected in [
        "Page not found",
        "Sign Out",
        r#"<a href="/">Home</a>"#,
        r#"<a href="/help">Help</a>"#,
        r#"aria-label="Setup""#,
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
}
