use crate::helpers::{TestApp, on_both_databases};

on_both_databases!(
    health_and_readiness_answer_ok,
    unknown_routes_get_a_404_page,
    pages_carry_the_security_headers
);

async fn health_and_readiness_answer_ok(app: TestApp) {
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status().as_u16(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

async fn unknown_routes_get_a_404_page(app: TestApp) {
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status().as_u16(), 404);
    let body = response.text().await.unwrap();
    assert!(body.contains("Page not found"), "{body}");
    assert!(body.contains("<!doctype html>"));
}

async fn pages_carry_the_security_headers(app: TestApp) {
    let response = app.get("/login").await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header("content-security-policy").as_deref(),
        Some(
            "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'"
        )
    );
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        header("strict-transport-security"),
        None,
        "no HSTS over plain HTTP"
    );
    let stylesheet = app.get("/static/app.css").await;
    assert_eq!(stylesheet.status().as_u16(), 200);
    assert_eq!(
        stylesheet.headers()["cache-control"],
        "public, max-age=3600"
    );
}
