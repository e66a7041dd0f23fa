//! The client address behind a reverse proxy: only a trusted proxy's forwarding headers count,
//! per-address limits apply to the real client, and a per-address limit never refuses a correct
//! password.

use crate::helpers::{
    ADMIN_PASSWORD, Backend, TestApp, csrf_token_in, on_both_backends, spawn_app,
    spawn_app_with_options,
};

/// Posts the sign-in form with `X-Forwarded-For: forwarded_for`.
async fn sign_in_from(
    app: &TestApp,
    forwarded_for: &str,
    login: &str,
    password: &str,
) -> reqwest::Response {
    let browser = app.new_client();
    let page = browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    browser
        .post(app.url("/login"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("username", login),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

async fn behind_a_proxy(backend: Backend) -> Option<TestApp> {
    spawn_app_with_options(
        backend,
        |options| options.trusted_proxies = "127.0.0.1, ::1".to_owned(),
        |_| {},
    )
    .await
}

async fn failed_sign_in_addresses(app: &TestApp) -> Vec<String> {
    let sql =
        "SELECT COALESCE(ip, '') FROM audit_events WHERE action = 'sign_in_failed' ORDER BY at";
    match &app.store {
        onestop_server::store::Store::Sqlite(onestop_server::store::SqlitePools {
            writer: pool,
            ..
        }) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        onestop_server::store::Store::Postgres(pool) => {
            sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
        }
    }
}

async fn forwarded_headers_from_an_untrusted_peer_are_ignored(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.create_organization().await;
    sign_in_from(&app, "198.51.100.7", "ada", "not the password at all").await;
    assert_eq!(failed_sign_in_addresses(&app).await, ["127.0.0.1"]);
}

async fn behind_a_trusted_proxy_the_forwarded_client_is_recorded(backend: Backend) {
    let Some(app) = behind_a_proxy(backend).await else {
        return;
    };
    app.create_organization().await;
    // The client forged the first entry; the proxy appended the real address.
    sign_in_from(
        &app,
        "6.6.6.6, 198.51.100.7",
        "ada",
        "not the password at all",
    )
    .await;
    assert_eq!(failed_sign_in_addresses(&app).await, ["198.51.100.7"]);
}

async fn one_noisy_client_behind_the_proxy_locks_nobody_out(backend: Backend) {
    use onestop_server::usecases::sign_in::ADDRESS_LIMIT;
    let Some(app) = behind_a_proxy(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    for attempt in 0..=ADDRESS_LIMIT.attempts {
        let response = sign_in_from(
            &app,
            "198.51.100.7",
            &format!("nobody{attempt}"),
            "wrong wrong wrong",
        )
        .await;
        assert_eq!(response.status().as_u16(), 401, "attempt {attempt}");
    }
    // Another client behind the same proxy signs in at once.
    let response = sign_in_from(&app, "203.0.113.9", "ada", ADMIN_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    // And a correct password from the noisy address itself is slowed, never refused.
    let response = sign_in_from(&app, "198.51.100.7", "ada", ADMIN_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        app.store
            .session_count(&organization.admin_id)
            .await
            .unwrap(),
        2
    );
}

async fn invalid_join_links_from_one_client_do_not_block_another(backend: Backend) {
    use onestop_server::usecases::invalid_links::INVALID_LINK_LIMIT;
    let Some(app) = behind_a_proxy(backend).await else {
        return;
    };
    app.create_organization().await;
    let open = |forwarded_for: &'static str| {
        let url = app.url(&format!(
            "/join/{}",
            onestop_domain::SecretToken::generate().expose()
        ));
        let browser = app.new_client();
        async move {
            browser
                .get(url)
                .header("x-forwarded-for", forwarded_for)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for _ in 0..INVALID_LINK_LIMIT.attempts {
        assert_eq!(open("198.51.100.7").await, 404);
    }
    assert_eq!(open("198.51.100.7").await, 429, "the guesser waits");
    assert_eq!(open("203.0.113.9").await, 404, "everyone else does not");
}

on_both_backends!(
    forwarded_headers_from_an_untrusted_peer_are_ignored,
    behind_a_trusted_proxy_the_forwarded_client_is_recorded,
    one_noisy_client_behind_the_proxy_locks_nobody_out,
    invalid_join_links_from_one_client_do_not_block_another,
);
