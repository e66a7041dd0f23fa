use crate::helpers::{TestApp, location, on_both_databases};

on_both_databases!(
    a_standard_user_sees_no_gear_and_is_refused_setup,
    an_anonymous_visitor_is_sent_to_sign_in
);

const STANDARD_PASSWORD: &str = "quiet orange bicycle";

async fn a_standard_user_sees_no_gear_and_is_refused_setup(app: TestApp) {
    let organization = app.create_organization().await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Grace", "Hopper"),
        "grace",
        STANDARD_PASSWORD,
    )
    .await;

    assert_eq!(
        app.sign_in("grace", STANDARD_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    app.agree_to_terms().await;
    let home = app.get_text("/").await;
    assert!(home.contains("Welcome, <bdi>Grace</bdi>"), "{home}");
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

on_both_databases!(
    a_user_manager_grants_only_what_they_hold_even_with_a_forged_form,
    a_standard_user_cannot_reach_new_user_and_a_forged_post_writes_nothing,
);

/// A user with a custom profile that may view Setup and manage users (not an Administrator), in
/// the Manager role, with an Installer role below it.
async fn sign_in_as_user_manager(app: &TestApp) -> (crate::helpers::Organization, String) {
    use crate::helpers::MEMBER_PASSWORD;
    use onestop_domain::{Permission, Timestamp};
    let organization = app.create_organization().await;
    let now = Timestamp::from_unix_millis(0);
    let manager_role = app.role_id(&organization.org_id, "Manager").await;
    app.store
        .add_role(
            &organization.scope,
            "Installer",
            &onestop_domain::RoleId::parse(&manager_role).unwrap(),
            now,
        )
        .await
        .unwrap();
    let (_, user_id) = app
        .add_user_with_profile(
            &organization.org_id,
            "User Manager",
            &[Permission::ViewSetup, Permission::ManageUsers],
            "manager",
            ("Margaret", "Hamilton"),
            "margaret",
        )
        .await;
    assert_eq!(
        app.sign_in("margaret", MEMBER_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    app.agree_to_terms().await;
    (organization, user_id)
}

async fn a_user_manager_grants_only_what_they_hold_even_with_a_forged_form(app: TestApp) {
    let (organization, _) = sign_in_as_user_manager(&app).await;
    let form = app.get_text("/setup/users/new").await;
    assert!(
        !form.contains(">Administrator</option>"),
        "Administrator is not offered"
    );
    assert!(form.contains(">Standard</option>") && form.contains(">User Manager</option>"));
    assert!(
        !form.contains(">CEO</option>") && !form.contains(">Manager</option>"),
        "only roles below her own"
    );
    assert!(form.contains(">Installer</option>"));

    let administrator = app.profile_id(&organization.org_id, "Administrator").await;
    let standard = app.profile_id(&organization.org_id, "Standard").await;
    let ceo = app.role_id(&organization.org_id, "CEO").await;
    let installer = app.role_id(&organization.org_id, "Installer").await;
    let token = crate::helpers::csrf_token_in(&form);
    for (profile, role, field_message) in [
        (
            &administrator,
            &installer,
            "Choose a profile from the list.",
        ),
        (&standard, &ceo, "Choose a role from the list."),
    ] {
        let response = app
            .post_form(
                "/setup/users/new",
                &[
                    ("csrf_token", &token),
                    ("first_name", "Eve"),
                    ("last_name", "Forger"),
                    ("email", "eve@example.com"),
                    ("profile_id", profile),
                    ("role_id", role),
                ],
            )
            .await;
        assert_eq!(response.status().as_u16(), 422);
        assert!(response.text().await.unwrap().contains(field_message));
    }
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM users WHERE email_normalized = $1",
            "eve@example.com"
        )
        .await,
        0
    );

    let response = app
        .post_form(
            "/setup/users/new",
            &[
                ("csrf_token", &token),
                ("first_name", "Ian"),
                ("last_name", "Installer"),
                ("email", "ian@example.com"),
                ("profile_id", &standard),
                ("role_id", &installer),
            ],
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "what she holds, she may grant"
    );
}

async fn a_standard_user_cannot_reach_new_user_and_a_forged_post_writes_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Grace", "Hopper"),
        "grace",
        STANDARD_PASSWORD,
    )
    .await;
    app.sign_in("grace", STANDARD_PASSWORD).await;
    app.agree_to_terms().await;
    for path in ["/setup/users", "/setup/users/new"] {
        assert_eq!(app.get(path).await.status().as_u16(), 403, "{path}");
    }
    let home = app.get_text("/").await;
    let response = app
        .post_form(
            "/setup/users/new",
            &[
                ("csrf_token", &crate::helpers::csrf_token_in(&home)),
                ("last_name", "Sneaky"),
                ("email", "sneaky@example.com"),
                ("profile_id", "x"),
                ("role_id", "y"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.count("invitations").await, 0);
    assert_eq!(app.count("outbox").await, 0);
}
