//! Single sign-on against a real OpenID Connect provider (`oidc-provider`, started by each
//! test): joining, signing in, and every refusal, on both databases.

use crate::helpers::{
    MEMBER_PASSWORD, TestApp, csrf_token_in, location, on_both_databases, set_cookie_value,
};
use crate::invitations::{invite_grace, open_join_link, submit_join};
use crate::sso_helpers::{
    Account, BobsCompany, PROVIDER_NAME, adds_bob, bobs_company, callback_url_for_sign_in,
    configure_sso, join_through_provider, refusals, save_sso_setup, set_clock_to_real_time,
    sign_in_through_provider, start_provider,
};
use onestop_domain::SecretToken;

on_both_databases!(
    an_invitee_joins_through_the_provider_and_signs_in_with_it_afterwards,
    joining_is_refused_when_the_providers_email_differs_or_is_not_verified,
    a_forged_state_is_refused_and_a_used_one_cannot_be_replayed,
    id_tokens_for_another_audience_or_with_a_wrong_signature_are_refused,
    an_id_token_that_expired_by_our_clock_is_refused,
    a_domain_with_only_single_sign_on_refuses_password_sign_in_reset_and_join,
    deactivated_and_unknown_users_are_refused_and_deactivation_ends_the_sso_session,
    setup_refuses_plain_http_issuers_and_ones_whose_discovery_fails,
    a_profile_requiring_two_step_verification_holds_up_password_sign_ins_but_not_the_providers,
    an_id_token_of_an_earlier_sign_in_is_refused_for_its_nonce,
    another_companys_sso_only_domain_locks_nobody_of_this_company_out,
    the_saved_client_secret_is_kept_only_for_the_same_issuer_and_client,
);

async fn an_invitee_joins_through_the_provider_and_signs_in_with_it_afterwards(app: TestApp) {
    set_clock_to_real_time(&app);
    let Some(provider) = start_provider(
        &app,
        &[Account {
            login: "grace-sub",
            email: "Grace@Example.com",
            email_verified: true,
        }],
        3600,
    ) else {
        return;
    };
    let (_organization, link) = invite_grace(&app).await;
    configure_sso(&app, &provider, false).await;

    let (browser, page) = open_join_link(&app, &link).await;
    let response = join_through_provider(&app, &browser, &page, "grace-sub").await;

    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/");
    assert!(set_cookie_value(&response, "onestop_session").is_some());
    let grace = "SELECT status || ' ' || COALESCE(sso_subject, '-') || ' ' || \
                 COALESCE(password_hash, 'no-password') || ' ' || username \
                 FROM users WHERE email_normalized = $1";
    assert_eq!(
        app.text_value(grace, "grace@example.com").await.as_deref(),
        Some("active grace-sub no-password grace")
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'sso_joined'")
            .await,
        1
    );
    // The usual flow goes on: the Terms, then the homepage.
    let home = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(location(&home), "/terms");
    assert_eq!(location(&app.agree_with(&browser).await), "/");

    let other_browser = app.new_client();
    let response = sign_in_through_provider(&app, &other_browser, "grace-sub").await;
    assert_eq!(location(&response), "/");
    let home = other_browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Welcome, <bdi>Grace</bdi>"), "{home}");
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'sso_signed_in'")
            .await,
        1
    );
}

