//! What binds a single sign-on to the person and the browser beyond `state` and the nonce: the
//! provider's `sub`, stored at first use and required afterwards, and the PKCE verifier, without
//! which the provider gives no tokens for its code. Against the real `oidc-provider`.

use crate::helpers::{TestApp, location, on_both_databases, set_cookie_value};
use crate::sso_helpers::{
    BobsCompany, bobs_company, callback_url_for_sign_in, refusals, sign_in_through_provider,
};

on_both_databases!(
    a_provider_account_other_than_the_one_first_linked_is_refused,
    a_code_exchanged_without_its_pkce_verifier_signs_nobody_in,
);

async fn a_provider_account_other_than_the_one_first_linked_is_refused(app: TestApp) {
    let Some(BobsCompany {
        provider: _provider,
        bob,
        ..
    }) = bobs_company(&app, 3600).await
    else {
        return;
    };
    // The first sign-in links Bob's account to the provider's `bob-sub`.
    let response = sign_in_through_provider(&app, &app.new_client(), "bob-sub").await;
    assert_eq!(location(&response), "/");
    let subject = "SELECT COALESCE(sso_subject, '-') FROM users WHERE id = $1";
    assert_eq!(
        app.text_value(subject, &bob).await.as_deref(),
        Some("bob-sub")
    );

    // Linked to another provider account (as if the provider had reassigned bob@example.com).
    app.execute(&format!(
        "UPDATE users SET sso_subject = 'bob-before' WHERE id = '{bob}'"
    ))
    .await;
    let response = sign_in_through_provider(&app, &app.new_client(), "bob-sub").await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(set_cookie_value(&response, "onestop_session").is_none());
    let page = response.text().await.unwrap();
    assert!(
        page.contains("does not match the one this 1Stop account was first linked to"),
        "{page}"
    );
    assert_eq!(refusals(&app).await, ["subject does not match"]);
    assert_eq!(
        app.text_value(subject, &bob).await.as_deref(),
        Some("bob-before"),
        "the link is not moved"
    );
}

async fn a_code_exchanged_without_its_pkce_verifier_signs_nobody_in(app: TestApp) {
    let Some(BobsCompany {
        provider: _provider,
        organization,
        ..
    }) = bobs_company(&app, 3600).await
    else {
        return;
    };
    let browser = app.new_client();
    let callback = callback_url_for_sign_in(&app, &browser, "bob-sub").await;
    // The verifier kept for this attempt is not the one its challenge was made from.
    let other_verifier = app
        .services
        .sealer
        .seal("a-verifier-that-is-not-the-challenges-one-0123456789abcdef")
        .unwrap();
    assert_eq!(
        app.execute(&format!(
            "UPDATE sso_attempts SET pkce_verifier_sealed = '{other_verifier}' WHERE org_id = '{}'",
            organization.org_id
        ))
        .await,
        1
    );
    let response = browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert!(set_cookie_value(&response, "onestop_session").is_none());
    let reasons = refusals(&app).await;
    assert_eq!(reasons.len(), 1);
    assert!(
        reasons[0].contains("the code exchange failed") && reasons[0].contains("invalid_grant"),
        "the provider refused the code: {reasons:?}"
    );

    // With its own verifier the same walk signs in.
    let response = sign_in_through_provider(&app, &app.new_client(), "bob-sub").await;
    assert_eq!(location(&response), "/");
}
