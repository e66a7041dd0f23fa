//! The Users list at team scale: every sort order and the profile and role filters over 1,000
//! users (seeded like `onestop org seed`), keyset paging that neither skips nor repeats a row,
//! "select every match" across pages, confirmation without JavaScript, the redirect back to the
//! same list after a bulk action; and the defaults of New User.

use crate::helpers::{Organization, TestApp, csrf_token_in, location, on_both_databases};
use onestop_domain::{Clock, PermissionSet, RoleId};
use onestop_server::store::SeedPlan;

on_both_databases!(
    every_sort_order_pages_through_a_thousand_users_without_skipping_or_repeating,
    filters_by_profile_and_role_keep_the_sort_and_count_the_matches,
    select_every_match_reinvites_every_match_across_pages,
    more_matches_than_a_bulk_action_takes_are_refused_and_nothing_changes,
    delete_and_deactivate_ask_first_and_change_nothing_until_confirmed,
    a_bulk_action_comes_back_to_the_same_view_search_filters_sort_and_page,
    new_user_suggests_the_least_powerful_profile_and_shows_the_role_tree,
    renaming_a_role_or_profile_reorders_the_list,
);

/// Text of an attribute value as askama escapes it, unescaped.
fn unescaped(text: &str) -> String {
    text.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#61;", "=")
        .replace("&#43;", "+")
        .replace("&#37;", "%")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
}

/// The `href` of the link whose text starts with `text` (a column heading, or Next).
fn link_starting(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!("\">{text}"))?;
    let start = html[..end].rfind("href=\"")? + 6;
    Some(unescaped(&html[start..end]))
}

/// The value of the hidden field `name` (the first one).
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("a field {name}"))
        + marker.len();
    unescaped(html[start..].split('"').next().unwrap_or_default())
}

/// The ids of the rows a page lists, in order.
fn row_ids(html: &str) -> Vec<String> {
    html.match_indices("name=\"ids\" value=\"")
        .map(|(at, marker)| html[at + marker.len()..at + marker.len() + 36].to_owned())
        .collect()
}

/// The company's roles and profiles the seeded users are spread over.
struct Crowd {
    organization: Organization,
    ceo: String,
    sales: String,
    installer: String,
    standard: String,
    estimators: String,
}

/// Ada signed in, and 1,000 seeded users spread over four roles (CEO > Manager > Sales >
/// Installer), two profiles, many equal invitation dates and sign-in times, and some who never
/// signed in: ties everywhere, so the order must go on by last name and id.
async fn crowd(app: &TestApp) -> Crowd {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let scope = &organization.scope;
    let id_of = |sql: &str| {
        let sql = sql.replace("{org}", &organization.org_id);
        async move { app.text_values(&sql).await.remove(0) }
    };
    let ceo = id_of("SELECT id FROM roles WHERE org_id = '{org}' AND builtin = 'ceo'").await;
    let manager =
        id_of("SELECT id FROM roles WHERE org_id = '{org}' AND builtin = 'manager'").await;
    let standard =
        id_of("SELECT id FROM profiles WHERE org_id = '{org}' AND builtin = 'standard'").await;
    let now = app.clock.now();
    let sales = app
        .store
        .add_role(scope, "Sales", &RoleId::parse(&manager).unwrap(), now)
        .await
        .unwrap();
    let installer = app
        .store
        .add_role(scope, "Installer", &RoleId::parse(&sales).unwrap(), now)
        .await
        .unwrap();
    let estimators = app
        .store
        .add_profile(scope, "Estimators", "", PermissionSet::default(), now)
        .await
        .unwrap();
    let lifetime = app.store.invitation_lifetime_ms(scope).await.unwrap();
    let admin_id = onestop_domain::UserId::parse(&organization.admin_id).unwrap();
    let seeded = app
        .store
        .seed_users(&SeedPlan {
            scope,
            invited_by: &admin_id,
            count: 1000,
            password_hash: "not a hash: seeded users here never sign in",
            label: "list",
            invitation_lifetime_ms: lifetime,
            now,
        })
        .await
        .unwrap();
    let ids: Vec<&str> = seeded.iter().map(|user| user.id.as_str()).collect();
    let roles = [&ceo, &manager, &sales, &installer];
    for (which, role) in roles.iter().enumerate() {
        let chosen: Vec<String> = ids
            .iter()
            .enumerate()
            .filter(|(index, _)| index % 4 == which)
            .map(|(_, id)| format!("'{id}'"))
            .collect();
        app.execute(&format!(
            "UPDATE users SET role_id = '{role}' WHERE id IN ({})",
            chosen.join(", ")
        ))
        .await;
    }
    let estimating: Vec<String> = ids
        .iter()
        .enumerate()
        .filter(|(index, _)| index % 3 == 0)
        .map(|(_, id)| format!("'{id}'"))
        .collect();
    app.execute(&format!(
        "UPDATE users SET profile_id = '{estimators}' WHERE id IN ({})",
        estimating.join(", ")
    ))
    .await;
    for (index, id) in ids.iter().enumerate() {
        let signed_in = if index % 5 == 0 {
            "NULL".to_owned()
        } else {
            (1_700_000_000_000_i64 + (index as i64 * 7919 % 97) * 60_000).to_string()
        };
        let created = 1_690_000_000_000_i64 + (index as i64 % 37) * 86_400_000;
        app.execute(&format!(
            "UPDATE users SET last_sign_in_at = {signed_in}, created_at = {created} WHERE id = '{id}'"
        ))
        .await;
    }
    Crowd {
        organization,
        ceo,
        sales,
        installer,
        standard,
        estimators,
    }
}