async fn joining_is_refused_when_the_providers_email_differs_or_is_not_verified(app: TestApp) {
    set_clock_to_real_time(&app);
    let Some(provider) = start_provider(
        &app,
        &[
            Account {
                login: "someone-else",
                email: "someone@example.com",
                email_verified: true,
            },
            Account {
                login: "grace-unverified",
                email: "grace@example.com",
                email_verified: false,
            },
        ],
        3600,
    ) else {
        return;
    };
    let (_organization, link) = invite_grace(&app).await;
    configure_sso(&app, &provider, false).await;

    let (browser, page) = open_join_link(&app, &link).await;
    let response = join_through_provider(&app, &browser, &page, "someone-else").await;
    assert_eq!(response.status().as_u16(), 403);
    let refusal = response.text().await.unwrap();
    assert!(
        refusal.contains(
            "This invitation is for grace@example.com, but the provider signed you in as someone@example.com."
        ),
        "{refusal}"
    );

    // A fresh browser: the provider remembers who signed in to it in the first one.
    let (browser, page) = open_join_link(&app, &link).await;
    let response = join_through_provider(&app, &browser, &page, "grace-unverified").await;
    assert_eq!(response.status().as_u16(), 403);
    let refusal = response.text().await.unwrap();
    assert!(
        refusal.contains("did not share a verified email address"),
        "{refusal}"
    );

    assert_eq!(
        app.text_value(
            "SELECT status FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .as_deref(),
        Some("unconfirmed")
    );
    assert_eq!(
        refusals(&app).await,
        [
            "invitation for grace@example.com, provider email someone@example.com",
            "email not verified"
        ]
    );
}

async fn a_forged_state_is_refused_and_a_used_one_cannot_be_replayed(app: TestApp) {
    let Some(BobsCompany {
        provider: _provider,
        ..
    }) = bobs_company(&app, 3600).await
    else {
        return;
    };

    let browser = app.new_client();
    let callback = callback_url_for_sign_in(&app, &browser, "bob-sub").await;
    let mut forged = url::Url::parse(&callback).unwrap();
    let code = forged
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", SecretToken::generate().expose());
    let response = browser.get(forged.as_str()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This single sign-on is not valid, or was already used.")
    );

    let response = browser.get(&callback).send().await.unwrap();
    assert_eq!(location(&response), "/", "the real answer still signs in");

    let replayed = browser.get(&callback).send().await.unwrap();
    assert_eq!(replayed.status().as_u16(), 403);
    assert!(
        replayed
            .text()
            .await
            .unwrap()
            .contains("not valid, or was already used")
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'sso_signed_in'")
            .await,
        1
    );

    // The provider's answer opened in another browser (no binding cookie) is refused too, and
    // spoils nothing: the browser that started it still finishes it.
    let started_in = app.new_client();
    let callback = callback_url_for_sign_in(&app, &started_in, "bob-sub").await;
    for _ in 0..3 {
        let response = app.new_client().get(&callback).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403);
    }
    assert_eq!(
        refusals(&app).await,
        ["started in another browser"],
        "audited once, however often it is replayed"
    );
    let response = started_in.get(&callback).send().await.unwrap();
    assert_eq!(
        location(&response),
        "/",
        "the browser it was started in signs in"
    );
}

async fn id_tokens_for_another_audience_or_with_a_wrong_signature_are_refused(app: TestApp) {
    let Some(BobsCompany { provider, .. }) = bobs_company(&app, 3600).await else {
        return;
    };

    for mode in ["audience", "signature"] {
        provider.tamper(mode).await;
        let browser = app.new_client();
        let response = sign_in_through_provider(&app, &browser, "bob-sub").await;
        assert_eq!(response.status().as_u16(), 403, "{mode}");
        assert!(set_cookie_value(&response, "onestop_session").is_none());
        let page = response.text().await.unwrap();
        assert!(
            page.contains("The provider&#39;s answer could not be verified"),
            "{mode}: {page}"
        );
    }
    let reasons = refusals(&app).await;
    assert_eq!(reasons.len(), 2);
    assert!(
        reasons[0].to_lowercase().contains("audience"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].to_lowercase().contains("signature"),
        "{reasons:?}"
    );

    provider.tamper("none").await;
    let response = sign_in_through_provider(&app, &app.new_client(), "bob-sub").await;
    assert_eq!(
        location(&response),
        "/",
        "untampered, the same sign-in works"
    );
}

async fn an_id_token_that_expired_by_our_clock_is_refused(app: TestApp) {
    let Some(BobsCompany {
        provider: _provider,
        ..
    }) = bobs_company(&app, 60).await
    else {
        return;
    };

    let browser = app.new_client();
    let callback = callback_url_for_sign_in(&app, &browser, "bob-sub").await;
    // Within the ten minutes of the attempt, past the minute of the ID token.
    app.clock.advance(std::time::Duration::from_secs(5 * 60));
    let response = browser.get(&callback).send().await.unwrap();

    assert_eq!(response.status().as_u16(), 403);
    let reasons = refusals(&app).await;
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].to_lowercase().contains("expire"), "{reasons:?}");
}

