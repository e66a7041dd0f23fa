//! Wrong second steps: ten a quarter of an hour and thirty a day per account, each audited; the
//! one that fills a window emails the user, whose password somebody knows.

use crate::helpers::{ADMIN_PASSWORD, TestApp, location, on_both_databases};
use crate::password_reset::{NEW_PASSWORD, ask_for_reset, choose, open_reset_link, reset_link};
use crate::two_step_helpers::{
    admin_with_authenticator, audited, code_at, give_second_step, sign_out,
};
use onestop_server::usecases::two_step::second_step::DAILY_LIMIT;
use std::time::Duration;

on_both_databases!(
    wrong_codes_are_throttled_like_passwords_audited_and_the_user_is_told,
    a_days_wrong_codes_have_a_limit_of_their_own_lifted_by_a_new_password,
    a_day_later_or_after_a_right_code_the_count_starts_again,
    wrong_codes_given_at_once_across_the_limit_send_exactly_one_alert,
);

const QUARTER_HOUR: Duration = Duration::from_secs(15 * 60);

/// The text of each alert emailed to Ada (the administrator), oldest first.
async fn alerts_to_ada(app: &TestApp) -> Vec<String> {
    app.emails_to("ada@example.com")
        .await
        .into_iter()
        .filter(|email| {
            email
                .subject
                .starts_with("Someone used your 1Stop password")
        })
        .map(|email| email.body_text)
        .collect()
}

/// Signs Ada in with her password, then gives the code of now; the answer to the code.
async fn signs_in_with_the_right_code(app: &TestApp, secret: &str) -> reqwest::Response {
    app.sign_in("ada", ADMIN_PASSWORD).await;
    give_second_step(app, &app.client, &code_at(secret, app.now()), false, false).await
}

/// A code that is not the one of now.
fn wrong_code(secret: &str, app: &TestApp) -> &'static str {
    if code_at(secret, app.now()) == "123456" {
        "654321"
    } else {
        "123456"
    }
}

async fn wrong_codes_are_throttled_like_passwords_audited_and_the_user_is_told(app: TestApp) {
    let (_, secret, _) = admin_with_authenticator(&app).await;
    sign_out(&app, &app.client).await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let right = code_at(&secret, app.now());
    let wrong = if right == "123456" {
        "654321"
    } else {
        "123456"
    };
    for attempt in 1..=10 {
        let response = give_second_step(&app, &app.client, wrong, false, false).await;
        assert_eq!(response.status().as_u16(), 422, "wrong code {attempt}");
    }
    let response = give_second_step(&app, &app.client, &right, false, false).await;
    assert_eq!(
        response.status().as_u16(),
        429,
        "the 11th code is refused, even a right one"
    );
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Too many wrong codes. Try again in 15 minutes."),
        "{page}"
    );
    assert_eq!(audited(&app, "second_step_failed").await, 10);
    // Whoever gave them knows the password: the user is told, once.
    let alerts = alerts_to_ada(&app).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    for expected in [
        "gave 10 wrong codes for the second step",
        "From the address: 127.0.0.1",
        "/password/forgot",
    ] {
        assert!(alerts[0].contains(expected), "{expected}: {}", alerts[0]);
    }
    assert_eq!(
        location(&app.get("/").await),
        "/login/two-step",
        "still not signed in"
    );

    // The window ends; the pending session has expired meanwhile (10 minutes): sign in again.
    app.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        location(&app.get("/").await),
        "/login",
        "a pending session lasts 10 minutes"
    );
    assert_eq!(
        location(&signs_in_with_the_right_code(&app, &secret).await),
        "/",
        "after the wait a right code signs in"
    );
}

