//! The defects of the security review (issue 12), each as the attack that found it, on both
//! databases: these tests failed on the code before the fixes.

use crate::helpers::{
    ADMIN_PASSWORD, Backend, MEMBER_PASSWORD, TestApp, csrf_token_in, location, on_both_backends,
    on_both_databases, spawn_app_with_options,
};
use crate::invitations::invite_grace;
use onestop_domain::Permission;
use onestop_server::store::{Delivery, DeliveryOutcome};
use std::time::Duration;

on_both_databases!(
    a_clone_of_administrator_cannot_mint_administrators_on_any_path,
    the_anonymous_form_token_does_not_count_once_signed_in,
    an_address_new_user_accepts_is_one_the_mailer_can_send_to,
    a_first_run_attempt_with_a_fake_code_is_refused_before_hashing_and_throttled,
    a_new_first_run_code_replaces_the_old_one_and_codes_expire,
    a_huge_login_stores_a_short_hashed_key_and_blocked_keys_stop_writing,
    username_and_email_share_one_sign_in_budget,
    expired_throttle_windows_are_purged,
    the_outbox_holds_no_usable_link,
    a_stale_worker_cannot_overwrite_a_newer_state,
    parallel_requests_for_a_new_invitation_queue_one_batch,
    setup_pages_also_require_view_setup,
);

on_both_backends!(
    the_per_company_cap_applies_to_reinvite_too,
    parallel_invitations_never_pass_the_hourly_cap_together,
);

on_both_databases!(
    failed_sign_ins_cost_the_same_commits_for_known_and_unknown_logins,
    the_worker_purges_expired_throttle_windows,
    every_signed_in_and_link_page_is_no_store,
    a_session_ends_twelve_hours_after_sign_in_however_busy,
);