async fn a_domain_with_only_single_sign_on_refuses_password_sign_in_reset_and_join(app: TestApp) {
    set_clock_to_real_time(&app);
    let Some(provider) = start_provider(&app, &[], 3600) else {
        return;
    };
    let (organization, link) = invite_grace(&app).await;
    adds_bob(&app, &organization.org_id).await;
    configure_sso(&app, &provider, true).await;

    let browser = app.new_client();
    let response = app.sign_in_with(&browser, "bob", MEMBER_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 403);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "Your company signs you in with {PROVIDER_NAME}, not with a password."
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("Sign in with {PROVIDER_NAME}")),
        "the refusal points to the button: {page}"
    );

    // No reset link is sent: there is no password to reset.
    crate::password_reset::ask_for_reset(&app, "bob").await;
    app.background_work_done().await;
    assert!(app.emails_to("bob@example.com").await.is_empty());

    let (browser, page) = open_join_link(&app, &link).await;
    let response = submit_join(
        &app,
        &browser,
        &page,
        "grace",
        "a long enough passphrase here",
    )
    .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(&format!("Your company signs you in with {PROVIDER_NAME}")),
        "{page}"
    );
    assert_eq!(
        app.text_value(
            "SELECT status FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .as_deref(),
        Some("unconfirmed")
    );
}

async fn deactivated_and_unknown_users_are_refused_and_deactivation_ends_the_sso_session(
    app: TestApp,
) {
    set_clock_to_real_time(&app);
    let Some(provider) = start_provider(
        &app,
        &[
            Account {
                login: "bob-sub",
                email: "bob@example.com",
                email_verified: true,
            },
            Account {
                login: "stranger",
                email: "stranger@example.com",
                email_verified: true,
            },
        ],
        3600,
    ) else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let bob = adds_bob(&app, &organization.org_id).await;
    configure_sso(&app, &provider, false).await;

    let response = sign_in_through_provider(&app, &app.new_client(), "stranger").await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response.text().await.unwrap().contains(
            "No active account of this company has the email address stranger@example.com."
        )
    );

    let browser = app.new_client();
    assert_eq!(
        location(&sign_in_through_provider(&app, &browser, "bob-sub").await),
        "/"
    );
    assert_eq!(location(&app.agree_with(&browser).await), "/");
    assert_eq!(
        app.text_value("SELECT sso_subject FROM users WHERE id = $1", &bob)
            .await
            .as_deref(),
        Some("bob-sub")
    );

    let page = app.get_text("/setup/users?view=active").await;
    let response = app
        .post_form(
            "/setup/users/bulk",
            &[
                ("csrf_token", &csrf_token_in(&page)),
                ("back", "view=active"),
                ("action", "deactivate"),
                ("confirmed", "1"),
                ("ids", &bob),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);

    let home = browser.get(app.url("/")).send().await.unwrap();
    assert!(
        location(&home).starts_with("/login"),
        "the SSO session ended: {}",
        location(&home)
    );
    let response = sign_in_through_provider(&app, &app.new_client(), "bob-sub").await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Your account (bob@example.com) is deactivated.")
    );
    assert_eq!(
        refusals(&app).await,
        [
            "unknown email stranger@example.com",
            "deactivated user bob@example.com"
        ]
    );
}

async fn setup_refuses_plain_http_issuers_and_ones_whose_discovery_fails(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;

    let page = app.get_text("/setup/sso").await;
    assert!(
        page.contains(&format!("{}/sso/callback", app.address)),
        "the redirect URI to register: {page}"
    );

    let response = save_sso_setup(&app, "http://idp.example.com", "example.com", false).await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("Use an https:// issuer URL"), "{page}");

    let closed = crate::helpers::free_port();
    let issuer = format!("http://127.0.0.1:{closed}");
    let response = save_sso_setup(&app, &issuer, "example.com", false).await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("The provider&#39;s discovery document could not be read from")
            || page.contains("The provider's discovery document could not be read from"),
        "{page}"
    );
    assert_eq!(app.count("sso_providers").await, 0);
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'sso_configured'")
            .await,
        0
    );
}

