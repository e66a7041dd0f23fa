//! Setup > Users: views, search, paging, bulk actions, Edit User, Company Details, and the
//! expired-link request.

use crate::helpers::{
    ADMIN_PASSWORD, Backend, TestApp, csrf_token_in, location, on_both_databases,
    spawn_app_configured,
};
use crate::invitations::{
    GRACE_PASSWORD, open_join_link, queued_join_link, save_new_user, submit_join,
};
use crate::smtp::RealSmtpServer;
use std::time::Duration;

on_both_databases!(
    each_view_shows_its_members_with_counts,
    the_view_counts_stay_exact_through_every_kind_of_change,
    search_finds_people_by_name_email_or_username,
    paging_walks_120_users_in_a_stable_order,
    paging_keeps_the_view_and_the_search,
    forged_paging_links_show_a_page_not_an_error,
    reinvite_makes_the_old_link_invalid_and_the_new_one_work,
    a_reinvite_within_a_minute_is_skipped_with_the_reason,
    foreign_confirmed_deleted_and_unknown_ids_are_left_alone_and_not_named,
    fixing_an_unconfirmed_users_email_sends_a_new_invitation_there,
    deactivating_ends_every_session_and_activating_restores,
    the_last_active_administrator_cannot_be_deactivated_or_demoted,
    deleting_an_unconfirmed_user_withdraws_the_invitation,
    company_details_change_the_invitation_and_its_lifetime,
    an_expired_invitee_can_ask_for_a_new_one_and_administrators_are_told,
    the_administrator_homepage_shows_what_needs_attention,
    a_thousand_users_are_reinvited_in_one_request,
    a_double_clicked_reinvite_sends_one_invitation,
    the_audit_log_survives_any_page_number,
);

async fn user_id(app: &TestApp, email: &str) -> String {
    app.text_value("SELECT id FROM users WHERE email_normalized = $1", email)
        .await
        .expect("the user exists")
}

/// Ticks `ids` in `view` and clicks the button for `action` (and Confirm, for those that ask);
/// follows the redirect and returns the list it shows.
async fn bulk(app: &TestApp, view: &str, action: &str, ids: &[&str]) -> String {
    let page = app.get_text(&format!("/setup/users?view={view}")).await;
    let token = csrf_token_in(&page);
    let back = format!("view={view}");
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("back", back.as_str()),
        ("action", action),
        ("confirmed", "1"),
    ];
    form.extend(ids.iter().map(|id| ("ids", *id)));
    let response = app.post_form("/setup/users/bulk", &form).await;
    assert_eq!(response.status().as_u16(), 303);
    let to = location(&response);
    assert!(to.starts_with(&format!("/setup/users?view={view}")), "{to}");
    app.get_text(&to).await
}

/// Ada (administrator) signed in; Grace and Alan invited; Linus active (Standard).
async fn populated(app: &TestApp) -> crate::helpers::Organization {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    for (first, last, email) in [
        ("Grace", "Hopper", "grace@example.com"),
        ("Alan", "Turing", "alan@example.com"),
    ] {
        assert_eq!(
            save_new_user(app, first, last, email, "Standard", "Manager")
                .await
                .status()
                .as_u16(),
            303
        );
    }
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Linus", "Torvalds"),
        "linus",
        "quiet orange bicycle",
    )
    .await;
    organization
}