/// The sort of each column, written independently of the page (role and profile names looked
/// up, not read from the user's copies), for `ORDER BY`.
fn oracle_order(column: &str, descending: bool) -> String {
    let direction = if descending { "DESC" } else { "ASC" };
    let key = match column {
        "name" => None,
        "status" => Some("u.status".to_owned()),
        "role" => Some("(SELECT r.name FROM roles r WHERE r.id = u.role_id)".to_owned()),
        "profile" => Some("(SELECT p.name FROM profiles p WHERE p.id = u.profile_id)".to_owned()),
        "invited" => Some("u.created_at".to_owned()),
        "last_sign_in" => Some("COALESCE(u.last_sign_in_at, 0)".to_owned()),
        other => panic!("no column {other}"),
    };
    key.into_iter()
        .chain(["u.last_name".to_owned(), "u.id".to_owned()])
        .map(|part| format!("{part} {direction}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Follows `first` and then every Next link; returns the ids in the order shown, and the pages.
async fn walk_forwards(app: &TestApp, first: &str) -> (Vec<String>, Vec<String>) {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(link) = next {
        let page = app.get_text(&link).await;
        ids.extend(row_ids(&page));
        next = crate::users_page::link_named(&page, "Next");
        pages.push(page);
        assert!(pages.len() < 100, "the walk ends");
    }
    (ids, pages)
}

/// Follows the Last link of `first`, then every Previous link; returns the pages' ids, first page
/// first. (The first page is always a full one, so it may overlap the second.)
async fn walk_backwards(app: &TestApp, first: &str) -> Vec<Vec<String>> {
    let page = app.get_text(first).await;
    let Some(last) = crate::users_page::link_named(&page, "Last") else {
        return vec![row_ids(&page)];
    };
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut previous = Some(last);
    while let Some(link) = previous {
        let page = app.get_text(&link).await;
        pages.push(row_ids(&page));
        previous = crate::users_page::link_named(&page, "Previous");
        assert!(pages.len() < 100, "the walk ends");
    }
    pages.reverse();
    pages
}

/// Each page is a run of `expected` in its order, and together they show all of it.
fn assert_covers(pages: &[Vec<String>], expected: &[String], what: &str) {
    let mut shown = std::collections::HashSet::new();
    for page in pages {
        let start = expected
            .iter()
            .position(|id| Some(id) == page.first())
            .unwrap_or_else(|| panic!("{what}: a page of unknown rows"));
        assert_eq!(
            &expected[start..start + page.len()],
            page.as_slice(),
            "{what}: a page in order"
        );
        shown.extend(page.iter().cloned());
    }
    assert_eq!(shown.len(), expected.len(), "{what}: no row skipped");
}

async fn every_sort_order_pages_through_a_thousand_users_without_skipping_or_repeating(
    app: TestApp,
) {
    let crowd = crowd(&app).await;
    let org = &crowd.organization.org_id;
    let list = app.get_text("/setup/users?view=all").await;
    for (column, label) in [
        ("name", "Name"),
        ("role", "Role"),
        ("profile", "Profile"),
        ("status", "Status"),
        ("invited", "Invited"),
        ("last_sign_in", "Last sign-in"),
    ] {
        // Clicking the heading sorts by it; clicking it again reverses. The list starts sorted
        // by name.
        let heading = format!("{label}<span class=\"visually-hidden\">");
        let ascending = if column == "name" {
            "/setup/users?view=all".to_owned()
        } else {
            link_starting(&list, &heading).expect("a heading link")
        };
        let ascending_page = app.get_text(&ascending).await;
        assert!(
            ascending_page.contains("aria-sort=\"ascending\"><a href="),
            "{column}: aria-sort"
        );
        let descending = link_starting(&ascending_page, &heading).expect("the heading again");
        assert!(
            app.get_text(&descending)
                .await
                .contains("aria-sort=\"descending\""),
            "{column}"
        );
        for (link, reversed) in [(ascending, false), (descending, true)] {
            let expected = app
                .text_values(&format!(
                    "SELECT u.id FROM users u WHERE u.org_id = '{org}' ORDER BY {}",
                    oracle_order(column, reversed)
                ))
                .await;
            assert_eq!(expected.len(), 1001);
            let (forwards, pages) = walk_forwards(&app, &link).await;
            assert_eq!(
                forwards, expected,
                "{column} (descending: {reversed}) by Next"
            );
            assert!(
                pages[1].contains("Showing 51–100 of 1001 users"),
                "{column}: the position"
            );
            let backwards = walk_backwards(&app, &link).await;
            assert_covers(
                &backwards,
                &expected,
                &format!("{column} (descending: {reversed}) by Last and Previous"),
            );
        }
    }
}

async fn filters_by_profile_and_role_keep_the_sort_and_count_the_matches(app: TestApp) {
    let crowd = crowd(&app).await;
    let org = &crowd.organization.org_id;
    let list = app.get_text("/setup/users?view=all").await;
    // The filters offer every profile and the roles as a tree.
    assert!(list.contains(">Estimators</option>"), "{list}");
    assert!(list.contains(">\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}Sales</option>"));
    for (view, status, profile, role, sort) in [
        ("all", None, Some(&crowd.estimators), None, "name"),
        ("all", None, None, Some(&crowd.installer), "invited"),
        (
            "active",
            Some("active"),
            Some(&crowd.standard),
            Some(&crowd.sales),
            "last_sign_in",
        ),
        (
            "unconfirmed",
            Some("unconfirmed"),
            Some(&crowd.standard),
            None,
            "role",
        ),
        ("deactivated", Some("deactivated"), None, None, "profile"),
        ("active", Some("active"), None, Some(&crowd.ceo), "status"),
    ] {
        let mut conditions = format!("u.org_id = '{org}'");
        let mut link = format!("/setup/users?view={view}&sort={sort}&dir=desc");
        if let Some(status) = status {
            conditions.push_str(&format!(" AND u.status = '{status}'"));
        }
        if let Some(profile) = profile {
            conditions.push_str(&format!(" AND u.profile_id = '{profile}'"));
            link.push_str(&format!("&profile={profile}"));
        }
        if let Some(role) = role {
            conditions.push_str(&format!(" AND u.role_id = '{role}'"));
            link.push_str(&format!("&role={role}"));
        }
        let expected = app
            .text_values(&format!(
                "SELECT u.id FROM users u WHERE {conditions} ORDER BY {}",
                oracle_order(sort, true)
            ))
            .await;
        assert!(
            expected.len() > 50,
            "{link}: more than a page ({})",
            expected.len()
        );
        let (shown, pages) = walk_forwards(&app, &link).await;
        assert_eq!(shown, expected, "{link}");
        assert!(
            pages[0].contains(&format!("Showing 1–50 of {} users", expected.len())),
            "{link}: the count of the matches"
        );
        // The filters stay chosen, and every link of the page keeps them.
        if let Some(profile) = profile {
            assert!(pages[0].contains(&format!("value=\"{profile}\" selected")));
        }
        let next = crate::users_page::link_named(&pages[0], "Next").unwrap();
        for kept in link.split('?').nth(1).unwrap().split('&') {
            assert!(next.contains(kept), "{next} keeps {kept}");
        }
    }
}

/// Posts a bulk action from the list at `back`.
async fn post_bulk(app: &TestApp, back: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = app.get_text(&format!("/setup/users?{back}")).await;
    let token = csrf_token_in(&page);
    let mut form = vec![("csrf_token", token.as_str()), ("back", back)];
    form.extend_from_slice(fields);
    app.post_form("/setup/users/bulk", &form).await
}

async fn select_every_match_reinvites_every_match_across_pages(app: TestApp) {
    let crowd = crowd(&app).await;
    let org = &crowd.organization.org_id;
    let sales = &crowd.sales;
    let matching = app
        .text_values(&format!(
            "SELECT email FROM users WHERE org_id = '{org}' AND status = 'unconfirmed' \
              AND role_id = '{sales}' ORDER BY email"
        ))
        .await;
    assert!(
        matching.len() > 50,
        "the matches span pages: {}",
        matching.len()
    );
    let back = format!("view=unconfirmed&role={sales}");
    let list = app.get_text(&format!("/setup/users?{back}")).await;
    assert!(list.contains(&format!(
        "Select every user that matches ({}), on every page",
        matching.len()
    )));
    let response = post_bulk(
        &app,
        &back,
        &[("action", "reinvite"), ("all_matching", "1")],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let after = app.get_text(&location(&response)).await;
    assert!(
        after.contains(&format!("Invitation resent to {} users.", matching.len())),
        "{after}"
    );
    // Every match has a new email queued; nobody else has one.
    for email in &matching {
        assert_eq!(app.emails_to(email).await.len(), 1, "{email}");
    }
    assert_eq!(
        app.number(&format!(
            "SELECT COUNT(*) FROM outbox WHERE org_id = '{org}' AND state = 'queued'"
        ))
        .await,
        i64::try_from(matching.len()).unwrap()
    );
    // Reloading the list repeats nothing.
    app.get_text(&location(&response)).await;
    assert_eq!(
        app.number(&format!(
            "SELECT COUNT(*) FROM outbox WHERE org_id = '{org}'"
        ))
        .await,
        i64::try_from(matching.len()).unwrap()
    );
}

async fn more_matches_than_a_bulk_action_takes_are_refused_and_nothing_changes(app: TestApp) {
    let crowd = crowd(&app).await;
    let org = &crowd.organization.org_id;
    let statuses = format!("SELECT status FROM users WHERE org_id = '{org}' ORDER BY id");
    let before = app.text_values(&statuses).await;
    let response = post_bulk(
        &app,
        "view=all",
        &[
            ("action", "deactivate"),
            ("all_matching", "1"),
            ("confirmed", "1"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    let after = app.get_text(&location(&response)).await;
    assert!(
        after.contains("More than 1000 users match; a bulk action takes at most 1000 at a time."),
        "{after}"
    );
    assert_eq!(app.text_values(&statuses).await, before);
}

async fn delete_and_deactivate_ask_first_and_change_nothing_until_confirmed(app: TestApp) {
    let crowd = crowd(&app).await;
    let org = &crowd.organization.org_id;
    let unconfirmed = app
        .text_values(&format!(
            "SELECT id FROM users WHERE org_id = '{org}' AND status = 'unconfirmed' ORDER BY id LIMIT 2"
        ))
        .await;
    let names = app
        .text_values(&format!(
            "SELECT COALESCE(first_name, '') || ' ' || last_name FROM users \
              WHERE id IN ('{}', '{}') ORDER BY last_name",
            unconfirmed[0], unconfirmed[1]
        ))
        .await;
    let counting = format!("SELECT COUNT(*) FROM users WHERE org_id = '{org}'");
    let count = || app.number(&counting);
    let back = "view=unconfirmed&sort=invited";
    let asked = post_bulk(
        &app,
        back,
        &[
            ("action", "delete"),
            ("ids", &unconfirmed[0]),
            ("ids", &unconfirmed[1]),
        ],
    )
    .await;
    assert_eq!(asked.status().as_u16(), 200);
    let confirm = asked.text().await.unwrap();
    assert!(confirm.contains("<h1>Delete 2 users?</h1>"), "{confirm}");
    for name in &names {
        assert!(confirm.contains(name), "{name} is named: {confirm}");
    }
    assert_eq!(count().await, 1001, "nothing is deleted yet");
    // Cancel goes back to the same list.
    assert_eq!(
        link_starting(&confirm, "Cancel</a>").unwrap(),
        format!("/setup/users?{back}")
    );
    // Confirm posts the listed users again, and only then are they deleted.
    let mut form = vec![
        ("csrf_token".to_owned(), csrf_token_in(&confirm)),
        ("action".to_owned(), hidden(&confirm, "action")),
        ("confirmed".to_owned(), hidden(&confirm, "confirmed")),
        ("back".to_owned(), hidden(&confirm, "back")),
    ];
    form.extend(
        confirm
            .match_indices("name=\"ids\" value=\"")
            .map(|(at, marker)| {
                (
                    "ids".to_owned(),
                    confirm[at + marker.len()..][..36].to_owned(),
                )
            }),
    );
    let fields: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let done = app.post_form("/setup/users/bulk", &fields).await;
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(location(&done), format!("/setup/users?{back}"));
    assert!(
        app.get_text(&location(&done))
            .await
            .contains("Deleted 2 users.")
    );
    assert_eq!(count().await, 999);

    // Deactivate asks too.
    let active = app
        .text_values(&format!(
            "SELECT id FROM users WHERE org_id = '{org}' AND status = 'active' \
              AND id <> '{}' ORDER BY id LIMIT 1",
            crowd.organization.admin_id
        ))
        .await;
    let asked = post_bulk(
        &app,
        "view=active",
        &[("action", "deactivate"), ("ids", &active[0])],
    )
    .await;
    assert_eq!(asked.status().as_u16(), 200);
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("<h1>Deactivate 1 user?</h1>")
    );
    assert_eq!(
        app.text_value("SELECT status FROM users WHERE id = $1", &active[0])
            .await
            .unwrap(),
        "active"
    );
}

async fn a_bulk_action_comes_back_to_the_same_view_search_filters_sort_and_page(app: TestApp) {
    let crowd = crowd(&app).await;
    let first = format!(
        "/setup/users?view=unconfirmed&q=list&role={}&sort=invited&dir=desc",
        crowd.sales
    );
    let page = app.get_text(&first).await;
    let second = crate::users_page::link_named(&page, "Next").expect("a second page");
    let page = app.get_text(&second).await;
    assert!(page.contains("Showing 51–100 of"), "{page}");
    let back = hidden(&page, "back");
    assert_eq!(
        format!("/setup/users?{back}"),
        second,
        "the form knows its page"
    );
    let ids = row_ids(&page);
    let response = post_bulk(&app, &back, &[("action", "reinvite"), ("ids", &ids[0])]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), second);
    let after = app.get_text(&location(&response)).await;
    assert!(after.contains("Invitation resent to 1 user."));
    assert!(after.contains("Showing 51–100 of"));
    assert_eq!(row_ids(&after), ids, "the same page, in the same order");
}

async fn new_user_suggests_the_least_powerful_profile_and_shows_the_role_tree(app: TestApp) {
    let crowd = crowd(&app).await;
    // The newest profile is a clone of Administrator: not the one to suggest.
    app.store
        .add_profile(
            &crowd.organization.scope,
            "Administrator copy",
            "",
            PermissionSet::all(),
            app.clock.now(),
        )
        .await
        .unwrap();
    let form = app.get_text("/setup/users/new").await;
    assert!(
        form.contains(&format!(
            "value=\"{}\" selected>Standard</option>",
            crowd.standard
        )),
        "{form}"
    );
    let edit = app
        .get_text(&format!(
            "/setup/users/{}/edit",
            crowd.organization.admin_id
        ))
        .await;
    for page in [&form, &edit] {
        let ceo = page.find(">CEO</option>").expect("CEO at the top");
        let manager = page
            .find(">\u{a0}\u{a0}\u{a0}Manager</option>")
            .expect("Manager one level in");
        let sales = page
            .find(">\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}Sales</option>")
            .expect("Sales two levels in");
        let installer = page
            .find(">\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}Installer</option>")
            .expect("Installer three levels in");
        assert!(ceo < manager && manager < sales && sales < installer);
    }
}

async fn renaming_a_role_or_profile_reorders_the_list(app: TestApp) {
    let crowd = crowd(&app).await;
    let org = &crowd.organization.org_id;
    // "Installer" sorts after "CEO"; renamed "Apprentice", its users come first.
    app.execute(&format!(
        "UPDATE roles SET name = 'Apprentice' WHERE id = '{}'",
        crowd.installer
    ))
    .await;
    app.execute(&format!(
        "UPDATE profiles SET name = 'Aardvarks' WHERE id = '{}'",
        crowd.estimators
    ))
    .await;
    for (column, first_of) in [
        (
            "role",
            format!("SELECT id FROM users WHERE role_id = '{}'", crowd.installer),
        ),
        (
            "profile",
            format!(
                "SELECT id FROM users WHERE profile_id = '{}'",
                crowd.estimators
            ),
        ),
    ] {
        let page = app
            .get_text(&format!("/setup/users?view=all&sort={column}"))
            .await;
        let expected = app
            .text_values(&format!(
                "SELECT u.id FROM users u WHERE u.org_id = '{org}' ORDER BY {} LIMIT 50",
                oracle_order(column, false)
            ))
            .await;
        assert_eq!(row_ids(&page), expected, "{column}");
        let renamed = app.text_values(&first_of).await;
        assert!(renamed.contains(&row_ids(&page)[0]), "{column}");
    }
}
