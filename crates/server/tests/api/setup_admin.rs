//! Setup > Profiles, Roles, Terms of Service and Audit Log, and the authorization matrix over
//! every Setup route.

use crate::helpers::{
    ADMIN_PASSWORD, MEMBER_PASSWORD, Organization, TestApp, csrf_token_in, location,
    on_both_databases,
};
use crate::invitations::{
    GRACE_PASSWORD, open_join_link, queued_join_link, save_new_user, submit_join,
};
use onestop_domain::{Permission, PermissionSet, Timestamp};

on_both_databases!(
    every_setup_route_answers_each_kind_of_visitor_as_it_should,
    a_cloned_profile_can_be_edited_assigned_and_deleted,
    a_profile_cannot_grant_what_its_editor_lacks,
    a_profile_holding_more_than_its_editor_cannot_be_changed_by_them,
    long_terms_of_service_can_be_published,
    a_role_manager_without_the_administrator_profile_works_only_below_their_role,
    roles_form_a_tree_and_a_new_role_starts_from_its_parents_homepage,
    role_homepage_edits_show_for_that_roles_users,
    publishing_new_terms_gates_everyone_and_records_the_acceptance,
    the_audit_log_lists_and_filters_what_happened,
);

/// A Setup action for the matrix: path, form fields, and whether a "manage users" profile may do it.
type Action = (String, Vec<(&'static str, String)>, bool);

/// A fresh browser signed in as `username`, past the Terms.
async fn browser_for(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let browser = app.new_client();
    assert_eq!(
        location(&app.sign_in_with(&browser, username, password).await),
        "/"
    );
    app.agree_with(&browser).await;
    browser
}

/// What the matrix counts, in the target organization, to prove that refused requests wrote
/// nothing (sessions and sign-ins aside).
async fn footprint(app: &TestApp, org_id: &str) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "users",
        "invitations",
        "outbox",
        "profiles",
        "roles",
        "role_first_steps",
        "terms_versions",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1");
        counts.push(app.number_value(&sql, org_id).await);
    }
    let audit = "SELECT COUNT(*) FROM audit_events WHERE org_id = $1 AND action NOT IN ('signed_in', 'terms_accepted')";
    counts.push(app.number_value(audit, org_id).await);
    let details = "SELECT company_name || account_name || invitation_lifetime_ms FROM organizations WHERE id = $1";
    counts.push(
        app.text_value(details, org_id)
            .await
            .map_or(0, |text| text.len() as i64),
    );
    counts
}