async fn a_days_wrong_codes_have_a_limit_of_their_own_lifted_by_a_new_password(app: TestApp) {
    let (_, secret, _) = admin_with_authenticator(&app).await;
    sign_out(&app, &app.client).await;
    let windows = DAILY_LIMIT.attempts / 10;
    for window in 1..=windows {
        app.sign_in("ada", ADMIN_PASSWORD).await;
        for attempt in 1..=10 {
            let response =
                give_second_step(&app, &app.client, wrong_code(&secret, &app), false, false).await;
            assert_eq!(
                response.status().as_u16(),
                422,
                "window {window}, code {attempt}"
            );
        }
        app.clock.advance(QUARTER_HOUR);
    }
    assert_eq!(
        audited(&app, "second_step_failed").await,
        DAILY_LIMIT.attempts
    );
    assert_eq!(alerts_to_ada(&app).await.len(), 3, "one alert a window");

    // A new quarter of an hour, but the day's wrong codes are spent: even the right code waits.
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let response = give_second_step(
        &app,
        &app.client,
        &code_at(&secret, app.now()),
        false,
        false,
    )
    .await;
    assert_eq!(response.status().as_u16(), 429);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Too many wrong codes. Try again in 24 hours."),
        "{page}"
    );
    assert_eq!(location(&app.get("/").await), "/login/two-step");

    // As the alert says: choosing a new password lifts the pause at once.
    ask_for_reset(&app, "ada").await;
    let (browser, form) = open_reset_link(&app, &reset_link(&app, "ada@example.com").await).await;
    assert_eq!(
        choose(&app, &browser, &form, NEW_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    app.sign_in("ada", NEW_PASSWORD).await;
    let response = give_second_step(
        &app,
        &app.client,
        &code_at(&secret, app.now()),
        false,
        false,
    )
    .await;
    assert_eq!(location(&response), "/", "the right code signs in");
}

/// Gives `count` wrong codes after signing in with the password; each is refused as wrong.
async fn wrong_codes(app: &TestApp, secret: &str, count: i64) {
    app.sign_in("ada", ADMIN_PASSWORD).await;
    for attempt in 1..=count {
        let response =
            give_second_step(app, &app.client, wrong_code(secret, app), false, false).await;
        assert_eq!(response.status().as_u16(), 422, "wrong code {attempt}");
    }
}

async fn a_day_later_or_after_a_right_code_the_count_starts_again(app: TestApp) {
    let (_, secret, _) = admin_with_authenticator(&app).await;
    sign_out(&app, &app.client).await;
    // 29 wrong codes in three windows, then the right one: the day's count starts again.
    for count in [10, 10, 9] {
        wrong_codes(&app, &secret, count).await;
        app.clock.advance(QUARTER_HOUR);
    }
    assert_eq!(
        location(&signs_in_with_the_right_code(&app, &secret).await),
        "/"
    );
    sign_out(&app, &app.client).await;
    for _ in 0..3 {
        wrong_codes(&app, &secret, 10).await;
        app.clock.advance(QUARTER_HOUR);
    }
    assert_eq!(
        signs_in_with_the_right_code(&app, &secret)
            .await
            .status()
            .as_u16(),
        429,
        "30 new wrong codes: the day's limit again"
    );
    app.clock.advance(DAILY_LIMIT.window);
    assert_eq!(
        location(&signs_in_with_the_right_code(&app, &secret).await),
        "/",
        "a day later the right code signs in"
    );
}

async fn wrong_codes_given_at_once_across_the_limit_send_exactly_one_alert(app: TestApp) {
    let (_, secret, _) = admin_with_authenticator(&app).await;
    sign_out(&app, &app.client).await;
    wrong_codes(&app, &secret, 8).await;
    let wrong = wrong_code(&secret, &app);
    let (first, second, third) = tokio::join!(
        give_second_step(&app, &app.client, wrong, false, false),
        give_second_step(&app, &app.client, wrong, false, false),
        give_second_step(&app, &app.client, wrong, false, false),
    );
    let mut statuses = [first, second, third].map(|response| response.status().as_u16());
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [422, 422, 429],
        "the 9th and 10th are wrong, the 11th waits"
    );
    assert_eq!(
        alerts_to_ada(&app).await.len(),
        1,
        "the 10th alone tells Ada"
    );
}