async fn each_view_shows_its_members_with_counts(app: TestApp) {
    populated(&app).await;
    let linus = user_id(&app, "linus@example.com").await;
    assert!(
        bulk(&app, "all", "deactivate", &[&linus])
            .await
            .contains("Deactivated 1 user.")
    );

    let page = app.get_text("/setup/users").await;
    for label in [
        "All Users (4)",
        "Active Users (1)",
        "Unconfirmed Users (2)",
        "Deactivated Users (1)",
        "Admin Users (1)",
    ] {
        assert!(page.contains(label), "the drop-down shows {label:?}");
    }
    assert!(
        page.contains("<label for=\"view\">View</label>"),
        "the drop-down is named View"
    );
    let expectations: [(&str, &[&str], &[&str]); 5] = [
        (
            "all",
            &[
                "Ada Lovelace",
                "Grace Hopper",
                "Alan Turing",
                "Linus Torvalds",
            ],
            &[],
        ),
        (
            "active",
            &["Ada Lovelace"],
            &["Grace Hopper", "Linus Torvalds"],
        ),
        (
            "unconfirmed",
            &["Grace Hopper", "Alan Turing"],
            &["Ada Lovelace", "Linus Torvalds"],
        ),
        (
            "deactivated",
            &["Linus Torvalds"],
            &["Ada Lovelace", "Grace Hopper"],
        ),
        (
            "admins",
            &["Ada Lovelace"],
            &["Grace Hopper", "Linus Torvalds"],
        ),
    ];
    for (view, shown, hidden) in expectations {
        let page = app.get_text(&format!("/setup/users?view={view}")).await;
        for name in shown {
            assert!(
                page.contains(&format!("aria-label=\"Select {name}\"")),
                "{view} shows {name}"
            );
        }
        for name in hidden {
            assert!(
                !page.contains(&format!("aria-label=\"Select {name}\"")),
                "{view} hides {name}"
            );
        }
    }
    let unconfirmed = app.get_text("/setup/users?view=unconfirmed").await;
    assert!(unconfirmed.contains(">Reinvite</button>") && unconfirmed.contains(">Delete</button>"));
    assert!(
        unconfirmed.contains("Invited ") && unconfirmed.contains(" by Ada Lovelace"),
        "{unconfirmed}"
    );
    assert!(unconfirmed.contains("Expires ") && unconfirmed.contains("Queued"));
    let active = app.get_text("/setup/users?view=active").await;
    assert!(active.contains(">Deactivate</button>") && !active.contains(">Reinvite</button>"));
}

/// The counts of the drop-down, counted afresh from `users` (what the triggers must agree with).
async fn counted_afresh(app: &TestApp, org_id: &str) -> [i64; 5] {
    let count = |condition: &str| {
        format!(
            "SELECT COUNT(*) FROM users u JOIN profiles p ON p.id = u.profile_id \
              WHERE u.org_id = $1{condition}"
        )
    };
    [
        app.number_value(&count(""), org_id).await,
        app.number_value(&count(" AND u.status = 'active'"), org_id)
            .await,
        app.number_value(&count(" AND u.status = 'unconfirmed'"), org_id)
            .await,
        app.number_value(&count(" AND u.status = 'deactivated'"), org_id)
            .await,
        app.number_value(&count(" AND p.builtin = 'administrator'"), org_id)
            .await,
    ]
}

async fn stored_counts(app: &TestApp, organization: &crate::helpers::Organization) -> [i64; 5] {
    let counts = app.store.view_counts(&organization.scope).await.unwrap();
    [
        counts.all_users,
        counts.active,
        counts.unconfirmed,
        counts.deactivated,
        counts.admins,
    ]
}

async fn the_view_counts_stay_exact_through_every_kind_of_change(app: TestApp) {
    let organization = populated(&app).await;
    let other = app
        .create_organization_named("Other Co", "otherboss", "boss@other.example")
        .await;
    let org_id = organization.org_id.clone();
    assert_eq!(stored_counts(&app, &organization).await, [4, 2, 2, 0, 1]);

    let grace = user_id(&app, "grace@example.com").await;
    let alan = user_id(&app, "alan@example.com").await;
    let linus = user_id(&app, "linus@example.com").await;
    let administrator = app.profile_id(&org_id, "Administrator").await;
    let changes = [
        format!("UPDATE users SET status = 'deactivated' WHERE id = '{linus}'"),
        format!("UPDATE users SET profile_id = '{administrator}' WHERE id = '{grace}'"),
        format!("UPDATE users SET last_sign_in_at = 1 WHERE org_id = '{org_id}'"),
        format!(
            "UPDATE users SET status = 'active', profile_id = '{administrator}' WHERE id = '{alan}'"
        ),
        format!("DELETE FROM invitations WHERE user_id = '{grace}'"),
        format!("DELETE FROM users WHERE id = '{grace}'"),
        format!("UPDATE users SET status = 'active' WHERE org_id = '{org_id}'"),
    ];
    for change in &changes {
        app.execute(change).await;
        assert_eq!(
            stored_counts(&app, &organization).await,
            counted_afresh(&app, &org_id).await,
            "after {change}"
        );
    }
    assert_eq!(stored_counts(&app, &organization).await, [3, 3, 0, 0, 2]);
    assert_eq!(
        stored_counts(&app, &other).await,
        [1, 1, 0, 0, 1],
        "another organization's counts are its own"
    );
}