async fn every_setup_route_answers_each_kind_of_visitor_as_it_should(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    let grace = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .unwrap();
    let now = Timestamp::from_unix_millis(0);
    let manager_role = app.role_id(&organization.org_id, "Manager").await;
    let installer = app
        .store
        .add_role(
            &organization.scope,
            "Installer",
            &onestop_domain::RoleId::parse(&manager_role).unwrap(),
            now,
        )
        .await
        .unwrap();
    app.add_sam(&organization.org_id).await;
    let (custom, _) = app
        .add_user_with_profile(
            &organization.org_id,
            "Users Only",
            &[Permission::ViewSetup, Permission::ManageUsers],
            "ceo",
            ("Uma", "Usersonly"),
            "uma",
        )
        .await;
    let other = app
        .create_organization_named("Other Co", "otto", "otto@other.example")
        .await;

    let admin = app.client.clone();
    let standard = browser_for(&app, "sam", MEMBER_PASSWORD).await;
    let users_manager = browser_for(&app, "uma", MEMBER_PASSWORD).await;
    let anonymous = app.new_client();
    let outsider = browser_for(&app, other.admin_username, ADMIN_PASSWORD).await;

    let entity_pages = [
        format!("/setup/users/{grace}"),
        format!("/setup/profiles/{custom}"),
        format!("/setup/profiles/{custom}/clone"),
        format!("/setup/roles/{installer}"),
    ];
    // (path, what the "manage users" profile may see)
    let pages: Vec<(String, bool)> = [
        ("/setup".to_owned(), true),
        ("/setup/users".to_owned(), true),
        ("/setup/users/new".to_owned(), true),
        (entity_pages[0].clone(), true),
        ("/setup/company".to_owned(), false),
        ("/setup/profiles".to_owned(), false),
        (entity_pages[1].clone(), false),
        (entity_pages[2].clone(), false),
        ("/setup/roles".to_owned(), false),
        ("/setup/roles/new".to_owned(), false),
        (entity_pages[3].clone(), false),
        ("/setup/terms".to_owned(), false),
        ("/setup/terms/acceptances.csv".to_owned(), false),
        ("/setup/audit".to_owned(), false),
    ]
    .into_iter()
    .collect();
    for (path, users_manager_may) in &pages {
        let status = |client: &reqwest::Client| {
            let url = app.url(path);
            let client = client.clone();
            async move { client.get(url).send().await.unwrap() }
        };
        assert_eq!(
            status(&admin).await.status().as_u16(),
            200,
            "administrator: {path}"
        );
        assert_eq!(
            status(&standard).await.status().as_u16(),
            403,
            "standard: {path}"
        );
        let expected = if *users_manager_may { 200 } else { 403 };
        assert_eq!(
            status(&users_manager).await.status().as_u16(),
            expected,
            "manage users only: {path}"
        );
        let anonymous_response = status(&anonymous).await;
        assert_eq!(
            anonymous_response.status().as_u16(),
            303,
            "anonymous: {path}"
        );
        assert!(
            location(&anonymous_response).starts_with("/login"),
            "anonymous: {path}"
        );
        if entity_pages.contains(path) {
            assert_eq!(
                status(&outsider).await.status().as_u16(),
                404,
                "another organization's administrator: {path}"
            );
        }
    }

    // Every action, by everyone who may not, with their own valid form token: 403 (404 for
    // another organization's ids), and nothing written.
    let before = footprint(&app, &organization.org_id).await;
    let actions: Vec<Action> = vec![
        (
            "/setup/users/new".into(),
            vec![
                ("last_name", "X".into()),
                ("email", "x@example.com".into()),
                ("profile_id", custom.clone()),
                ("role_id", installer.clone()),
            ],
            true,
        ),
        (
            "/setup/users/bulk".into(),
            vec![
                ("action", "deactivate".into()),
                ("confirmed", "1".into()),
                ("ids", grace.clone()),
            ],
            true,
        ),
        (
            format!("/setup/users/{grace}/edit"),
            vec![
                ("last_name", "Changed".into()),
                ("profile_id", custom.clone()),
                ("role_id", installer.clone()),
            ],
            true,
        ),
        (
            format!("/setup/users/{grace}/actions"),
            vec![("action", "delete".into())],
            true,
        ),
        (
            "/setup/company".into(),
            vec![
                ("company_name", "Hacked".into()),
                ("account_name", "Hacked".into()),
                ("invitation_lifetime_hours", "1".into()),
            ],
            false,
        ),
        (
            "/setup/profiles".into(),
            vec![
                ("name", "Sneaky".into()),
                ("permissions", "manage_users".into()),
            ],
            false,
        ),
        (
            format!("/setup/profiles/{custom}"),
            vec![("name", "Renamed".into())],
            false,
        ),
        (
            format!("/setup/profiles/{custom}/delete"),
            vec![("move_to", "x".into())],
            false,
        ),
        (
            "/setup/roles".into(),
            vec![("name", "Sneaky".into()), ("parent_id", installer.clone())],
            false,
        ),
        (
            format!("/setup/roles/{installer}"),
            vec![
                ("name", "Renamed".into()),
                ("headline", "x".into()),
                ("parent_id", manager_role.clone()),
            ],
            false,
        ),
        (
            format!("/setup/roles/{installer}/delete"),
            vec![("move_to", manager_role.clone())],
            false,
        ),
        (
            "/setup/terms".into(),
            vec![("body", "New terms".into()), ("summary", "Changed".into())],
            false,
        ),
    ];
    for (path, fields, users_only_route) in &actions {
        for (who, client) in [
            ("standard", &standard),
            ("manage users only", &users_manager),
            ("other organization", &outsider),
        ] {
            if who == "manage users only" && *users_only_route {
                continue;
            }
            // Another organization's administrator may act in their own organization; what must
            // fail is reaching this one's users, profiles and roles by id.
            let names_an_id = [&grace, &custom, &installer]
                .iter()
                .any(|id| path.contains(id.as_str()));
            if who == "other organization" && !names_an_id && !path.ends_with("/bulk") {
                continue;
            }
            let home = client
                .get(app.url("/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let mut form = vec![("csrf_token", csrf_token_in(&home))];
            form.extend(fields.iter().map(|(name, value)| (*name, value.clone())));
            let response = client.post(app.url(path)).form(&form).send().await.unwrap();
            let status = response.status().as_u16();
            let allowed = if who == "other organization" {
                [403, 404, 422]
            } else {
                [403, 403, 403]
            };
            // Another organization's bulk action names none of this one's users: it ends, like
            // every bulk action, in a redirect to its own list (or shows a page).
            let own_list = who == "other organization" && [200, 303].contains(&status);
            assert!(
                allowed.contains(&status) || own_list,
                "{who}: POST {path} answered {status}"
            );
        }
        let response = anonymous
            .post(app.url(path))
            .form(
                &fields
                    .iter()
                    .map(|(name, value)| (*name, value.clone()))
                    .collect::<Vec<_>>(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "anonymous: POST {path}");
    }
    assert_eq!(
        footprint(&app, &organization.org_id).await,
        before,
        "refused requests wrote nothing"
    );
}

async fn a_cloned_profile_can_be_edited_assigned_and_deleted(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let profiles = app.get_text("/setup/profiles").await;
    assert!(
        profiles.contains("Administrator")
            && profiles.contains("Standard")
            && profiles.contains(">Clone</a>")
    );
    let standard = app
        .store
        .profiles(&organization.scope)
        .await
        .unwrap()
        .into_iter()
        .find(|profile| profile.name == "Standard")
        .unwrap();
    let form = app
        .get_text(&format!("/setup/profiles/{}/clone", standard.id))
        .await;
    for label in [
        "Profile Name",
        "Description",
        "View Setup",
        "Manage Users",
        "Manage Profiles",
        "Manage Roles",
        "Manage Terms of Service",
        "Manage Company Details",
        "View Audit Log",
        "Manage API Tokens",
        "Save",
    ] {
        assert!(form.contains(label), "the clone form has {label}");
    }
    let token = csrf_token_in(&form);
    let response = app
        .post_form(
            "/setup/profiles",
            &[
                ("csrf_token", &token),
                ("name", "Dispatcher"),
                ("description", "Invites crews"),
                ("permissions", "view_setup"),
                ("permissions", "manage_users"),
            ],
        )
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Profile Dispatcher created.")
    );
    let duplicate = app
        .post_form(
            "/setup/profiles",
            &[("csrf_token", &token), ("name", "Dispatcher")],
        )
        .await;
    assert_eq!(duplicate.status().as_u16(), 422);
    assert!(
        duplicate
            .text()
            .await
            .unwrap()
            .contains("A profile with this name already exists")
    );

    // Assign it on New User, then the user's next request uses it.
    let response = save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Dispatcher",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let (browser, page) =
        open_join_link(&app, &queued_join_link(&app, "grace@example.com").await).await;
    submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await;
    app.agree_with(&browser).await;
    assert_eq!(
        browser
            .get(app.url("/setup/users"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    // Downgrade the profile: it applies on her next request.
    let dispatcher = app
        .store
        .profiles(&organization.scope)
        .await
        .unwrap()
        .into_iter()
        .find(|profile| profile.name == "Dispatcher")
        .unwrap();
    let edit = app
        .get_text(&format!("/setup/profiles/{}", dispatcher.id))
        .await;
    let response = app
        .post_form(
            &format!("/setup/profiles/{}", dispatcher.id),
            &[
                ("csrf_token", &csrf_token_in(&edit)),
                ("name", "Dispatcher"),
                ("permissions", "view_setup"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/setup/profiles");
    assert_eq!(
        browser
            .get(app.url("/setup/users"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );

    // Delete it, moving Grace to Standard.
    let response = app
        .post_form(
            &format!("/setup/profiles/{}/delete", dispatcher.id),
            &[
                ("csrf_token", &csrf_token_in(&edit)),
                ("move_to", standard.id.as_str()),
            ],
        )
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Profile deleted; its users were moved.")
    );
    assert_eq!(
        app.text_value("SELECT p.name FROM users u JOIN profiles p ON p.id = u.profile_id WHERE u.email_normalized = $1", "grace@example.com").await.as_deref(),
        Some("Standard")
    );
    // Built-in profiles cannot be edited.
    let administrator = app
        .store
        .profiles(&organization.scope)
        .await
        .unwrap()
        .into_iter()
        .find(|profile| profile.name == "Administrator")
        .unwrap();
    assert_eq!(
        app.get(&format!("/setup/profiles/{}", administrator.id))
            .await
            .status()
            .as_u16(),
        400
    );
    let forged = app
        .post_form(
            &format!("/setup/profiles/{}", administrator.id),
            &[("csrf_token", &csrf_token_in(&edit)), ("name", "Pwned")],
        )
        .await;
    assert_eq!(forged.status().as_u16(), 404);
    assert!(
        app.store
            .profiles(&organization.scope)
            .await
            .unwrap()
            .iter()
            .any(|profile| profile.name == "Administrator")
    );
}

async fn a_profile_cannot_grant_what_its_editor_lacks(app: TestApp) {
    let organization = app.create_organization().await;
    app.add_user_with_profile(
        &organization.org_id,
        "Profile Keeper",
        &[Permission::ViewSetup, Permission::ManageProfiles],
        "manager",
        ("Kim", "Keeper"),
        "kim",
    )
    .await;
    let browser = browser_for(&app, "kim", MEMBER_PASSWORD).await;
    let page = browser
        .get(app.url("/setup/profiles"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let before = app.count("profiles").await;
    let response = browser
        .post(app.url("/setup/profiles"))
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("name", "Escalated"),
            ("permissions", "manage_users"),
            ("permissions", "manage_api_tokens"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response.text().await.unwrap().contains(
            "You cannot grant &#34;Manage Users&#34;: your own profile does not have it."
        )
    );
    assert_eq!(app.count("profiles").await, before);
}

async fn roles_form_a_tree_and_a_new_role_starts_from_its_parents_homepage(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let roles = app.get_text("/setup/roles").await;
    assert!(
        roles.contains("class=\"tree-0\"") && roles.contains("class=\"tree-1\""),
        "{roles}"
    );
    let form = app.get_text("/setup/roles/new").await;
    for label in ["Role Name", "Reports To", "Description", "Save"] {
        assert!(form.contains(label), "{label}");
    }
    let manager = crate::invitations::option_value(&form, "Manager");
    let response = app
        .post_form(
            "/setup/roles",
            &[
                ("csrf_token", &csrf_token_in(&form)),
                ("name", "Installer"),
                ("parent_id", &manager),
                ("description", "Fits the systems"),
            ],
        )
        .await;
    let installer_page = location(&response);
    assert!(
        installer_page.starts_with("/setup/roles/"),
        "{installer_page}"
    );
    let page = app.get_text(&installer_page).await;
    assert!(
        page.contains("Your installations and your team"),
        "the homepage starts from the Manager's"
    );
    let installer_id = installer_page.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM role_first_steps WHERE role_id = $1",
            &installer_id
        )
        .await,
        2
    );
    let tree = app.get_text("/setup/roles").await;
    assert!(
        tree.contains("class=\"tree-2\""),
        "Installer sits under Manager"
    );

    // Moving Manager under Installer would make a cycle.
    let manager_page = app.get_text(&format!("/setup/roles/{manager}")).await;
    assert!(
        !parent_choices(&manager_page).contains(&installer_id),
        "a role's own descendants are not offered as its parent"
    );
    let response = app
        .post_form(
            &format!("/setup/roles/{manager}"),
            &[
                ("csrf_token", &csrf_token_in(&manager_page)),
                ("name", "Manager"),
                ("parent_id", &installer_id),
                ("headline", "x"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Choose a role that is not this one or below it.")
    );

    // CEO cannot be deleted; Installer can, its users moving.
    let ceo = crate::invitations::option_value(&form, "CEO");
    let refused = app
        .post_form(
            &format!("/setup/roles/{ceo}/delete"),
            &[("csrf_token", &csrf_token_in(&form)), ("move_to", &manager)],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 400);
    let deleted = app
        .post_form(
            &format!("/setup/roles/{installer_id}/delete"),
            &[("csrf_token", &csrf_token_in(&form)), ("move_to", &manager)],
        )
        .await;
    assert!(
        deleted
            .text()
            .await
            .unwrap()
            .contains("Role deleted; its users were moved.")
    );
    assert_eq!(
        app.number_value("SELECT COUNT(*) FROM roles WHERE id = $1", &installer_id)
            .await,
        0
    );
}

/// The text of the "Reports To" drop-down.
fn parent_choices(page: &str) -> String {
    let start = page
        .find("id=\"parent_id\"")
        .expect("a Reports To drop-down");
    let end = start + page[start..].find("</select>").expect("its end");
    page[start..end].to_owned()
}

async fn role_homepage_edits_show_for_that_roles_users(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    app.add_sam(&organization.org_id).await;
    let sam = browser_for(&app, "sam", MEMBER_PASSWORD).await;
    let manager = app
        .store
        .roles(&organization.scope)
        .await
        .unwrap()
        .into_iter()
        .find(|role| role.name == "Manager")
        .unwrap();
    let page = app.get_text(&format!("/setup/roles/{}", manager.id)).await;
    assert!(page.contains("Preview of the homepage of Manager"));
    let response = app
        .post_form(
            &format!("/setup/roles/{}", manager.id),
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("name", "Manager"),
                ("parent_id", manager.parent_id.as_ref().unwrap().as_str()),
                ("headline", "Crews, vans and schedules"),
                ("introduction", "Everything for running your crews."),
                ("step_title", "Plan next week"),
                ("step_link", "/help/first-steps"),
                ("step_description", "Book the installs."),
                ("step_title", "Broken link"),
                ("step_link", "javascript:alert(1)"),
                ("step_description", ""),
            ],
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        422,
        "a javascript: link is refused"
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("must be a path on this site")
    );
    let response = app
        .post_form(
            &format!("/setup/roles/{}", manager.id),
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("name", "Manager"),
                ("parent_id", manager.parent_id.as_ref().unwrap().as_str()),
                ("headline", "Crews, vans and schedules"),
                ("introduction", "Everything for running your crews."),
                ("step_title", "Plan next week"),
                ("step_link", "/help/first-steps"),
                ("step_description", "Book the installs."),
                ("step_title", ""),
                ("step_link", ""),
                ("step_description", ""),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let home = sam
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Crews, vans and schedules")
            && home.contains("Everything for running your crews."),
        "{home}"
    );
    assert!(home.contains("Plan next week") && home.contains("0 of 1 done"));
    let ceo_home = app.get_text("/").await;
    assert!(
        !ceo_home.contains("Crews, vans and schedules"),
        "other roles keep their homepage"
    );
}

async fn publishing_new_terms_gates_everyone_and_records_the_acceptance(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    app.add_sam(&organization.org_id).await;
    let sam = browser_for(&app, "sam", MEMBER_PASSWORD).await;
    assert_eq!(
        sam.get(app.url("/"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    let page = app.get_text("/setup/terms").await;
    for label in [
        "Current version: 1",
        "Version history",
        "Publish new version",
        "Terms of Service Text",
        "Summary of Changes",
        "Publish",
    ] {
        assert!(page.contains(label), "{label}");
    }
    let empty = app
        .post_form(
            "/setup/terms",
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("body", " "),
                ("summary", ""),
            ],
        )
        .await;
    assert_eq!(empty.status().as_u16(), 422);
    let published = app
        .post_form(
            "/setup/terms",
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("body", "Version two of our terms."),
                ("summary", "Added a data retention clause."),
            ],
        )
        .await;
    assert!(
        published
            .text()
            .await
            .unwrap()
            .contains("Version 2 published.")
    );
    assert_eq!(
        app.count("terms_versions").await,
        2,
        "the first version and the new one"
    );

    let gated = sam.get(app.url("/")).send().await.unwrap();
    assert_eq!(
        location(&gated),
        "/terms",
        "Sam meets the new version on his next request"
    );
    let terms = sam
        .get(app.url("/terms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        terms.contains("Version two of our terms.")
            && terms.contains("What changed: Added a data retention clause.")
    );
    sam.post(app.url("/terms/accept"))
        .header("user-agent", "Sam's Tablet")
        .form(&[
            ("csrf_token", csrf_token_in(&terms)),
            (
                "version_id",
                crate::helpers::hidden_field(&terms, "version_id"),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        sam.get(app.url("/"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    assert_eq!(
        location(&app.get("/setup/terms").await),
        "/terms",
        "the publisher agrees too"
    );
    app.agree_to_terms().await;
    let listed = app.get_text("/setup/terms").await;
    assert!(
        listed.contains("<td>Sam Standard</td><td>2</td>"),
        "acceptances are listed: {listed}"
    );
    let csv = app.get("/setup/terms/acceptances.csv").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("name,email,version,accepted_at_utc,ip,user_agent,text_sha256"));
    let sam_row = csv
        .lines()
        .find(|line| line.contains("Sam Standard") && line.contains(",2,"))
        .expect("Sam's acceptance of version 2");
    assert!(sam_row.contains("\"127.0.0.1\"") && sam_row.contains("Sam's Tablet"));
    let sha = onestop_domain::token::sha256_hex(b"Version two of our terms.");
    assert!(sam_row.contains(&sha), "{sam_row}");
}

async fn the_audit_log_lists_and_filters_what_happened(app: TestApp) {
    let organization: Organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    let page = app.get_text("/setup/audit").await;
    for expected in [
        "Organization created",
        "Signed in",
        "Terms accepted",
        "User created",
        "Invitation queued",
        "Ada Lovelace",
        "Grace Hopper",
        "127.0.0.1",
    ] {
        assert!(page.contains(expected), "the log shows {expected}");
    }
    let filtered = app.get_text("/setup/audit?action=invitation_queued").await;
    assert!(
        filtered.contains("Invitation queued") && !filtered.contains("<td>Signed in</td>"),
        "{filtered}"
    );
    let grace = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .unwrap();
    let by_person = app.get_text(&format!("/setup/audit?person={grace}")).await;
    assert!(by_person.contains("Grace Hopper") && !by_person.contains("<td>Terms accepted</td>"));
    let future = app.get_text("/setup/audit?from=2099-01-01").await;
    assert!(future.contains("No events match."));
    let bad = app.get_text("/setup/audit?from=tomorrow").await;
    assert!(bad.contains("The from date must be a real date written like 2026-11-27."));
    // A date that does not exist is refused, not rolled into March.
    let impossible = app.get_text("/setup/audit?from=2026-02-31").await;
    assert!(
        impossible.contains("The from date must be a real date written like 2026-11-27."),
        "{impossible}"
    );
    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    for action in [
        "organization_created",
        "user_created",
        "invitation_queued",
        "signed_in",
        "terms_accepted",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action}");
    }
}

async fn a_profile_holding_more_than_its_editor_cannot_be_changed_by_them(app: TestApp) {
    let organization = app.create_organization().await;
    let (keeper_profile, _) = app
        .add_user_with_profile(
            &organization.org_id,
            "Profile Keeper",
            &[Permission::ViewSetup, Permission::ManageProfiles],
            "manager",
            ("Kim", "Keeper"),
            "kim",
        )
        .await;
    let now = Timestamp::from_unix_millis(0);
    let stronger = app
        .store
        .add_profile(
            &organization.scope,
            "Dispatcher",
            "",
            PermissionSet::all(),
            now,
        )
        .await
        .unwrap();
    let browser = browser_for(&app, "kim", MEMBER_PASSWORD).await;
    let home = browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_token_in(&home);
    let edit = browser
        .post(app.url(&format!("/setup/profiles/{stronger}")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "Dispatcher"),
            ("permissions", "view_setup"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status().as_u16(), 404);
    let delete = browser
        .post(app.url(&format!("/setup/profiles/{stronger}/delete")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("move_to", keeper_profile.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status().as_u16(), 404);
    let permissions = app
        .text_value("SELECT permissions FROM profiles WHERE id = $1", &stronger)
        .await
        .unwrap();
    assert_eq!(
        permissions,
        PermissionSet::all().to_stored(),
        "nothing was stripped"
    );
}

async fn long_terms_of_service_can_be_published(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let page = app.get_text("/setup/terms").await;
    let body = "Die Firma verpflichtet sich zur Sorgfalt bei Änderungen. ".repeat(1500);
    assert!(body.len() > 64 * 1024);
    let response = app
        .post_form(
            "/setup/terms",
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("body", &body),
                ("summary", "Longer terms"),
            ],
        )
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Version 2 published.")
    );
}

async fn a_role_manager_without_the_administrator_profile_works_only_below_their_role(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.add_user_with_profile(
        &organization.org_id,
        "Role Keeper",
        &[Permission::ViewSetup, Permission::ManageRoles],
        "manager",
        ("Rita", "Roles"),
        "rita",
    )
    .await;
    let ceo = app.role_id(&organization.org_id, "CEO").await;
    let manager = app.role_id(&organization.org_id, "Manager").await;
    let browser = browser_for(&app, "rita", MEMBER_PASSWORD).await;
    let home = browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_token_in(&home);
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let browser = browser.clone();
        let url = app.url(&path);
        let token = token.clone();
        async move {
            let mut form = vec![("csrf_token", token)];
            form.extend(fields);
            browser.post(url).form(&form).send().await.unwrap()
        }
    };
    let sibling = post(
        "/setup/roles".into(),
        vec![("name", "Sales".into()), ("parent_id", ceo.clone())],
    )
    .await;
    assert_eq!(sibling.status().as_u16(), 422, "not beside her own role");
    let edit_ceo = post(
        format!("/setup/roles/{ceo}"),
        vec![("name", "Boss".into()), ("headline", "x".into())],
    )
    .await;
    assert_eq!(edit_ceo.status().as_u16(), 404, "not above her own role");
    let below = post(
        "/setup/roles".into(),
        vec![("name", "Installer".into()), ("parent_id", manager.clone())],
    )
    .await;
    assert_eq!(
        below.status().as_u16(),
        303,
        "below her own role is hers to shape"
    );
    let mut names: Vec<String> = app
        .store
        .roles(&organization.scope)
        .await
        .unwrap()
        .into_iter()
        .map(|role| role.name)
        .collect();
    names.sort();
    assert_eq!(names, vec!["CEO", "Installer", "Manager"]);
}
