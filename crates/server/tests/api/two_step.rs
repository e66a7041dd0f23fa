//! Two-step verification: adding an authenticator app, the second step at sign-in (codes,
//! replays, clock skew, throttling), recovery codes, remembered browsers, and removing methods.

use crate::helpers::{ADMIN_PASSWORD, TestApp, csrf_token_in, location, on_both_databases};
use crate::two_step_helpers::{
    STEP, add_authenticator, admin_with_authenticator, audited, code_at, give_second_step, post,
    recovery_codes_in, require_two_step, secret_in, sign_out,
};
use std::time::Duration;

on_both_databases!(
    an_authenticator_app_is_saved_only_with_its_right_code_and_its_secret_is_sealed,
    sign_in_asks_for_the_second_step_and_the_right_code_signs_in_once,
    codes_of_the_step_before_and_after_are_accepted_and_two_steps_away_are_not,
    each_recovery_code_works_once_and_regenerating_replaces_them,
    remembering_a_browser_is_off_by_default_and_lasts_thirty_days_when_on,
    the_last_method_cannot_be_removed_while_the_profile_requires_one,
    methods_can_be_renamed_and_names_are_checked,
);

async fn an_authenticator_app_is_saved_only_with_its_right_code_and_its_secret_is_sealed(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let response = app.get("/account/two-step/authenticator").await;
    assert_eq!(
        response.headers().get("cache-control").unwrap(),
        "no-store",
        "a page with a secret is not kept"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("<svg"), "an inline QR code: {html}");
    let secret = secret_in(&html);
    let base32: String = secret.split_whitespace().collect();
    assert_eq!(base32.len(), 32, "160 bits in base32: {secret}");
    let wrong = if code_at(&secret, app.now()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let fields = |code: &str| {
        vec![
            ("csrf_token".to_owned(), csrf_token_in(&html)),
            (
                "secret".to_owned(),
                crate::helpers::hidden_field(&html, "secret"),
            ),
            ("next".to_owned(), String::new()),
            ("name".to_owned(), "Phone".to_owned()),
            ("code".to_owned(), code.to_owned()),
        ]
    };
    let send = |fields: Vec<(String, String)>| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            post(app, &app.client, "/account/two-step/authenticator", &fields).await
        }
    };
    let refused = send(fields(wrong)).await;
    assert_eq!(refused.status().as_u16(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("This code does not match."), "{page}");
    assert_eq!(secret_in(&page), secret, "the same secret is shown again");
    assert_eq!(app.count("two_step_methods").await, 0, "nothing is saved");

    let saved = send(fields(&code_at(&secret, app.now()))).await;
    assert_eq!(saved.status().as_u16(), 200);
    assert_eq!(saved.headers().get("cache-control").unwrap(), "no-store");
    let page = saved.text().await.unwrap();
    let codes = recovery_codes_in(&page);
    assert_eq!(codes.len(), 10, "ten recovery codes: {page}");
    assert!(
        page.contains("download=\"1stop-recovery-codes.txt\""),
        "{page}"
    );
    assert!(page.contains("data:text/plain;charset=utf-8,"), "{page}");
    let sealed = app
        .text_value(
            "SELECT totp_secret_sealed FROM two_step_methods WHERE user_id = $1",
            &organization.admin_id,
        )
        .await
        .expect("the method is saved");
    assert!(
        !sealed.contains(&base32),
        "the secret is not stored in clear"
    );
    assert_eq!(
        app.services.sealer.open(&sealed).unwrap(),
        base32,
        "the secret is sealed with the server's key"
    );
    let hashes = app
        .text_values(&format!(
            "SELECT code_hash FROM recovery_codes WHERE user_id = '{}'",
            organization.admin_id
        ))
        .await;
    assert_eq!(hashes.len(), 10);
    for code in &codes {
        assert!(
            !hashes
                .iter()
                .any(|hash| hash.contains(&code.replace('-', ""))),
            "codes are stored hashed"
        );
    }
    assert_eq!(audited(&app, "two_step_enrolled").await, 1);
    assert_eq!(audited(&app, "recovery_codes_generated").await, 1);
    let list = app.get_text("/account/two-step").await;
    assert!(
        list.contains("Phone")
            && list.contains("Authenticator app")
            && list.contains("10 of 10 recovery codes unused"),
        "{list}"
    );
}

