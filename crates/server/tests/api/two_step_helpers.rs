//! Helpers of the two-step verification tests: an authenticator app computed with totp-rs from
//! the secret a page shows, and the steps a person takes.

use crate::helpers::{Organization, TestApp, csrf_token_in, hidden_field, location};
use onestop_domain::Timestamp;
use std::time::Duration;

/// One TOTP step.
pub const STEP: Duration = Duration::from_secs(30);

/// The code an authenticator app shows at `at` for the secret a page showed (grouped or not).
pub fn code_at(secret: &str, at: Timestamp) -> String {
    let base32: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = totp_rs::Secret::try_from_base32(&base32)
        .expect("the page shows a base32 secret")
        .as_bytes()
        .to_vec();
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(bytes)
        .build_noncompliant();
    totp.generate(u64::try_from(at.unix_millis() / 1000).unwrap())
        .to_string()
}

/// The secret shown for typing in by hand.
pub fn secret_in(html: &str) -> String {
    let marker = "id=\"totp-secret\">";
    let start = html.find(marker).expect("the page shows the secret") + marker.len();
    html[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The recovery codes a page shows.
pub fn recovery_codes_in(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .filter_map(|rest| rest.split("</code>").next())
        .map(str::to_owned)
        .collect()
}

/// What adding an authenticator app gave.
pub struct Enrolled {
    pub secret: String,
    /// Shown after the first method only.
    pub recovery_codes: Vec<String>,
    /// The answer's status and Location.
    pub status: u16,
    pub location: String,
}

/// Opens `page` (the add page or the setup page) in `browser`, scans the secret, types the
/// code of now and saves it as `name`.
pub async fn add_authenticator(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &str,
    name: &str,
) -> Enrolled {
    let html = get_text(app, browser, page).await;
    let secret = secret_in(&html);
    let code = code_at(&secret, app.now());
    let response = post(
        app,
        browser,
        "/account/two-step/authenticator",
        &[
            ("csrf_token", &csrf_token_in(&html)),
            ("secret", &hidden_field(&html, "secret")),
            ("next", &hidden_field(&html, "next")),
            ("name", name),
            ("code", &code),
        ],
    )
    .await;
    let status = response.status().as_u16();
    let location = location(&response);
    let body = response.text().await.unwrap();
    Enrolled {
        secret,
        recovery_codes: recovery_codes_in(&body),
        status,
        location,
    }
}

pub async fn get_text(app: &TestApp, browser: &reqwest::Client, path: &str) -> String {
    browser
        .get(app.url(path))
        .send()
        .await
        .expect("GET is answered")
        .text()
        .await
        .expect("a body")
}

/// POSTs a form as a same-origin browser would.
pub async fn post(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(app.url(path))
        .header(reqwest::header::ORIGIN, &app.address)
        .form(fields)
        .send()
        .await
        .expect("POST is answered")
}

/// Sends the second step's form with an authenticator code (or, with `recovery`, a recovery
/// code).
pub async fn give_second_step(
    app: &TestApp,
    browser: &reqwest::Client,
    code: &str,
    recovery: bool,
    remember: bool,
) -> reqwest::Response {
    let page = get_text(app, browser, "/login/two-step").await;
    let token = csrf_token_in(&page);
    let field = if recovery { "recovery_code" } else { "code" };
    let mut fields = vec![("csrf_token", token.as_str()), (field, code), ("next", "/")];
    if remember {
        fields.push(("remember_browser", "1"));
    }
    post(app, browser, "/login/two-step", &fields).await
}

/// Makes the profile named `profile` of the organization require two-step verification (what
/// Setup > Profiles will do).
pub async fn require_two_step(app: &TestApp, org_id: &str, profile: &str) {
    let id = app.profile_id(org_id, profile).await;
    app.execute(&format!(
        "UPDATE profiles SET require_two_step = 1 WHERE id = '{id}'"
    ))
    .await;
}

/// How many audit rows of `action` there are.
pub async fn audited(app: &TestApp, action: &str) -> i64 {
    app.number_value(
        "SELECT COUNT(*) FROM audit_events WHERE action = $1",
        action,
    )
    .await
}

/// The administrator signed in (Terms accepted) with an authenticator app added; returns its
/// secret and recovery codes, with the clock moved past the step the app was confirmed in.
pub async fn admin_with_authenticator(app: &TestApp) -> (Organization, String, Vec<String>) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let enrolled =
        add_authenticator(app, &app.client, "/account/two-step/authenticator", "Phone").await;
    assert_eq!(enrolled.status, 200, "the recovery codes are shown");
    app.clock.advance(STEP);
    (organization, enrolled.secret, enrolled.recovery_codes)
}

/// Signs `browser` out, from the second step's page or from My Account.
pub async fn sign_out(app: &TestApp, browser: &reqwest::Client) {
    let page = get_text(app, browser, "/login/two-step").await;
    let page = if page.contains("csrf_token") {
        page
    } else {
        get_text(app, browser, "/account").await
    };
    let response = post(
        app,
        browser,
        "/logout",
        &[("csrf_token", &csrf_token_in(&page))],
    )
    .await;
    assert_eq!(location(&response), "/login?signed_out=1");
}