async fn search_finds_people_by_name_email_or_username(app: TestApp) {
    populated(&app).await;
    save_new_user(
        &app,
        "Élodie",
        "Ångström",
        "elodie@example.com",
        "Standard",
        "Manager",
    )
    .await;
    let accented = app
        .get_text("/setup/users?view=all&q=%C3%A9lodie+%C3%A5ng")
        .await;
    assert!(
        accented.contains("Select Élodie Ångström"),
        "case folding covers every script, on both databases"
    );
    for (search, found, not_found) in [
        ("hop", "Grace Hopper", "Alan Turing"),
        ("GRACE h", "Grace Hopper", "Ada Lovelace"),
        ("alan@", "Alan Turing", "Grace Hopper"),
        ("linus", "Linus Torvalds", "Ada Lovelace"),
    ] {
        let page = app
            .get_text(&format!(
                "/setup/users?view=all&q={}",
                search.replace(' ', "+")
            ))
            .await;
        assert!(
            page.contains(&format!("Select {found}")),
            "{search} finds {found}"
        );
        assert!(
            !page.contains(&format!("Select {not_found}")),
            "{search} does not find {not_found}"
        );
    }
    let literal = app.get_text("/setup/users?view=all&q=%25").await;
    assert!(
        literal.contains("No users match."),
        "% is matched literally"
    );
}

/// The href of the link whose text is `text`, as the browser would follow it.
pub fn link_named(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!("\">{text}</a>"))?;
    let start = html[..end].rfind("href=\"")? + 6;
    Some(
        html[start..end]
            .replace("&#38;", "&")
            .replace("&amp;", "&")
            .replace("&#x2f;", "/")
            .replace("&#47;", "/"),
    )
}

/// The ids of the rows a page lists, in order.
fn row_ids(html: &str) -> Vec<String> {
    html.match_indices("name=\"ids\" value=\"")
        .map(|(at, _)| html[at + 18..at + 54].to_owned())
        .collect()
}

async fn paging_walks_120_users_in_a_stable_order(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    for index in 0..120 {
        let response = save_new_user(
            &app,
            "Person",
            &format!("Number{index:03}"),
            &format!("person{index}@example.com"),
            "Standard",
            "Manager",
        )
        .await;
        assert_eq!(response.status().as_u16(), 303);
    }
    let mut seen = std::collections::HashSet::new();
    let mut pages = Vec::new();
    let mut html = app.get_text("/setup/users?view=all").await;
    for (index, (summary, expected_rows)) in [
        ("Showing 1–50 of 121 users", 50),
        ("Showing 51–100 of 121 users", 50),
        ("Showing 101–121 of 121 users", 21),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(html.contains(summary), "page {index} says {summary:?}");
        let rows = row_ids(&html);
        assert_eq!(rows.len(), expected_rows, "page {index}");
        for row in rows {
            assert!(seen.insert(row), "no user appears on two pages");
        }
        assert_eq!(link_named(&html, "Next").is_some(), index < 2);
        assert_eq!(link_named(&html, "Previous").is_some(), index > 0);
        assert_eq!(link_named(&html, "First").is_some(), index > 0);
        assert_eq!(link_named(&html, "Last").is_some(), index < 2);
        pages.push(html.clone());
        if let Some(next) = link_named(&html, "Next") {
            assert!(next.contains("view=all"), "{next}");
            html = app.get_text(&next).await;
        }
    }
    assert_eq!(seen.len(), 121);
    assert!(
        pages[0].find("Number000").unwrap() < pages[0].find("Number001").unwrap(),
        "ordered by last name"
    );

    let back = app
        .get_text(&link_named(&pages[2], "Previous").unwrap())
        .await;
    assert!(back.contains("Showing 51–100 of 121 users"));
    assert_eq!(
        row_ids(&back),
        row_ids(&pages[1]),
        "Previous shows the page before"
    );
    let first = app.get_text(&link_named(&pages[2], "First").unwrap()).await;
    assert_eq!(row_ids(&first), row_ids(&pages[0]));
    let last = app.get_text(&link_named(&pages[0], "Last").unwrap()).await;
    assert!(last.contains("Showing 72–121 of 121 users"), "{last}");
    assert_eq!(row_ids(&last)[29..], row_ids(&pages[2])[..]);
    assert!(link_named(&last, "Next").is_none());
}

