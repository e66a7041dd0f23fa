//! Rows a user's two-step enrolment would write, put straight into the database, and the
//! count of them: for the administrators' tests, which do not depend on the enrolment pages;
//! and the small steps those tests share. Used by the API and browser test binaries.

use crate::helpers::{TestApp, location};

/// What only the database may hold: none of it may ever reach a page.
pub const SEALED_SECRET: &str = "sealed-totp-secret-4f9a";
pub const CREDENTIAL_ID: &str = "credential-id-7c21";
pub const PASSKEY_JSON: &str = "{\"cred\":\"passkey-public-key-9b3e\"}";

/// What an enrolment of `user_id` writes: an authenticator app "Phone", a passkey "YubiKey"
/// (used once), ten recovery codes of which two are used, a remembered browser and a WebAuthn
/// ceremony in flight.
pub async fn give_methods(app: &TestApp, org_id: &str, user_id: &str) {
    let now = app.now().unix_millis();
    let tag = &user_id[user_id.len() - 8..];
    app.execute(&format!(
        "INSERT INTO two_step_methods (id, org_id, user_id, kind, name, totp_secret_sealed, created_at) \
         VALUES ('totp-{tag}', '{org_id}', '{user_id}', 'totp', 'Phone', '{SEALED_SECRET}', {now})"
    ))
    .await;
    app.execute(&format!(
        "INSERT INTO two_step_methods (id, org_id, user_id, kind, name, credential_id, passkey_json, created_at, last_used_at) \
         VALUES ('passkey-{tag}', '{org_id}', '{user_id}', 'passkey', 'YubiKey', '{CREDENTIAL_ID}-{tag}', '{PASSKEY_JSON}', {now}, {now})"
    ))
    .await;
    for code in 0..10 {
        let used = if code < 2 {
            now.to_string()
        } else {
            "NULL".to_owned()
        };
        app.execute(&format!(
            "INSERT INTO recovery_codes (id, user_id, code_hash, created_at, used_at) \
             VALUES ('code-{tag}-{code}', '{user_id}', 'hash-{code}', {now}, {used})"
        ))
        .await;
    }
    app.execute(&format!(
        "INSERT INTO remembered_browsers (token_hash, user_id, created_at, expires_at) \
         VALUES ('browser-{tag}', '{user_id}', {now}, {})",
        now + 1_000_000
    ))
    .await;
    app.execute(&format!(
        "INSERT INTO webauthn_ceremonies (id, user_id, purpose, state_json, expires_at) \
         VALUES ('ceremony-{tag}', '{user_id}', 'register', '{{}}', {})",
        now + 1_000_000
    ))
    .await;
}

/// How many rows of the user's each two-step table holds: methods, recovery codes, remembered
/// browsers, ceremonies.
pub async fn two_step_rows(app: &TestApp, user_id: &str) -> [i64; 4] {
    let mut counts = [0; 4];
    for (count, table) in counts.iter_mut().zip([
        "two_step_methods",
        "recovery_codes",
        "remembered_browsers",
        "webauthn_ceremonies",
    ]) {
        *count = app
            .number_value(
                &format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1"),
                user_id,
            )
            .await;
    }
    counts
}

pub async fn signed_in_browser(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let browser = app.new_client();
    let response = app.sign_in_with(&browser, username, password).await;
    assert_eq!(response.status().as_u16(), 303, "{username} signs in");
    let home = location(&browser.get(app.url("/")).send().await.unwrap());
    if home == "/terms" {
        app.agree_with(&browser).await;
    }
    browser
}

/// Whether `browser` still has a session: `/` shows the homepage rather than redirecting.
pub async fn is_signed_in(app: &TestApp, browser: &reqwest::Client) -> bool {
    location(&browser.get(app.url("/")).send().await.unwrap()).is_empty()
}

/// Each event of `action` as "actor target details", oldest first.
pub async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    app.text_values(&format!(
        "SELECT COALESCE(actor_user_id, '') || ' ' || COALESCE(target_user_id, '') || ' ' || details \
           FROM audit_events WHERE action = '{action}' ORDER BY at, id"
    ))
    .await
}