async fn sign_in_asks_for_the_second_step_and_the_right_code_signs_in_once(app: TestApp) {
    let (organization, secret, _) = admin_with_authenticator(&app).await;
    sign_out(&app, &app.client).await;
    let signed_in_before = app
        .number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'signed_in' AND target_user_id = $1",
            &organization.admin_id,
        )
        .await;

    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(location(&response), "/login/two-step");
    let pending_cookie =
        crate::helpers::set_cookie_value(&response, "onestop_session").expect("a pending session");
    assert_eq!(
        location(&app.get("/").await),
        "/login/two-step",
        "a pending session is not signed in"
    );
    let page = app.get_text("/login/two-step").await;
    assert!(
        page.contains("Code from your authenticator app") && page.contains("Use a recovery code"),
        "{page}"
    );
    assert!(
        !page.contains("Remember this browser"),
        "off by default: {page}"
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'signed_in' AND target_user_id = $1",
            &organization.admin_id,
        )
        .await,
        signed_in_before,
        "the password alone does not record a sign-in"
    );

    let code = code_at(&secret, app.now());
    let response = give_second_step(&app, &app.client, &code, false, false).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/");
    let full_cookie =
        crate::helpers::set_cookie_value(&response, "onestop_session").expect("a new session");
    assert_ne!(full_cookie, pending_cookie, "a fresh session token");
    assert_eq!(app.get("/").await.status().as_u16(), 200, "signed in");
    assert_eq!(audited(&app, "second_step_succeeded").await, 1);
    // The pending session's cookie opens nothing any more.
    let stolen = app.new_client();
    let old = stolen
        .get(app.url("/login/two-step"))
        .header("cookie", format!("onestop_session={pending_cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&old), "/login", "the pending session is gone");
    let last_used = app
        .text_value(
            "SELECT CAST(last_used_at AS TEXT) FROM two_step_methods WHERE user_id = $1",
            &organization.admin_id,
        )
        .await;
    assert!(last_used.is_some(), "the method's last use is recorded");

    // The same code again, in the same step: refused.
    sign_out(&app, &app.client).await;
    assert_eq!(
        location(&app.sign_in("ada", ADMIN_PASSWORD).await),
        "/login/two-step"
    );
    let replay = give_second_step(&app, &app.client, &code, false, false).await;
    assert_eq!(replay.status().as_u16(), 422);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("or it was used already"),
        "a replayed code is refused"
    );
    assert_eq!(location(&app.get("/").await), "/login/two-step");
}

async fn codes_of_the_step_before_and_after_are_accepted_and_two_steps_away_are_not(app: TestApp) {
    let (_, secret, _) = admin_with_authenticator(&app).await;
    for offset in [-60_i64, 60] {
        sign_out(&app, &app.client).await;
        app.clock.advance(STEP * 4);
        app.sign_in("ada", ADMIN_PASSWORD).await;
        let at =
            onestop_domain::Timestamp::from_unix_millis(app.now().unix_millis() + offset * 1000);
        let response =
            give_second_step(&app, &app.client, &code_at(&secret, at), false, false).await;
        assert_eq!(
            response.status().as_u16(),
            422,
            "a code {offset} s away is refused"
        );
        let near =
            onestop_domain::Timestamp::from_unix_millis(app.now().unix_millis() + offset * 500);
        let response =
            give_second_step(&app, &app.client, &code_at(&secret, near), false, false).await;
        assert_eq!(
            location(&response),
            "/",
            "a code of the step {} is accepted",
            if offset < 0 { "before" } else { "after" }
        );
    }
}