async fn paging_keeps_the_view_and_the_search(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    for index in 0..55 {
        save_new_user(
            &app,
            "Person",
            &format!("Number{index:03}"),
            &format!("person{index}@example.com"),
            "Standard",
            "Manager",
        )
        .await;
    }
    let first = app.get_text("/setup/users?view=unconfirmed&q=number").await;
    assert!(first.contains("Showing 1–50 of 55 users"), "{first}");
    let next = link_named(&first, "Next").unwrap();
    assert!(
        next.contains("view=unconfirmed") && next.contains("q=number"),
        "{next}"
    );
    let second = app.get_text(&next).await;
    assert!(second.contains("Showing 51–55 of 55 users"), "{second}");
    assert!(second.contains("Select Person Number054") && !second.contains("Select Ada"));
}

async fn forged_paging_links_show_a_page_not_an_error(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let uuid = "01900000-0000-7000-8000-000000000002";
    for query in [
        "after=garbage".to_owned(),
        "before=x:y&first_row=9".to_owned(),
        format!("after={uuid}:"),
        format!("after={uuid}:%FF%FE&first_row=-9"),
        format!("before={uuid}:Zzz&first_row=99999999999999999999"),
        format!("after={uuid}:A&before={uuid}:B"),
        "last=2".to_owned(),
        "last=1&first_row=x".to_owned(),
        "page=3".to_owned(),
        format!("after={uuid}:{}", "x".repeat(5000)),
    ] {
        let response = app.get(&format!("/setup/users?view=all&{query}")).await;
        assert_eq!(response.status().as_u16(), 200, "{query}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Select Ada Lovelace"),
            "{query} shows the one user"
        );
    }
}

async fn reinvite_makes_the_old_link_invalid_and_the_new_one_work(app: TestApp) {
    populated(&app).await;
    let grace = user_id(&app, "grace@example.com").await;
    let old_link = queued_join_link(&app, "grace@example.com").await;
    app.clock.advance(Duration::from_secs(61));
    let page = bulk(&app, "unconfirmed", "reinvite", &[&grace]).await;
    assert!(page.contains("Invitation resent to 1 user."), "{page}");
    let new_link = queued_join_link(&app, "grace@example.com").await;
    assert_ne!(old_link, new_link);
    let old = app.new_client().get(&old_link).send().await.unwrap();
    assert_eq!(old.status().as_u16(), 404);
    assert!(
        old.text()
            .await
            .unwrap()
            .contains("This invitation link is not valid.")
    );
    let (browser, form) = open_join_link(&app, &new_link).await;
    assert_eq!(
        location(&submit_join(&app, &browser, &form, "grace", GRACE_PASSWORD).await),
        "/"
    );
    let emails = app.emails_to("grace@example.com").await;
    assert_eq!(
        emails.len(),
        1,
        "the first, unsent email was withdrawn; one email carries the live link"
    );
}

async fn a_reinvite_within_a_minute_is_skipped_with_the_reason(app: TestApp) {
    populated(&app).await;
    let grace = user_id(&app, "grace@example.com").await;
    let page = bulk(&app, "unconfirmed", "reinvite", &[&grace]).await;
    assert!(page.contains("Invitation resent to 0 users."), "{page}");
    assert!(page.contains("Grace Hopper was invited less than a minute ago"));
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM invitations WHERE user_id = $1",
            &grace
        )
        .await,
        1
    );
}

