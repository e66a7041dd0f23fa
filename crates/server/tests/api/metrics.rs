//! `/metrics`: 404 on the main port unless the operator set a token, 401 without it, the
//! Prometheus text with it; counters that move with what people do (requests by route pattern,
//! sign-ins, joins, deliveries, throttled requests, hashing waits) and gauges read from the
//! database; and the separate listener of the real binary, without a token.
//!
//! The recorder is one per process and the tests of this binary may share a process: they
//! compare a counter before and after, never its value.

use crate::helpers::{
    Backend, TestApp, app_for_binary, free_port, on_both_backends, on_both_databases,
    spawn_app_with_options,
};
use crate::invitations::{open_join_link, submit_join};
use std::time::Duration;

on_both_databases!(metrics_on_the_main_port_are_not_there_without_a_token_setting,);

on_both_backends!(
    metrics_need_the_token_and_then_list_every_metric,
    signing_in_inviting_joining_and_throttling_move_their_counters,
    the_separate_metrics_listener_serves_metrics_without_a_token,
    a_worker_alone_serves_its_delivery_counts_on_the_metrics_listener,
);

const TOKEN: &str = "scrape-token-0123456789abcdef";

async fn app_with_token(backend: Backend) -> Option<TestApp> {
    spawn_app_with_options(
        backend,
        |options| options.metrics_token = Some(TOKEN.to_owned()),
        |_| {},
    )
    .await
}

/// The sample of `series` (a name with its labels, as Prometheus prints it), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.trim().parse().expect("a number"))
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .new_client()
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.unwrap()
}

async fn metrics_on_the_main_port_are_not_there_without_a_token_setting(app: TestApp) {
    for token in [None, Some(TOKEN)] {
        let mut request = app.new_client().get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404);
        let body = response.text().await.unwrap();
        assert!(!body.contains("onestop_"), "{body}");
    }
}

async fn metrics_need_the_token_and_then_list_every_metric(backend: Backend) {
    let Some(app) = app_with_token(backend).await else {
        return;
    };
    for authorization in [
        None,
        Some("Bearer wrong-token-0123456789abcdef".to_owned()),
        Some(format!("Bearer {TOKEN}x")),
        Some(format!("Basic {TOKEN}")),
        Some(TOKEN.to_owned()),
    ] {
        let mut request = app.new_client().get(app.url("/metrics"));
        if let Some(value) = &authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{authorization:?}");
        assert!(response.headers().contains_key("www-authenticate"));
        let body = response.text().await.unwrap();
        assert!(!body.contains("onestop_outbox"), "{body}");
    }
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let text = scrape(&app).await;
    for name in [
        "onestop_http_requests_total",
        "onestop_http_request_duration_seconds_bucket",
        "onestop_sign_ins_total",
        "onestop_password_hash_queue_wait_seconds",
        "onestop_outbox_depth",
        "onestop_outbox_oldest_age_seconds",
        "onestop_active_sessions",
    ] {
        assert!(text.contains(name), "{name} in:\n{text}");
    }
    assert!(
        text.contains("route=\"/login\"") && text.contains("status=\"3xx\""),
        "requests by route pattern and status class:\n{text}"
    );
    assert!(
        sample(&text, "onestop_active_sessions") >= 1.0,
        "Ada's session is live:\n{text}"
    );
}

async fn signing_in_inviting_joining_and_throttling_move_their_counters(backend: Backend) {
    let Some(app) = app_with_token(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let before = scrape(&app).await;

    // A wrong password, a login nobody has, then the right one.
    let wrong = app.sign_in("ada", "not the password at all").await;
    assert_eq!(wrong.status().as_u16(), 401);
    let unknown = app.sign_in("nobody", "not the password at all").await;
    assert_eq!(unknown.status().as_u16(), 401);
    app.sign_in_as_admin(&organization).await;
    // An invitation: queued, then delivered, then accepted.
    let link = app.invite("Grace", "Hopper", "grace@example.com").await;
    let queued = scrape(&app).await;
    assert!(sample(&queued, "onestop_outbox_depth") >= 1.0, "{queued}");
    assert_eq!(app.deliver_emails().await, 1);
    let (browser, page) = open_join_link(&app, &link).await;
    let joined = submit_join(&app, &browser, &page, "grace", "silver kettle morning").await;
    assert_eq!(joined.status().as_u16(), 303);
    // Guessed Join Now links until the address is refused.
    let guesser = app.new_client();
    let mut refused = false;
    for _ in 0..40 {
        let response = guesser
            .get(app.url(&format!(
                "/join/{}",
                onestop_domain::SecretToken::generate().expose()
            )))
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "guessing links is throttled");

    let after = scrape(&app).await;
    let moved = |series: &str| {
        let (from, to) = (sample(&before, series), sample(&after, series));
        assert!(to > from, "{series} moved from {from} to {to}:\n{after}");
    };
    moved("onestop_sign_ins_total{outcome=\"wrong_password\"}");
    moved("onestop_sign_ins_total{outcome=\"unknown_login\"}");
    moved("onestop_sign_ins_total{outcome=\"success\"}");
    moved("onestop_email_deliveries_total{outcome=\"sent\"}");
    moved("onestop_joins_total{outcome=\"joined\"}");
    moved("onestop_throttled_requests_total{route=\"/join/{token}\"}");
    moved("onestop_password_hash_queue_wait_seconds_count");
    moved("onestop_http_requests_total{method=\"POST\",route=\"/setup/users/new\",status=\"3xx\"}");
    assert_eq!(
        sample(&after, "onestop_outbox_depth"),
        0.0,
        "sent:\n{after}"
    );
    // Routes are patterns: no token of a link reaches the metrics.
    assert!(!after.contains(link.rsplit('/').next().unwrap()));
    assert!(after.contains("route=\"/join/{token}\""), "{after}");
}

async fn the_separate_metrics_listener_serves_metrics_without_a_token(backend: Backend) {
    let Some(app) = app_for_binary(backend).await else {
        return;
    };
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = app.start_binary(&[("ONESTOP_METRICS_LISTEN", &listen)]);
    let client = app.new_client();
    // Something to count first.
    let login = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status().as_u16(), 200);

    let response = client
        .get(format!("http://{listen}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    for name in [
        "onestop_outbox_depth",
        "onestop_active_sessions",
        "onestop_http_requests_total{method=\"GET\",route=\"/login\",status=\"2xx\"}",
    ] {
        assert!(text.contains(name), "{name} in:\n{text}");
    }
    // Only /metrics there, and no /metrics on the main port (no token is set).
    let other = client
        .get(format!("http://{listen}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);
    let main = client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status().as_u16(), 404);
    server.stop();
}

async fn a_worker_alone_serves_its_delivery_counts_on_the_metrics_listener(backend: Backend) {
    let Some(app) = app_for_binary(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    crate::helpers::invite_crew(&app, &organization, 1).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let mut worker = app.start_worker(&[("ONESTOP_METRICS_LISTEN", &listen)]);
    let client = app.new_client();
    let url = format!("http://{listen}/metrics");
    let sent = "onestop_email_deliveries_total{outcome=\"sent\"}";
    // Generous: on a loaded two-core machine the worker binary may take a while to start. If it
    // never counts the email, its log says why.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let counted = match client.get(&url).send().await {
            Ok(response) => sample(&response.text().await.unwrap_or_default(), sent) >= 1.0,
            Err(_) => false,
        };
        if counted {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker sends the invitation and its metrics count it; its log:\n{}",
            worker.stop()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = client.get(&url).send().await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, "onestop_outbox_depth"), 0.0, "{text}");
    worker.stop();
}