/// A Manager holding "Regional Admin", a clone of Administrator with all eight permissions, and
/// an Installer role below Manager.
async fn regional_admin(app: &TestApp) -> (crate::helpers::Organization, reqwest::Client) {
    let organization = app.create_organization().await;
    let manager_role = app.role_id(&organization.org_id, "Manager").await;
    app.store
        .add_role(
            &organization.scope,
            "Installer",
            &onestop_domain::RoleId::parse(&manager_role).unwrap(),
            onestop_domain::Timestamp::from_unix_millis(0),
        )
        .await
        .unwrap();
    app.add_user_with_profile(
        &organization.org_id,
        "Regional Admin",
        &Permission::ALL,
        "manager",
        ("Mallory", "Manager"),
        "mallory",
    )
    .await;
    let browser = app.new_client();
    assert_eq!(
        app.sign_in_with(&browser, "mallory", MEMBER_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    app.agree_with(&browser).await;
    (organization, browser)
}

async fn a_clone_of_administrator_cannot_mint_administrators_on_any_path(app: TestApp) {
    let (organization, mallory) = regional_admin(&app).await;
    let administrator = app.profile_id(&organization.org_id, "Administrator").await;
    let crew_role = app.role_id(&organization.org_id, "Installer").await;
    let get = |path: &str| {
        let mallory = mallory.clone();
        let url = app.url(path);
        async move { mallory.get(url).send().await.unwrap().text().await.unwrap() }
    };

    // New User does not offer it, and a forged form is refused with nothing written.
    let form = get("/setup/users/new").await;
    assert!(!form.contains(">Administrator</option>"), "{form}");
    let users_before = app.count("users").await;
    let response = mallory
        .post(app.url("/setup/users/new"))
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("first_name", "Eve"),
            ("last_name", "Attacker"),
            ("email", "eve@evil.example"),
            ("profile_id", administrator.as_str()),
            ("role_id", crew_role.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Choose a profile from the list.")
    );
    assert_eq!(app.count("users").await, users_before);

    // Edit User cannot hand it to an existing user either.
    let (_, crew_id) = app
        .add_user_with_profile(
            &organization.org_id,
            "Crew",
            &[],
            "manager",
            ("Carl", "Crew"),
            "carl",
        )
        .await;
    app.text_value(
        "UPDATE users SET role_id = (SELECT id FROM roles WHERE name = 'Installer') WHERE id = $1 RETURNING id",
        &crew_id,
    )
    .await
    .expect("Carl moves to the Installer role");
    let edit = get(&format!("/setup/users/{crew_id}/edit")).await;
    assert!(edit.contains("Carl"), "Mallory may edit Carl: {edit}");
    assert!(!edit.contains(">Administrator</option>"), "{edit}");
    let response = mallory
        .post(app.url(&format!("/setup/users/{crew_id}/edit")))
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("first_name", "Carl"),
            ("last_name", "Crew"),
            ("email", "carl@example.com"),
            ("profile_id", administrator.as_str()),
            ("role_id", crew_role.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_client_error(),
        "{}: {edit}",
        response.status()
    );
    assert_ne!(
        app.text_value("SELECT profile_id FROM users WHERE id = $1", &crew_id)
            .await
            .unwrap(),
        administrator
    );

    // Deleting a profile cannot move its people onto Administrator.
    let crew_profile = app.profile_id(&organization.org_id, "Crew").await;
    let response = mallory
        .post(app.url(&format!("/setup/profiles/{crew_profile}/delete")))
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("move_to", administrator.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(
        app.text_value("SELECT profile_id FROM users WHERE id = $1", &crew_id)
            .await
            .unwrap(),
        crew_profile
    );

    // And the administrator (Ada, the CEO) is beyond Mallory's reach in bulk actions.
    let response = mallory
        .post(app.url("/setup/users/bulk"))
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("action", "deactivate"),
            ("confirmed", "1"),
            ("ids", organization.admin_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().as_u16() < 500);
    assert_eq!(
        app.text_value(
            "SELECT status FROM users WHERE id = $1",
            &organization.admin_id
        )
        .await
        .unwrap(),
        "active"
    );
}

async fn the_anonymous_form_token_does_not_count_once_signed_in(app: TestApp) {
    let organization = app.create_organization().await;
    // The anonymous token from the sign-in page, kept in the form cookie.
    let anonymous = csrf_token_in(&app.get_text("/login").await);
    app.sign_in_as_admin(&organization).await;
    let sessions = app.count("sessions").await;
    let response = app
        .post_form("/logout", &[("csrf_token", anonymous.as_str())])
        .await;
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.count("sessions").await, sessions, "still signed in");
}

async fn an_address_new_user_accepts_is_one_the_mailer_can_send_to(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let users = app.count("users").await;
    for bad in ["a,b@example.com", "a(b)@example.com", "ada.@example.com"] {
        let response =
            crate::helpers::save_new_user(&app, "Ann", "Odd", bad, "Standard", "Manager").await;
        assert_eq!(response.status().as_u16(), 422, "{bad}");
        let page = response.text().await.unwrap();
        assert!(page.contains("The part before the @"), "{bad}: {page}");
    }
    assert_eq!(app.count("users").await, users, "nothing written");
    assert_eq!(app.count("outbox").await, 0);
}

async fn a_first_run_attempt_with_a_fake_code_is_refused_before_hashing_and_throttled(
    app: TestApp,
) {
    use onestop_server::usecases::first_run::{ATTEMPT_LIMIT, issue_first_run_code};
    let code = issue_first_run_code(&app.services).await.unwrap().unwrap();
    let page = app.get_text(&format!("/first-run/{}", code.expose())).await;
    let token = csrf_token_in(&page);
    let fake = onestop_domain::SecretToken::generate();
    let form = |code: &str| {
        vec![
            ("csrf_token", token.clone()),
            ("code", code.to_owned()),
            ("company_name", "Evil Corp".to_owned()),
            ("account_name", String::new()),
            ("first_name", "Eve".to_owned()),
            ("last_name", "Attacker".to_owned()),
            ("email", "eve@evil.example".to_owned()),
            ("username", "eve".to_owned()),
            ("password", "correct horse battery staple".to_owned()),
            (
                "password_confirmation",
                "correct horse battery staple".to_owned(),
            ),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, String)> = fields;
        let client = app.client.clone();
        let url = app.url("/first-run");
        async move { client.post(url).form(&fields).send().await.unwrap() }
    };
    for _ in 0..ATTEMPT_LIMIT.attempts {
        let response = post(form(fake.expose())).await;
        assert_eq!(response.status().as_u16(), 400);
    }
    let throttled = post(form(fake.expose())).await;
    assert_eq!(throttled.status().as_u16(), 429);
    assert!(throttled.headers().contains_key("retry-after"));
    // Even the real code waits now: the address spent its attempts.
    assert_eq!(post(form(code.expose())).await.status().as_u16(), 429);
    assert_eq!(app.count("organizations").await, 0);
    assert_eq!(
        app.services.hasher.available_permits(),
        std::thread::available_parallelism().map_or(2, usize::from),
        "no hash is running"
    );
    assert_eq!(
        app.services.hasher.most_running_at_once(),
        0,
        "no password was ever hashed for the refused attempts"
    );

    // Once a company exists, the first run answers 404 before anything else.
    app.clock.advance(Duration::from_secs(16 * 60));
    app.create_organization().await;
    assert_eq!(post(form(code.expose())).await.status().as_u16(), 404);
}

async fn a_new_first_run_code_replaces_the_old_one_and_codes_expire(app: TestApp) {
    use onestop_server::usecases::first_run::{CODE_LIFETIME, issue_first_run_code};
    let old = issue_first_run_code(&app.services).await.unwrap().unwrap();
    let new = issue_first_run_code(&app.services).await.unwrap().unwrap();
    assert_eq!(app.count("first_run_codes").await, 1);
    assert_eq!(
        app.get(&format!("/first-run/{}", old.expose()))
            .await
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        app.get(&format!("/first-run/{}", new.expose()))
            .await
            .status()
            .as_u16(),
        200
    );
    app.clock.advance(CODE_LIFETIME + Duration::from_secs(1));
    assert_eq!(
        app.get(&format!("/first-run/{}", new.expose()))
            .await
            .status()
            .as_u16(),
        400,
        "a day later the link has expired"
    );
}

async fn a_huge_login_stores_a_short_hashed_key_and_blocked_keys_stop_writing(app: TestApp) {
    app.create_organization().await;
    let huge = "x".repeat(60_000);
    let page = app.get_text("/login").await;
    let token = csrf_token_in(&page);
    for _ in 0..12 {
        app.post_form(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("username", huge.as_str()),
                ("password", "wrong wrong wrong"),
            ],
        )
        .await;
    }
    let longest_key = app
        .number_value(
            "SELECT CAST(COALESCE(MAX(LENGTH(key_hash)), 0) AS BIGINT) FROM throttle_counters WHERE $1 = $1",
            "",
        )
        .await;
    assert_eq!(longest_key, 64, "a SHA-256 in hex, whatever was typed");
    assert_eq!(
        app.count("throttle_counters").await,
        2,
        "one counter for the login, one for the address"
    );
    // Blocked: further attempts are refused without counting.
    let attempts_before = app
        .number_value(
            "SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM throttle_counters WHERE $1 = $1",
            "",
        )
        .await;
    let refused = app
        .post_form(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("username", huge.as_str()),
                ("password", "wrong wrong wrong"),
            ],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 429);
    let attempts_after = app
        .number_value(
            "SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM throttle_counters WHERE $1 = $1",
            "",
        )
        .await;
    assert_eq!(
        attempts_after, attempts_before,
        "a blocked key is not written"
    );
}

