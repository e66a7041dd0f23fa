//! Passkeys without a browser: what the ceremony options carry, ceremonies that expire and
//! finish once, and another user's passkey refused. (The ceremonies themselves, with Chromium's
//! virtual authenticator, are in tests/browser/passkeys.rs.)

use crate::helpers::{
    Backend, TestApp, csrf_token_in, on_both_backends, on_both_databases, spawn_app_on_localhost,
};
use onestop_domain::{OrganizationId, UserId};
use onestop_server::store::{MethodOwner, NewPasskey};
use onestop_server::usecases::passkeys::{
    CEREMONY_LIFETIME, PasskeyError, PasskeyHolder, begin_authentication, begin_registration,
    finish_authentication, finish_registration,
};
use std::time::Duration;

on_both_backends!(
    the_registration_options_name_the_public_urls_host_and_the_user,
    a_registration_ceremony_expires_after_five_minutes,
    a_ceremony_finishes_once_and_only_for_its_user,
    a_passkey_of_another_user_is_refused,
    a_refused_passkey_at_the_second_step_is_audited_and_leaves_the_session_pending,
    ceremonies_left_unanswered_are_purged_once_expired,
);

on_both_databases!(passkeys_are_refused_with_a_reason_when_the_public_url_is_an_ip_address);

/// A credential as webauthn-rs stores it, with `credential_id` (base64url) as its id. The key
/// is a real P-256 point; no test here gets as far as checking a signature with it.
fn stored_passkey_json(credential_id: &str) -> String {
    format!(
        r#"{{"cred":{{"cred_id":"{credential_id}","cred":{{"type_":"ES256","key":{{"EC_EC2":{{"curve":"SECP256R1","x":[194,126,127,109,252,23,131,21,252,6,223,99,44,254,140,27,230,17,94,5,133,28,104,41,144,69,171,149,161,26,200,243],"y":[143,123,183,156,24,178,21,248,117,159,162,69,171,52,188,252,26,59,6,47,103,92,19,58,117,103,249,0,219,8,95,196]}}}}}},"counter":0,"transports":null,"user_verified":true,"backup_eligible":false,"backup_state":false,"registration_policy":"required","extensions":{{}},"attestation":{{"data":"None","metadata":"None"}},"attestation_format":"none"}}}}"#
    )
}

async fn add_stored_passkey(app: &TestApp, org_id: &str, user_id: &str, credential_id: &str) {
    let org_id = OrganizationId::from_trusted(org_id.to_owned());
    let user_id = user_id_of(user_id);
    app.store
        .add_passkey(
            MethodOwner {
                org_id: &org_id,
                user_id: &user_id,
                ip: None,
                now: app.now(),
            },
            &NewPasskey {
                name: "Key",
                credential_id,
                passkey_json: &stored_passkey_json(credential_id),
            },
            None,
        )
        .await
        .expect("the passkey is stored");
}

/// The owner of the methods being changed, now.
fn owner<'a>(org_id: &'a OrganizationId, user_id: &'a UserId, app: &TestApp) -> MethodOwner<'a> {
    MethodOwner {
        org_id,
        user_id,
        ip: None,
        now: app.now(),
    }
}

fn holder(user_id: &UserId) -> PasskeyHolder<'_> {
    PasskeyHolder {
        user_id,
        account: "ada@example.com",
        display_name: "Ada Lovelace",
    }
}

fn user_id_of(id: &str) -> UserId {
    UserId::parse(id).expect("a user id")
}

async fn the_registration_options_name_the_public_urls_host_and_the_user(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let token = csrf_token_in(&app.get_text("/account").await);

    let response = app
        .post_form(
            "/account/two-step/passkeys/options",
            &[("csrf_token", &token), ("name", "Laptop")],
        )
        .await;

    assert_eq!(response.status().as_u16(), 200);
    let options: serde_json::Value = response.json().await.expect("JSON options");
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(options["publicKey"]["user"]["name"], "ada@example.com");
    assert_eq!(options["publicKey"]["user"]["displayName"], "Ada Lovelace");
    assert!(
        options["publicKey"]["challenge"]
            .as_str()
            .is_some_and(|challenge| challenge.len() >= 43),
        "a challenge of at least 256 bits: {options}"
    );
    let ceremony = options["ceremony"].as_str().expect("a ceremony id");
    let expires_at = app
        .number_value(
            "SELECT expires_at FROM webauthn_ceremonies WHERE id = $1 AND purpose = 'register'",
            ceremony,
        )
        .await;
    assert_eq!(
        expires_at,
        app.now().plus(CEREMONY_LIFETIME).unix_millis(),
        "the ceremony expires five minutes after it starts"
    );
}