async fn foreign_confirmed_deleted_and_unknown_ids_are_left_alone_and_not_named(app: TestApp) {
    let organization = populated(&app).await;
    let other = app
        .create_organization_named("Other Co", "otherboss", "boss@other.example")
        .await;
    let foreign_user = app
        .add_active_user(
            &other.org_id,
            "standard",
            "manager",
            ("Frank", "Foreign"),
            "frank",
            "quiet orange bicycle",
        )
        .await;
    let grace = user_id(&app, "grace@example.com").await;
    let alan = user_id(&app, "alan@example.com").await;
    app.clock.advance(Duration::from_secs(61));
    assert!(
        bulk(&app, "unconfirmed", "delete", &[&alan])
            .await
            .contains("Deleted 1 user.")
    );
    let page = bulk(
        &app,
        "unconfirmed",
        "reinvite",
        &[
            &grace,
            &foreign_user,
            &other.admin_id,
            &organization.admin_id,
            &alan,
            "not-a-user",
            "'; DROP TABLE users;--",
        ],
    )
    .await;
    assert!(page.contains("Invitation resent to 1 user."), "{page}");
    assert!(page.contains("Ada Lovelace has already joined"));
    assert!(
        !page.contains("Frank") && !page.contains("Other Co"),
        "nothing about the other organization"
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM invitations WHERE user_id = $1",
            &foreign_user
        )
        .await,
        0
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM invitations WHERE org_id = $1",
            &other.org_id
        )
        .await,
        0
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM users WHERE org_id = $1",
            &other.org_id
        )
        .await,
        2
    );
}