async fn username_and_email_share_one_sign_in_budget(app: TestApp) {
    use onestop_server::usecases::sign_in::ACCOUNT_LIMIT;
    let organization = app.create_organization().await;
    let half = ACCOUNT_LIMIT.attempts / 2;
    for attempt in 0..ACCOUNT_LIMIT.attempts {
        let login = if attempt < half {
            "ada"
        } else {
            "ada@example.com"
        };
        let response = app.sign_in(login, "not the password at all").await;
        assert_eq!(response.status().as_u16(), 401, "attempt {attempt}");
    }
    // The budget is spent, whichever way the account is named.
    for login in ["ada", "ADA@example.com"] {
        let response = app.sign_in(login, ADMIN_PASSWORD).await;
        assert_eq!(response.status().as_u16(), 429, "{login}");
    }
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        0
    );
}

async fn expired_throttle_windows_are_purged(app: TestApp) {
    app.create_organization().await;
    app.sign_in("nobody-at-all", "wrong wrong wrong").await;
    assert!(app.count("throttle_counters").await > 0);
    let purged = app.store.purge_expired_throttles(app.now()).await.unwrap();
    assert_eq!(purged, 0, "the windows are still open");
    app.clock.advance(Duration::from_secs(16 * 60));
    app.store.purge_expired_throttles(app.now()).await.unwrap();
    assert_eq!(app.count("throttle_counters").await, 0);
}