async fn a_profile_requiring_two_step_verification_holds_up_password_sign_ins_but_not_the_providers(
    app: TestApp,
) {
    let Some(BobsCompany {
        provider: _provider,
        ..
    }) = bobs_company(&app, 3600).await
    else {
        return;
    };
    app.execute("UPDATE profiles SET require_two_step = 1")
        .await;

    // The provider answers for the second factor of its sign-ins: no setup is owed.
    let through_provider = app.new_client();
    let response = sign_in_through_provider(&app, &through_provider, "bob-sub").await;
    assert_eq!(location(&response), "/");
    let home = through_provider.get(app.url("/")).send().await.unwrap();
    assert_ne!(
        home.headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .split('?')
            .next(),
        Some("/account/two-step/setup")
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM sessions WHERE single_sign_on = 1")
            .await,
        1
    );

    // A password sign-in of the same person owes the setup the profile requires.
    let with_password = app.new_client();
    app.sign_in_with(&with_password, "bob", MEMBER_PASSWORD)
        .await;
    let home = with_password.get(app.url("/")).send().await.unwrap();
    assert!(
        location(&home).starts_with("/account/two-step/setup"),
        "{}",
        location(&home)
    );
}

async fn an_id_token_of_an_earlier_sign_in_is_refused_for_its_nonce(app: TestApp) {
    let Some(BobsCompany { provider, .. }) = bobs_company(&app, 3600).await else {
        return;
    };
    // A genuine sign-in: the provider keeps its ID token.
    let first = sign_in_through_provider(&app, &app.new_client(), "bob-sub").await;
    assert_eq!(location(&first), "/");

    // The same genuine, unexpired, well-signed token replayed into a later sign-in.
    provider.tamper("replay").await;
    let browser = app.new_client();
    let response = sign_in_through_provider(&app, &browser, "bob-sub").await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(set_cookie_value(&response, "onestop_session").is_none());
    let reasons = refusals(&app).await;
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains("nonce"), "{reasons:?}");
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'sso_signed_in'")
            .await,
        1
    );
}

async fn another_companys_sso_only_domain_locks_nobody_of_this_company_out(app: TestApp) {
    set_clock_to_real_time(&app);
    let Some(provider) = start_provider(&app, &[], 3600) else {
        return;
    };
    // Company A covers example.com, single sign-on only.
    let first = app.create_organization().await;
    app.sign_in_as_admin(&first).await;
    configure_sso(&app, &provider, true).await;
    adds_bob(&app, &first.org_id).await;
    // Company B's people have example.com addresses too, and passwords.
    let second = app
        .create_organization_named("Other Installers", "olga", "olga@example.com")
        .await;
    app.add_active_user(
        &second.org_id,
        "standard",
        "manager",
        ("Carol", "Clark"),
        "carol",
        MEMBER_PASSWORD,
    )
    .await;

    let response = app
        .sign_in_with(&app.new_client(), "carol", MEMBER_PASSWORD)
        .await;
    assert_eq!(location(&response), "/", "company B's rule is its own");
    let response = app
        .sign_in_with(&app.new_client(), "bob", MEMBER_PASSWORD)
        .await;
    assert_eq!(response.status().as_u16(), 403, "company A's is refused");
    assert!(
        response.text().await.unwrap().contains(PROVIDER_NAME),
        "the refusal names the provider"
    );
}

async fn the_saved_client_secret_is_kept_only_for_the_same_issuer_and_client(app: TestApp) {
    set_clock_to_real_time(&app);
    let Some(provider) = start_provider(&app, &[], 3600) else {
        return;
    };
    let Some(other_provider) = start_provider(&app, &[], 3600) else {
        return;
    };
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    configure_sso(&app, &provider, false).await;
    let sealed = "SELECT client_secret_sealed FROM sso_providers";
    let before = app.text_values(sealed).await;

    let save = |issuer: String| {
        let app = &app;
        async move {
            let page = app.get_text("/setup/sso").await;
            let token = csrf_token_in(&page);
            app.post_form(
                "/setup/sso",
                &[
                    ("csrf_token", token.as_str()),
                    ("display_name", PROVIDER_NAME),
                    ("issuer_url", issuer.as_str()),
                    ("client_id", crate::sso_helpers::CLIENT_ID),
                    ("client_secret", ""),
                    ("domains", "example.com"),
                ],
            )
            .await
        }
    };
    // The same provider with the secret left empty: kept.
    let response = save(provider.issuer.clone()).await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Single sign-on saved.")
    );
    // Another issuer with the secret left empty: refused, nothing changed.
    let response = save(other_provider.issuer.clone()).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Enter the client secret again"),
    );
    assert_eq!(
        app.text_values("SELECT issuer_url FROM sso_providers")
            .await,
        [provider.issuer.as_str()]
    );
    assert_eq!(app.text_values(sealed).await, before);
}