async fn each_recovery_code_works_once_and_regenerating_replaces_them(app: TestApp) {
    let (organization, _, codes) = admin_with_authenticator(&app).await;
    sign_out(&app, &app.client).await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    // Upper case, spaces instead of dashes: the same code.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let response = give_second_step(&app, &app.client, &typed, true, false).await;
    assert_eq!(location(&response), "/", "a recovery code signs in");
    assert_eq!(audited(&app, "recovery_code_used").await, 1);
    let page = app.get_text("/account/two-step").await;
    assert!(page.contains("9 of 10 recovery codes unused"), "{page}");

    sign_out(&app, &app.client).await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let again = give_second_step(&app, &app.client, &codes[0], true, false).await;
    assert_eq!(again.status().as_u16(), 422, "a used code is refused");
    let response = give_second_step(&app, &app.client, &codes[1], true, false).await;
    assert_eq!(location(&response), "/");

    let page = app.get_text("/account/two-step").await;
    let response = post(
        &app,
        &app.client,
        "/account/two-step/recovery-codes",
        &[("csrf_token", &csrf_token_in(&page))],
    )
    .await;
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let fresh = recovery_codes_in(&response.text().await.unwrap());
    assert_eq!(fresh.len(), 10);
    assert!(
        app.get_text("/account/two-step")
            .await
            .contains("10 of 10 recovery codes unused")
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1",
            &organization.admin_id
        )
        .await,
        10,
        "the old codes are gone"
    );
    sign_out(&app, &app.client).await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let old = give_second_step(&app, &app.client, &codes[2], true, false).await;
    assert_eq!(old.status().as_u16(), 422, "an old code no longer works");
    let response = give_second_step(&app, &app.client, &fresh[0], true, false).await;
    assert_eq!(location(&response), "/", "a new code works");
}

async fn remembering_a_browser_is_off_by_default_and_lasts_thirty_days_when_on(app: TestApp) {
    let (organization, secret, _) = admin_with_authenticator(&app).await;
    sign_out(&app, &app.client).await;
    app.sign_in("ada", ADMIN_PASSWORD).await;
    assert!(
        !app.get_text("/login/two-step")
            .await
            .contains("Remember this browser")
    );
    // Asking anyway does nothing while the company does not allow it.
    let response =
        give_second_step(&app, &app.client, &code_at(&secret, app.now()), false, true).await;
    assert_eq!(location(&response), "/");
    assert!(crate::helpers::set_cookie_value(&response, "onestop_remembered").is_none());
    assert_eq!(app.count("remembered_browsers").await, 0);

    app.execute(&format!(
        "UPDATE organizations SET remember_two_step_browsers = 1 WHERE id = '{}'",
        organization.org_id
    ))
    .await;
    sign_out(&app, &app.client).await;
    app.clock.advance(STEP);
    app.sign_in("ada", ADMIN_PASSWORD).await;
    let page = app.get_text("/login/two-step").await;
    assert!(
        page.contains("Remember this browser for 30 days") && !page.contains(" checked"),
        "offered, unchecked: {page}"
    );
    let response =
        give_second_step(&app, &app.client, &code_at(&secret, app.now()), false, true).await;
    assert_eq!(location(&response), "/");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("onestop_remembered="))
        .expect("the browser is remembered")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(app.count("remembered_browsers").await, 1);

    sign_out(&app, &app.client).await;
    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(
        location(&response),
        "/",
        "a remembered browser skips the second step"
    );
    // Another browser is asked.
    let other = app.new_client();
    let response = app.sign_in_with(&other, "ada", ADMIN_PASSWORD).await;
    assert_eq!(location(&response), "/login/two-step");

    // The company turns the option off: every remembered browser is asked again at once.
    let option = |on: bool| {
        format!(
            "UPDATE organizations SET remember_two_step_browsers = {} WHERE id = '{}'",
            i32::from(on),
            organization.org_id
        )
    };
    app.execute(&option(false)).await;
    sign_out(&app, &app.client).await;
    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(
        location(&response),
        "/login/two-step",
        "the company no longer allows remembering"
    );
    app.execute(&option(true)).await;
    sign_out(&app, &app.client).await;
    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(location(&response), "/", "allowed again, still remembered");

    sign_out(&app, &app.client).await;
    app.clock.advance(Duration::from_secs(30 * 24 * 60 * 60));
    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(
        location(&response),
        "/login/two-step",
        "after 30 days the second step is asked again"
    );
}