async fn fixing_an_unconfirmed_users_email_sends_a_new_invitation_there(app: TestApp) {
    let organization = populated(&app).await;
    let grace = user_id(&app, "grace@example.com").await;
    let old_link = queued_join_link(&app, "grace@example.com").await;
    let form = app.get_text(&format!("/setup/users/{grace}/edit")).await;
    assert!(form.contains("Edit User") && form.contains("value=\"grace@example.com\""));
    let standard = app.profile_id(&organization.org_id, "Standard").await;
    let manager = app.role_id(&organization.org_id, "Manager").await;
    let response = app
        .post_form(
            &format!("/setup/users/{grace}/edit"),
            &[
                ("csrf_token", &csrf_token_in(&form)),
                ("first_name", "Grace"),
                ("last_name", "Hopper"),
                ("email", "grace.hopper@example.com"),
                ("profile_id", &standard),
                ("role_id", &manager),
            ],
        )
        .await;
    assert_eq!(location(&response), format!("/setup/users/{grace}"));
    let page = app.get_text(&location(&response)).await;
    assert!(page.contains("Changes saved."), "{page}");
    assert_eq!(
        app.text_value("SELECT email FROM users WHERE id = $1", &grace)
            .await
            .as_deref(),
        Some("grace.hopper@example.com")
    );
    let new_link = queued_join_link(&app, "grace.hopper@example.com").await;
    assert_ne!(new_link, old_link);
    assert_eq!(
        app.new_client()
            .get(&old_link)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let (browser, page) = open_join_link(&app, &new_link).await;
    assert!(page.contains("value=\"grace.hopper@example.com\" readonly"));
    assert_eq!(
        location(&submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await),
        "/"
    );
}

async fn deactivating_ends_every_session_and_activating_restores(app: TestApp) {
    populated(&app).await;
    let linus = user_id(&app, "linus@example.com").await;
    let linus_browser = app.new_client();
    let signed_in = app
        .sign_in_with(&linus_browser, "linus", "quiet orange bicycle")
        .await;
    assert_eq!(location(&signed_in), "/");
    assert_eq!(app.store.session_count(&linus).await.unwrap(), 1);

    assert!(
        bulk(&app, "active", "deactivate", &[&linus])
            .await
            .contains("Deactivated 1 user.")
    );
    assert_eq!(app.store.session_count(&linus).await.unwrap(), 0);
    assert_eq!(
        location(&linus_browser.get(app.url("/")).send().await.unwrap()),
        "/login"
    );
    let refused = app
        .sign_in_with(&linus_browser, "linus", "quiet orange bicycle")
        .await;
    assert_eq!(refused.status().as_u16(), 401);

    assert!(
        bulk(&app, "deactivated", "activate", &[&linus])
            .await
            .contains("Activated 1 user.")
    );
    assert_eq!(
        app.text_value("SELECT status FROM users WHERE id = $1", &linus)
            .await
            .as_deref(),
        Some("active")
    );
    // A deactivated invitee's link is dead, and activating brings them back as Unconfirmed.
    let grace = user_id(&app, "grace@example.com").await;
    let link = queued_join_link(&app, "grace@example.com").await;
    bulk(&app, "unconfirmed", "deactivate", &[&grace]).await;
    assert_eq!(
        app.new_client()
            .get(&link)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    bulk(&app, "deactivated", "activate", &[&grace]).await;
    assert_eq!(
        app.text_value("SELECT status FROM users WHERE id = $1", &grace)
            .await
            .as_deref(),
        Some("unconfirmed")
    );
}

async fn the_last_active_administrator_cannot_be_deactivated_or_demoted(app: TestApp) {
    let organization = populated(&app).await;
    let page = bulk(&app, "admins", "deactivate", &[&organization.admin_id]).await;
    assert!(page.contains("You cannot deactivate yourself"), "{page}");
    let form = app
        .get_text(&format!("/setup/users/{}/edit", organization.admin_id))
        .await;
    let standard = app.profile_id(&organization.org_id, "Standard").await;
    let ceo = app.role_id(&organization.org_id, "CEO").await;
    let response = app
        .post_form(
            &format!("/setup/users/{}/edit", organization.admin_id),
            &[
                ("csrf_token", &csrf_token_in(&form)),
                ("first_name", "Ada"),
                ("last_name", "Lovelace"),
                ("profile_id", &standard),
                ("role_id", &ceo),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.unwrap().contains(
        "This is the last active administrator; make someone else an administrator first."
    ));
    assert_eq!(
        app.store
            .active_administrator_count(&organization.scope)
            .await
            .unwrap(),
        1
    );

    // With a second administrator, one of them may go.
    let second = app
        .add_active_user(
            &organization.org_id,
            "administrator",
            "ceo",
            ("Second", "Admin"),
            "second",
            "quiet orange bicycle",
        )
        .await;
    assert!(
        bulk(&app, "admins", "deactivate", &[&second])
            .await
            .contains("Deactivated 1 user.")
    );
}

async fn deleting_an_unconfirmed_user_withdraws_the_invitation(app: TestApp) {
    let organization = populated(&app).await;
    let grace = user_id(&app, "grace@example.com").await;
    let link = queued_join_link(&app, "grace@example.com").await;
    let linus = user_id(&app, "linus@example.com").await;
    let page = bulk(&app, "unconfirmed", "delete", &[&grace, &linus]).await;
    assert!(page.contains("Deleted 1 user."), "{page}");
    assert!(page.contains("Linus Torvalds has joined; deactivate them instead"));
    assert_eq!(
        app.number_value("SELECT COUNT(*) FROM users WHERE id = $1", &grace)
            .await,
        0
    );
    assert!(
        app.store
            .emails_to("grace@example.com")
            .await
            .unwrap()
            .is_empty(),
        "the unsent email was withdrawn"
    );
    assert_eq!(
        app.new_client()
            .get(&link)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert!(
        app.store
            .audit_actions(&organization.scope)
            .await
            .unwrap()
            .contains(&"user_deleted".to_owned())
    );
}

async fn company_details_change_the_invitation_and_its_lifetime(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let form = app.get_text("/setup/company").await;
    assert!(form.contains("value=\"168\""), "7 days by default");
    let token = csrf_token_in(&form);
    let bad = app
        .post_form(
            "/setup/company",
            &[
                ("csrf_token", &token),
                ("company_name", "Hopper Heating"),
                ("account_name", "Field Team"),
                ("invitation_lifetime_hours", "721"),
            ],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("Enter a whole number of hours from 1 to 720")
    );
    let good = app
        .post_form(
            "/setup/company",
            &[
                ("csrf_token", &token),
                ("company_name", "Hopper Heating"),
                ("account_name", "Field Team"),
                ("invitation_lifetime_hours", "1"),
            ],
        )
        .await;
    assert!(
        good.text()
            .await
            .unwrap()
            .contains("Company details saved.")
    );
    // The header and new invitations use the new names; the signed-in page re-reads them.
    save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    let email = &app.emails_to("grace@example.com").await[0];
    assert_eq!(
        email.subject,
        "You are invited to join Hopper Heating's Field Team account."
    );
    let link = queued_join_link(&app, "grace@example.com").await;
    app.clock.advance(Duration::from_secs(60 * 60 + 1));
    assert_eq!(
        app.new_client()
            .get(&link)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        410,
        "one hour, as set"
    );
}

async fn an_expired_invitee_can_ask_for_a_new_one_and_administrators_are_told(app: TestApp) {
    populated(&app).await;
    let link = queued_join_link(&app, "grace@example.com").await;
    app.clock.advance(Duration::from_secs(7 * 24 * 60 * 60 + 1));
    let invitee = app.new_client();
    let expired = invitee
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        expired.contains("This invitation has expired.")
            && expired.contains("Ask for a new invitation")
    );
    let ask = |page: String| {
        let invitee = invitee.clone();
        let url = app.url("/join/request");
        async move {
            invitee
                .post(url)
                .form(&[
                    ("csrf_token", csrf_token_in(&page)),
                    ("token", crate::helpers::hidden_field(&page, "token")),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(
        ask(expired.clone())
            .await
            .contains("Your administrators have been asked to send you a new invitation.")
    );
    assert!(
        ask(expired)
            .await
            .contains("You already asked within the last hour"),
        "rate limited"
    );
    let to_admin = app.emails_to("ada@example.com").await;
    assert_eq!(to_admin.len(), 1, "one email to the one administrator");
    assert_eq!(
        to_admin[0].subject,
        "Grace Hopper asks for a new invitation to 1Stop Install"
    );

    // The administrator (signed in again: a week passed) sees it and reinvites.
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let home = app.get_text("/").await;
    assert!(
        home.contains("Asked for a new invitation") && home.contains("Grace Hopper"),
        "{home}"
    );
    let grace = user_id(&app, "grace@example.com").await;
    assert!(
        bulk(&app, "unconfirmed", "reinvite", &[&grace])
            .await
            .contains("Invitation resent to 1 user.")
    );
    assert!(
        !app.get_text("/")
            .await
            .contains("Asked for a new invitation")
    );
}

async fn the_administrator_homepage_shows_what_needs_attention(app: TestApp) {
    populated(&app).await;
    app.clock
        .advance(Duration::from_secs(6 * 24 * 60 * 60 + 60));
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let home = app.get_text("/").await;
    assert!(
        home.contains("Unconfirmed users") && home.contains("<p class=\"big-number\">2</p>"),
        "{home}"
    );
    assert!(
        home.contains("Invitations expiring within a day")
            && home.contains("<bdi>Grace Hopper</bdi>, expires")
    );
    assert!(home.contains("href=\"/setup/users?view=unconfirmed\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reinvited_email_arrives_and_the_per_administrator_cap_says_why_it_skips() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(smtp) = RealSmtpServer::start().await else {
            return;
        };
        let configured = spawn_app_configured(backend, None, Some(smtp.url()), |services| {
            services.reinvite_limits.per_administrator_per_hour = 3;
        })
        .await;
        let Some(app) = configured else { continue };
        populated(&app).await;
        app.deliver_emails().await;
        let first_links: Vec<String> = smtp
            .wait_for(2)
            .await
            .iter()
            .map(|email| email.join_link())
            .collect();
        assert_eq!(first_links.len(), 2);
        app.clock.advance(Duration::from_secs(61));
        let grace = user_id(&app, "grace@example.com").await;
        let alan = user_id(&app, "alan@example.com").await;
        let page = bulk(&app, "unconfirmed", "reinvite", &[&grace, &alan]).await;
        assert!(page.contains("Invitation resent to 1 user."), "{page}");
        assert!(
            page.contains("was not reinvited: you have sent 3 invitations in the last hour"),
            "{page}"
        );
        app.deliver_emails().await;
        let messages = smtp.wait_for(3).await;
        assert_eq!(messages.len(), 3);
        let resent = messages
            .iter()
            .find(|email| !first_links.contains(&email.join_link()))
            .expect("the reinvitation carries a new token");
        assert_eq!(
            resent.subject,
            "You are invited to join 1Stop Install's 1Stop Install account."
        );
        let (browser, form) = open_join_link(&app, &resent.join_link()).await;
        let username = if resent.to.starts_with("alan") {
            "alan"
        } else {
            "grace"
        };
        assert_eq!(
            location(&submit_join(&app, &browser, &form, username, GRACE_PASSWORD).await),
            "/"
        );
    }
}

async fn a_thousand_users_are_reinvited_in_one_request(app: TestApp) {
    use onestop_server::store::{PageStart, ViewFilter};
    use onestop_server::usecases::manage_users::{ManageUsersError, reinvite_users};
    let organization = app.create_organization().await;
    let admin = crate::helpers::invite_crew(&app, &organization, 1000).await;
    let unconfirmed = app
        .store
        .user_page(
            &organization.scope,
            ViewFilter::Unconfirmed,
            "",
            &PageStart::First,
            2000,
        )
        .await
        .unwrap();
    let ids: Vec<String> = unconfirmed.into_iter().map(|row| row.id).collect();
    assert_eq!(ids.len(), 1000);
    app.clock.advance(Duration::from_secs(61));
    let started = std::time::Instant::now();
    let outcome = reinvite_users(&app.services, &admin, &ids, "", None)
        .await
        .unwrap();
    eprintln!(
        "reinviting 1,000 users took {:?} (debug build; the benchmark measures release)",
        started.elapsed()
    );
    assert_eq!(outcome.summary, "Invitation resent to 1000 users.");
    assert!(outcome.skipped.is_empty());
    let live = "SELECT COUNT(*) FROM invitations WHERE org_id = $1 AND superseded_at IS NULL";
    assert_eq!(app.number_value(live, &organization.org_id).await, 1000);
    let queued = "SELECT COUNT(*) FROM outbox WHERE org_id = $1";
    assert_eq!(
        app.number_value(queued, &organization.org_id).await,
        1000,
        "the unsent first emails were withdrawn"
    );
    let too_many: Vec<String> = (0..1001).map(|index| format!("id-{index}")).collect();
    let refused = reinvite_users(&app.services, &admin, &too_many, "", None).await;
    assert!(matches!(refused, Err(ManageUsersError::TooManySelected)));
}

async fn a_double_clicked_reinvite_sends_one_invitation(app: TestApp) {
    populated(&app).await;
    let grace = user_id(&app, "grace@example.com").await;
    app.clock.advance(std::time::Duration::from_secs(61));
    let page = app.get_text("/setup/users?view=unconfirmed").await;
    let token = csrf_token_in(&page);
    let form = [
        ("csrf_token", token.as_str()),
        ("view", "unconfirmed"),
        ("action", "reinvite"),
        ("ids", grace.as_str()),
    ];
    let (first, second) = futures::join!(
        app.post_form("/setup/users/bulk", &form),
        app.post_form("/setup/users/bulk", &form)
    );
    // Each answer is a redirect whose cookie carries what it did to the list.
    let outcomes = [first, second].map(|response| {
        assert_eq!(response.status().as_u16(), 303);
        crate::helpers::bulk_outcome_in(&response).expect("an outcome")
    });
    let resent = outcomes
        .iter()
        .filter(|outcome| outcome.contains("Invitation resent to 1 user."))
        .count();
    assert_eq!(resent, 1, "one click counts");
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM invitations WHERE user_id = $1",
            &grace
        )
        .await,
        2
    );
}

async fn the_audit_log_survives_any_page_number(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    for page in ["999999999999999999", "-5", "x"] {
        let response = app.get(&format!("/setup/audit?page={page}")).await;
        assert_eq!(response.status().as_u16(), 200, "page {page}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_user_stops_at_the_hourly_invitation_cap_with_the_reason() {
    let app = spawn_app_configured(Backend::Sqlite, None, None, |services| {
        services.reinvite_limits.per_administrator_per_hour = 2;
    })
    .await
    .unwrap();
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    for (first, email) in [("Grace", "grace@example.com"), ("Alan", "alan@example.com")] {
        assert_eq!(
            save_new_user(&app, first, "Person", email, "Standard", "Manager")
                .await
                .status()
                .as_u16(),
            303
        );
    }
    let refused = save_new_user(
        &app,
        "Linus",
        "Person",
        "linus@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(refused.status().as_u16(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("You have sent 2 invitations in the last hour, the most allowed")
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM users WHERE email_normalized = $1",
            "linus@example.com"
        )
        .await,
        0
    );
    app.clock.advance(Duration::from_secs(60 * 60 + 1));
    let accepted = save_new_user(
        &app,
        "Linus",
        "Person",
        "linus@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(
        accepted.status().as_u16(),
        303,
        "an hour later it works again"
    );
}