/// Every text column of the outbox, raw as the database holds it.
async fn raw_outbox_text(app: &TestApp) -> String {
    let sql = "SELECT COALESCE(body_text, '') || COALESCE(body_html, '') || COALESCE(action_url, '') FROM outbox";
    let rows: Vec<String> = match &app.store {
        onestop_server::store::Store::Sqlite(onestop_server::store::SqlitePools {
            writer: pool,
            ..
        }) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        onestop_server::store::Store::Postgres(pool) => {
            sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
        }
    };
    rows.concat()
}

async fn the_outbox_holds_no_usable_link(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let token = link.rsplit('/').next().unwrap().to_owned();
    let raw = raw_outbox_text(&app).await;
    assert!(raw.starts_with("sealed:v1:"), "{raw:.80}");
    assert!(
        !raw.contains(&token),
        "the raw token is not in the database"
    );
    assert!(!raw.contains("/join/"), "no link in clear");
    // The file copies of a SQLite database (WAL included) hold no usable link either.
    if let onestop_server::store::Store::Sqlite(_) = &app.store {
        for entry in std::fs::read_dir(app.data_dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                let found = bytes
                    .windows(token.len())
                    .any(|window| window == token.as_bytes());
                assert!(!found, "{} holds the token", path.display());
            }
        }
    }
    // It is still delivered, with the link intact.
    assert_eq!(app.deliver_emails().await, 1);
    let mail_dir = app.data_dir.path().join("mail");
    let delivered: String = std::fs::read_dir(mail_dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(delivered.contains(&token), "the email carries the link");
}

async fn a_stale_worker_cannot_overwrite_a_newer_state(app: TestApp) {
    invite_grace(&app).await;
    let store = &app.store;
    let lease = Duration::from_secs(120);
    let stale = store.claim_due_emails(app.now(), lease, 10).await.unwrap();
    assert_eq!(stale.len(), 1);
    // The first worker stalls past its lease; a second one takes the message over and fails it.
    app.clock.advance(lease + Duration::from_secs(1));
    let fresh = store.claim_due_emails(app.now(), lease, 10).await.unwrap();
    assert_eq!(fresh.len(), 1);
    let renewed = store
        .renew_email_leases(&stale[0].claim, app.now().plus(lease))
        .await
        .unwrap();
    assert!(renewed.is_empty(), "the stale claim holds nothing");
    let failed = Delivery {
        email: &fresh[0],
        outcome: DeliveryOutcome::Failed {
            reason: "550 no such user",
        },
        audit: None,
    };
    assert_eq!(
        store.record_deliveries(&[failed], app.now()).await.unwrap(),
        [true]
    );
    // The stale worker's late "sent" changes nothing.
    let sent = Delivery {
        email: &stale[0],
        outcome: DeliveryOutcome::Sent,
        audit: None,
    };
    assert_eq!(
        store.record_deliveries(&[sent], app.now()).await.unwrap(),
        [false]
    );
    let email = &app.emails_to("grace@example.com").await[0];
    assert_eq!(email.state, "failed");
    assert_eq!(email.last_error.as_deref(), Some("550 no such user"));
}

async fn parallel_requests_for_a_new_invitation_queue_one_batch(app: TestApp) {
    let (_, link) = invite_grace(&app).await;
    let token = link.rsplit('/').next().unwrap().to_owned();
    app.clock.advance(Duration::from_secs(8 * 24 * 60 * 60));
    let mut requests = Vec::new();
    for _ in 0..20 {
        let services = app.services.clone();
        let token = onestop_domain::SecretToken::parse(&token).unwrap();
        requests.push(tokio::spawn(async move {
            onestop_server::usecases::join::request_new_invitation(&services, &token, "192.0.2.1")
                .await
                .map(|outcome| format!("{outcome:?}"))
        }));
    }
    let mut sent = 0;
    for request in requests {
        let outcome = request.await.unwrap().expect("no request fails");
        if outcome == "Sent" {
            sent += 1;
        } else {
            assert_eq!(outcome, "AlreadyAsked");
        }
    }
    assert_eq!(sent, 1);
    assert_eq!(app.count("invitation_requests").await, 1);
    assert_eq!(
        app.emails_to("ada@example.com").await.len(),
        1,
        "one notification for the one administrator"
    );
}