async fn the_last_method_cannot_be_removed_while_the_profile_requires_one(app: TestApp) {
    let (organization, _, _) = admin_with_authenticator(&app).await;
    require_two_step(&app, &organization.org_id, "Administrator").await;
    let method = app
        .text_value(
            "SELECT id FROM two_step_methods WHERE user_id = $1",
            &organization.admin_id,
        )
        .await
        .unwrap();
    let page = app.get_text("/account/two-step").await;
    let remove = |token: String| {
        let app = &app;
        let method = method.clone();
        async move {
            post(
                app,
                &app.client,
                "/account/two-step/methods",
                &[
                    ("csrf_token", &token),
                    ("action", "remove"),
                    ("method_id", &method),
                ],
            )
            .await
        }
    };
    let refused = remove(csrf_token_in(&page)).await;
    assert_eq!(refused.status().as_u16(), 409);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains(
            "Your profile requires two-step verification, so your only method cannot be removed."
        ),
        "{text}"
    );
    assert_eq!(app.count("two_step_methods").await, 1);

    // A second app, then the first can go.
    app.clock.advance(STEP);
    let second = add_authenticator(
        &app,
        &app.client,
        "/account/two-step/authenticator",
        "Tablet",
    )
    .await;
    assert_eq!(
        location_or_status(&second),
        "/account/two-step?added=1",
        "no new codes for a second method"
    );
    let removed = remove(csrf_token_in(&page)).await;
    assert_eq!(location(&removed), "/account/two-step?removed=1");
    assert_eq!(app.count("two_step_methods").await, 1);
    assert_eq!(audited(&app, "two_step_removed").await, 1);

    // Not required any more: the last one can go too, with the recovery codes, and sign-in
    // asks for a password only.
    app.execute("UPDATE profiles SET require_two_step = 0")
        .await;
    let last = app
        .text_value(
            "SELECT id FROM two_step_methods WHERE user_id = $1",
            &organization.admin_id,
        )
        .await
        .unwrap();
    let response = post(
        &app,
        &app.client,
        "/account/two-step/methods",
        &[
            ("csrf_token", &csrf_token_in(&page)),
            ("action", "remove"),
            ("method_id", &last),
        ],
    )
    .await;
    assert_eq!(location(&response), "/account/two-step?removed=1");
    assert_eq!(app.count("recovery_codes").await, 0);
    sign_out(&app, &app.client).await;
    assert_eq!(location(&app.sign_in("ada", ADMIN_PASSWORD).await), "/");
}

fn location_or_status(enrolled: &crate::two_step_helpers::Enrolled) -> String {
    if enrolled.location.is_empty() {
        enrolled.status.to_string()
    } else {
        enrolled.location.clone()
    }
}

async fn methods_can_be_renamed_and_names_are_checked(app: TestApp) {
    let (organization, _, _) = admin_with_authenticator(&app).await;
    let method = app
        .text_value(
            "SELECT id FROM two_step_methods WHERE user_id = $1",
            &organization.admin_id,
        )
        .await
        .unwrap();
    let page = app.get_text("/account/two-step").await;
    let rename = |name: &'static str| {
        let app = &app;
        let method = method.clone();
        let token = csrf_token_in(&page);
        async move {
            post(
                app,
                &app.client,
                "/account/two-step/methods",
                &[
                    ("csrf_token", &token),
                    ("action", "rename"),
                    ("method_id", &method),
                    ("name", name),
                ],
            )
            .await
        }
    };
    let refused = rename("   ").await;
    assert_eq!(refused.status().as_u16(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Give it a name you will recognize")
    );
    let response = rename("Work phone").await;
    assert_eq!(location(&response), "/account/two-step?renamed=1");
    assert!(
        app.get_text("/account/two-step")
            .await
            .contains("Work phone")
    );
    // Another user's method, or none: not found.
    let response = post(
        &app,
        &app.client,
        "/account/two-step/methods",
        &[
            ("csrf_token", &csrf_token_in(&page)),
            ("action", "remove"),
            ("method_id", "0195a7c2-0000-7000-8000-000000000000"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 404);
}
