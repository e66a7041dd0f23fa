//! Starting a single sign-on (`POST /sso/start`) from one address: each start keeps a row and
//! asks the provider for its documents, so an address gets [`START_LIMIT`] starts a window.

use crate::helpers::{TestApp, csrf_token_in, on_both_databases};
use onestop_server::usecases::sso::START_LIMIT;

on_both_databases!(single_sign_on_starts_are_limited_per_address_and_the_wait_is_stated);

async fn single_sign_on_starts_are_limited_per_address_and_the_wait_is_stated(app: TestApp) {
    app.create_organization().await;
    let page = app.get_text("/login").await;
    let token = csrf_token_in(&page);
    let start = || {
        app.client
            .post(app.url("/sso/start"))
            .header(reqwest::header::ORIGIN, &app.address)
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", "sam@elsewhere.example"),
            ])
            .send()
    };
    for attempt in 1..=START_LIMIT.attempts {
        let response = start().await.unwrap();
        assert_eq!(response.status().as_u16(), 422, "start {attempt}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains("No single sign-on is set up for elsewhere.example."),
            "start {attempt}: {text}"
        );
    }
    let response = start().await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains("Too many single sign-ons were started from your network. Try again in"),
        "{text}"
    );

    app.clock.advance(START_LIMIT.window);
    assert_eq!(
        start().await.unwrap().status().as_u16(),
        422,
        "the window ended"
    );
}
