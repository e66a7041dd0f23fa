use crate::helpers::{TestApp, location, on_both_databases};
use onestop_domain::{EmailAddress, FirstName, LastName, Password, PersonalWords, Username};
use onestop_server::store::NewActiveUser;

on_both_databases!(
    a_standard_user_sees_no_gear_and_is_refused_setup,
    an_anonymous_visitor_is_sent_to_sign_in
);

const STANDARD_PASSWORD: &str = "quiet orange bicycle";

async fn a_standard_user_sees_no_gear_and_is_refused_setup(app: TestApp) {
    let organization = app.create_organization().await;
    let password = Password::choose(STANDARD_PASSWORD, &PersonalWords::default()).unwrap();
    let user = NewActiveUser {
        first_name: &FirstName::parse("Grace").unwrap(),
        last_name: &LastName::parse("Hopper").unwrap(),
        email: &EmailAddress::parse("grace@example.com").unwrap(),
        username: &Username::parse("grace").unwrap(),
        password_hash: app.services.hasher.hash(&password).await.unwrap(),
    };
    app.store
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            &user,
            onestop_domain::Timestamp::from_unix_millis(0),
        )
        .await
        .unwrap();

    assert_eq!(
        app.sign_in("grace", STANDARD_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    app.agree_to_terms().await;
    let home = app.get_text("/").await;
    assert!(home.contains("Welcome, Grace"), "{home}");
    assert!(home.contains("Manager"), "the homepage names the role");
    assert!(
        !home.contains("aria-label=\"Setup\""),
        "no gear for a profile without Setup"
    );
    let setup = app.get("/setup").await;
    assert_eq!(setup.status().as_u16(), 403);
    assert!(
        setup
            .text()
            .await
            .unwrap()
            .contains("Your profile does not allow this.")
    );
}

async fn an_anonymous_visitor_is_sent_to_sign_in(app: TestApp) {
    app.create_organization().await;
    assert_eq!(location(&app.get("/").await), "/login");
    assert_eq!(location(&app.get("/setup").await), "/login?next=%2Fsetup");
    assert_eq!(location(&app.get("/terms").await), "/login?next=%2Fterms");
    let logout = app.post_form("/logout", &[("csrf_token", "x")]).await;
    assert_eq!(location(&logout), "/login");
}
