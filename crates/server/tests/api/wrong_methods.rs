//! A method an address does not take: 405 with the `Allow` header and a message in the form its
//! readers expect (a page, a problem document, a SCIM error), never an empty answer.

use crate::helpers::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::Value;

on_both_databases!(
    a_method_an_address_does_not_take_is_405_with_allow_and_a_message,
    an_address_nobody_serves_under_scim_is_a_scim_404,
);

async fn a_method_an_address_does_not_take_is_405_with_allow_and_a_message(app: TestApp) {
    let organization = app.create_organization().await;
    let token = app.api_token(&organization, &[]).await;
    let scim_token = app.scim_token(&organization).await;

    let response = app
        .client
        .delete(app.url("/login"))
        .header(reqwest::header::ORIGIN, &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET,HEAD,POST");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().await.unwrap();
    assert!(
        page.contains("This address does not take DELETE requests"),
        "{page}"
    );

    let response = app
        .with_token(Method::PUT, "/api/v1/users", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert!(
        response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 405, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("does not take PUT requests"),
        "{problem}"
    );

    let response = app
        .with_token(
            Method::DELETE,
            "/scim/v2/ServiceProviderConfig",
            &scim_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["status"], "405", "{error}");
    assert!(
        error["schemas"][0]
            .as_str()
            .unwrap()
            .ends_with(":api:messages:2.0:Error"),
        "{error}"
    );
}

async fn an_address_nobody_serves_under_scim_is_a_scim_404(app: TestApp) {
    let organization = app.create_organization().await;
    let scim_token = app.scim_token(&organization).await;
    let response = app
        .with_token(Method::PUT, "/scim/v1/Users", &scim_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["status"], "404", "{error}");
}