async fn the_per_company_cap_applies_to_reinvite_too(backend: Backend) {
    // A small company cap; a large per-administrator one.
    let Some(app) = spawn_app_with_options(
        backend,
        |_| {},
        |services| {
            services.reinvite_limits.per_organization_per_hour = 3;
        },
    )
    .await
    else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    for (first, email) in [("Grace", "grace@example.com"), ("Alan", "alan@example.com")] {
        let response =
            crate::helpers::save_new_user(&app, first, "Member", email, "Standard", "Manager")
                .await;
        assert_eq!(response.status().as_u16(), 303);
    }
    app.clock.advance(Duration::from_secs(120));
    let page = app.get_text("/setup/users?view=unconfirmed").await;
    let grace = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .unwrap();
    let alan = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "alan@example.com",
        )
        .await
        .unwrap();
    let response = app
        .post_form(
            "/setup/users/bulk",
            &[
                ("csrf_token", csrf_token_in(&page).as_str()),
                ("action", "reinvite"),
                ("ids", grace.as_str()),
                ("ids", alan.as_str()),
            ],
        )
        .await;
    assert!(response.status().as_u16() < 400, "{}", response.status());
    let page = if response.status().is_redirection() {
        app.get_text(&location(&response)).await
    } else {
        response.text().await.unwrap()
    };
    assert!(
        page.contains("was not reinvited: your company has sent 3 invitations in the last hour"),
        "{page}"
    );
    assert_eq!(
        app.count("invitations").await,
        3,
        "two invited, one reinvited"
    );
}

async fn setup_pages_also_require_view_setup(app: TestApp) {
    let organization = app.create_organization().await;
    app.add_user_with_profile(
        &organization.org_id,
        "Users Only",
        &[Permission::ManageUsers],
        "manager",
        ("Uma", "Users"),
        "uma",
    )
    .await;
    let browser = app.new_client();
    app.sign_in_with(&browser, "uma", MEMBER_PASSWORD).await;
    app.agree_with(&browser).await;
    for path in ["/setup", "/setup/users", "/setup/users/new"] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "{path}");
    }
}

async fn parallel_invitations_never_pass_the_hourly_cap_together(backend: Backend) {
    use onestop_server::usecases::invite_user::{InviteInput, invite_user};
    let Some(app) = spawn_app_with_options(
        backend,
        |_| {},
        |services| services.reinvite_limits.per_administrator_per_hour = 3,
    )
    .await
    else {
        return;
    };
    let organization = app.create_organization().await;
    let admin = crate::helpers::invite_crew(&app, &organization, 2).await;
    assert_eq!(app.count("invitations").await, 2);
    let profiles = app.store.profiles(&organization.scope).await.unwrap();
    let roles = app.store.roles(&organization.scope).await.unwrap();
    let input = |index: usize| InviteInput {
        first_name: "Racer".into(),
        last_name: format!("Number{index}"),
        email: format!("racer{index}@example.com"),
        profile_id: profiles.last().unwrap().id.to_string(),
        role_id: roles.last().unwrap().id.to_string(),
        personal_message: String::new(),
    };
    // One invitation is left in the hour; five arrive at once.
    let attempts = (0..5).map(|index| {
        let services = app.services.clone();
        let admin = admin.clone();
        let input = input(index);
        tokio::spawn(async move { invite_user(&services, &admin, &input, None).await.is_ok() })
    });
    let mut accepted = 0;
    for attempt in attempts {
        if attempt.await.unwrap() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1, "exactly the one invitation left in the hour");
    assert_eq!(app.count("invitations").await, 3);
    assert_eq!(app.count("users").await, 1 + 3);
}

async fn the_worker_purges_expired_throttle_windows(app: TestApp) {
    app.create_organization().await;
    app.sign_in("nobody-at-all", "wrong wrong wrong").await;
    assert!(app.count("throttle_counters").await > 0);
    app.clock.advance(Duration::from_secs(16 * 60));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(app.worker.clone().run(stopped));
    crate::helpers::wait_until(
        Duration::from_secs(10),
        Duration::from_millis(20),
        "the running worker purged the expired counters",
        || async { app.count("throttle_counters").await == 0 },
    )
    .await;
    stop.send(true).unwrap();
    worker.await.unwrap();
}