async fn a_registration_ceremony_expires_after_five_minutes(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let ada = user_id_of(&organization.admin_id);
    let org_id = OrganizationId::from_trusted(organization.org_id.clone());
    let options = begin_registration(&app.services, holder(&ada))
        .await
        .expect("a ceremony starts");

    app.clock.advance(Duration::from_secs(5 * 60));
    let finished = finish_registration(
        &app.services,
        owner(&org_id, &ada, &app),
        &options.ceremony,
        "Laptop",
        "{}",
    )
    .await;

    assert!(
        matches!(finished, Err(PasskeyError::CeremonyExpired)),
        "{finished:?}"
    );
    assert_eq!(app.count("webauthn_ceremonies").await, 0);
    assert_eq!(app.count("two_step_methods").await, 0);
}

async fn a_ceremony_finishes_once_and_only_for_its_user(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let ada = user_id_of(&organization.admin_id);
    let sam = user_id_of(
        &app.add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Sam", "Smith"),
            "sam",
            crate::helpers::MEMBER_PASSWORD,
        )
        .await,
    );
    let org_id = OrganizationId::from_trusted(organization.org_id.clone());
    let options = begin_registration(&app.services, holder(&ada))
        .await
        .expect("a ceremony starts");

    // Sam cannot finish Ada's ceremony, and trying does not spend it.
    let by_sam = finish_registration(
        &app.services,
        owner(&org_id, &sam, &app),
        &options.ceremony,
        "Laptop",
        "{}",
    )
    .await;
    assert!(
        matches!(by_sam, Err(PasskeyError::CeremonyExpired)),
        "{by_sam:?}"
    );
    // Ada's malformed answer spends it...
    let first = finish_registration(
        &app.services,
        owner(&org_id, &ada, &app),
        &options.ceremony,
        "Laptop",
        "{}",
    )
    .await;
    assert!(
        matches!(first, Err(PasskeyError::MalformedAnswer)),
        "{first:?}"
    );
    // ...so that it cannot be answered again.
    let again = finish_registration(
        &app.services,
        owner(&org_id, &ada, &app),
        &options.ceremony,
        "Laptop",
        "{}",
    )
    .await;
    assert!(
        matches!(again, Err(PasskeyError::CeremonyExpired)),
        "{again:?}"
    );
    assert_eq!(app.count("two_step_methods").await, 0);
}

async fn a_passkey_of_another_user_is_refused(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let sam_id = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Sam", "Smith"),
            "sam",
            crate::helpers::MEMBER_PASSWORD,
        )
        .await;
    let adas_credential = "YWRhcyBwYXNza2V5";
    let sams_credential = "c2FtcyBwYXNza2V5";
    add_stored_passkey(
        &app,
        &organization.org_id,
        &organization.admin_id,
        adas_credential,
    )
    .await;
    add_stored_passkey(&app, &organization.org_id, &sam_id, sams_credential).await;
    let ada = user_id_of(&organization.admin_id);

    let options = begin_authentication(&app.services, &ada)
        .await
        .expect("a ceremony starts");
    let allowed: Vec<&str> = options.public_key["allowCredentials"]
        .as_array()
        .expect("allowCredentials")
        .iter()
        .filter_map(|credential| credential["id"].as_str())
        .collect();
    assert_eq!(allowed, [adas_credential], "only Ada's passkey is offered");

    let sams_answer = serde_json::json!({
        "id": sams_credential,
        "rawId": sams_credential,
        "type": "public-key",
        "response": {
            "authenticatorData": "AAAA",
            "clientDataJSON": "AAAA",
            "signature": "AAAA",
            "userHandle": null,
        },
        "extensions": {},
    })
    .to_string();
    let used = finish_authentication(&app.services, &ada, &options.ceremony, &sams_answer).await;

    assert!(matches!(used, Err(PasskeyError::NotYours)), "{used:?}");
    assert_eq!(
        app.number("SELECT COUNT(*) FROM two_step_methods WHERE last_used_at IS NOT NULL")
            .await,
        0,
        "no passkey counts as used"
    );
}