async fn every_signed_in_and_link_page_is_no_store(app: TestApp) {
    let (organization, link) = invite_grace(&app).await;
    let _ = organization;
    for path in [
        "/",
        "/setup",
        "/setup/users",
        "/terms",
        "/login",
        "/password/forgot",
    ] {
        let response = app.get(path).await;
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|value| value.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
    }
    let browser = app.new_client();
    for url in [link.clone(), app.url("/join")] {
        let response = browser.get(&url).send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|value| value.to_str().ok()),
            Some("no-store"),
            "a page of the join link"
        );
    }
}

async fn a_session_ends_twelve_hours_after_sign_in_however_busy(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    // Busy all day: a request every hour keeps the session from idling out...
    for _ in 0..11 {
        app.clock.advance(Duration::from_secs(60 * 60));
        assert_eq!(app.get("/").await.status().as_u16(), 200);
    }
    app.clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(app.get("/").await.status().as_u16(), 200, "11 h 59 min");
    // ...but twelve hours after sign-in it ends all the same.
    app.clock.advance(Duration::from_secs(61));
    assert_eq!(location(&app.get("/").await), "/login");
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        0
    );
}

/// SQLite zeroes deleted content (`secure_delete`) on every pooled connection, so a wiped outbox
/// body or a deleted session leaves nothing in the free pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_zeroes_deleted_content_on_every_connection() {
    let app = crate::helpers::spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite always runs");
    let onestop_server::store::Store::Sqlite(pools) = &app.store else {
        unreachable!("a SQLite app");
    };
    let mut connections = Vec::new();
    // The one writer connection and several readers.
    for pool in [&pools.writer, &pools.reader, &pools.reader, &pools.reader] {
        let mut connection = pool.acquire().await.unwrap();
        let secure_delete: i64 = sqlx::query_scalar("PRAGMA secure_delete")
            .fetch_one(&mut *connection)
            .await
            .unwrap();
        assert_eq!(secure_delete, 1);
        connections.push(connection);
    }
}

/// A failed sign-in costs the same writes whether the login names someone or nobody: one
/// transaction counting the attempt, one recording the failure (for a known user the audit event
/// rides in it), so the commits, each an fsync on SQLite, do not tell them apart.
/// And a login longer than any email address (254 characters) is never looked up.
async fn failed_sign_ins_cost_the_same_commits_for_known_and_unknown_logins(app: TestApp) {
    use crate::helpers::statements;
    app.create_organization().await;
    let page = app.get_text("/login").await;
    let token = csrf_token_in(&page);
    let attempt = |login: String| {
        let app = &app;
        let token = token.clone();
        async move {
            let (response, run) = statements::run_by(app.post_form(
                "/login",
                &[
                    ("csrf_token", token.as_str()),
                    ("username", login.as_str()),
                    ("password", "not the password at all"),
                ],
            ))
            .await;
            assert_eq!(response.status().as_u16(), 401);
            // sqlx reports statements, not BEGIN/COMMIT: the writes other than the audit event
            // (which rides in the failure's transaction) stand for the transactions.
            let commits = run
                .iter()
                .filter(|statement| {
                    ["INSERT", "UPDATE", "DELETE"]
                        .iter()
                        .any(|write| statement.starts_with(write))
                        && !statement.starts_with("INSERT INTO audit_events")
                })
                .cloned()
                .collect::<Vec<_>>();
            let lookups = run
                .iter()
                .filter(|statement| statement.starts_with("SELECT id AS user_id"))
                .count();
            (commits, lookups)
        }
    };
    let (known_commits, known_lookups) = attempt("ada".to_owned()).await;
    let (unknown_commits, unknown_lookups) = attempt("nobody-at-all".to_owned()).await;
    assert_eq!(known_commits, unknown_commits, "the same writes");
    assert!(
        known_commits
            .iter()
            .any(|statement| statement.starts_with("UPDATE throttle_counters SET last_failure_at")),
        "the failure is written for both: {known_commits:?}"
    );
    assert_eq!(
        (known_lookups, unknown_lookups),
        (1, 1),
        "one lookup of the account each"
    );
    let (_, huge_lookups) = attempt("x".repeat(255)).await;
    assert_eq!(huge_lookups, 0, "a 255-character login is not looked up");
    let (_, longest_lookups) = attempt(format!("{}@example.com", "x".repeat(242))).await;
    assert_eq!(longest_lookups, 1, "254 characters are looked up");
}