async fn passkeys_are_refused_with_a_reason_when_the_public_url_is_an_ip_address(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let token = csrf_token_in(&app.get_text("/account").await);

    let response = app
        .post_form(
            "/account/two-step/passkeys/options",
            &[("csrf_token", &token), ("name", "Laptop")],
        )
        .await;

    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.expect("a JSON refusal");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("ONESTOP_PUBLIC_URL"),
        "the refusal says what to set: {message}"
    );
    assert_eq!(app.count("webauthn_ceremonies").await, 0);
}

async fn a_refused_passkey_at_the_second_step_is_audited_and_leaves_the_session_pending(
    backend: Backend,
) {
    let Some(app) = spawn_app_on_localhost(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let sam_id = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Sam", "Smith"),
            "sam",
            crate::helpers::MEMBER_PASSWORD,
        )
        .await;
    let sams_credential = "c2FtcyBwYXNza2V5";
    add_stored_passkey(
        &app,
        &organization.org_id,
        &organization.admin_id,
        "YWRhcyBwYXNza2V5",
    )
    .await;
    add_stored_passkey(&app, &organization.org_id, &sam_id, sams_credential).await;
    let response = app.sign_in("ada", crate::helpers::ADMIN_PASSWORD).await;
    assert!(
        crate::helpers::location(&response).starts_with("/login/two-step"),
        "the password is followed by the second step"
    );
    let page = app.get_text("/login/two-step").await;
    assert!(page.contains("Use a passkey"), "{page}");
    let token = csrf_token_in(&page);
    let options: serde_json::Value = app
        .post_form("/login/two-step/passkey/options", &[("csrf_token", &token)])
        .await
        .json()
        .await
        .expect("JSON options");
    let ceremony = options["ceremony"].as_str().expect("a ceremony");
    assert_eq!(options["publicKey"]["rpId"], "localhost");

    let sams_answer = serde_json::json!({
        "id": sams_credential,
        "rawId": sams_credential,
        "type": "public-key",
        "response": {
            "authenticatorData": "AAAA",
            "clientDataJSON": "AAAA",
            "signature": "AAAA",
            "userHandle": null,
        },
        "extensions": {},
    })
    .to_string();
    let response = app
        .post_form(
            "/login/two-step",
            &[
                ("csrf_token", token.as_str()),
                ("ceremony", ceremony),
                ("credential", &sams_answer),
                ("next", "/"),
            ],
        )
        .await;

    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap_or_default();
    assert!(page.contains("This passkey is not one of yours."), "{page}");
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'second_step_failed' AND details = $1",
            "passkey"
        )
        .await,
        1
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM sessions WHERE second_step_pending = 1")
            .await,
        1,
        "the session still owes its second step"
    );
    assert_eq!(
        crate::helpers::location(&app.get("/").await),
        "/login/two-step",
        "nothing else opens"
    );
}

async fn ceremonies_left_unanswered_are_purged_once_expired(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let ada = user_id_of(&organization.admin_id);
    begin_registration(&app.services, holder(&ada))
        .await
        .expect("a ceremony starts");
    app.clock.advance(Duration::from_secs(60));
    begin_registration(&app.services, holder(&ada))
        .await
        .expect("another ceremony starts");

    // The first expires at 5 minutes, the second a minute later.
    app.clock
        .advance(CEREMONY_LIFETIME - Duration::from_secs(60));
    let purged = app
        .store
        .purge_expired_webauthn_ceremonies(app.now())
        .await
        .expect("the purge runs");

    assert_eq!(purged, 1);
    assert_eq!(app.count("webauthn_ceremonies").await, 1);
}
