//! Two first methods added at once (two tabs of My Account): only one of them makes recovery
//! codes, and the codes shown are the ones that work.

use crate::helpers::{TestApp, on_both_databases};
use crate::two_step_helpers::{Enrolled, add_authenticator};
use onestop_domain::{OrganizationId, UserId};
use onestop_server::store::{MethodOwner, NewTotpMethod};
use onestop_server::usecases::two_step::recovery_codes;

on_both_databases!(
    two_first_methods_added_at_once_show_only_the_codes_that_work,
    the_store_keeps_the_codes_given_with_the_first_method_only,
);

async fn two_first_methods_added_at_once_show_only_the_codes_that_work(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let page = "/account/two-step/authenticator";
    let (phone, tablet): (Enrolled, Enrolled) = tokio::join!(
        add_authenticator(&app, &app.client, page, "Phone"),
        add_authenticator(&app, &app.client, page, "Tablet"),
    );
    // The first saved shows its codes; the other goes back to the list of methods.
    let mut statuses = [phone.status, tablet.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 303], "both are saved, one page shows codes");
    assert_eq!(app.number("SELECT COUNT(*) FROM two_step_methods").await, 2);

    let shown: Vec<&Vec<String>> = [&phone.recovery_codes, &tablet.recovery_codes]
        .into_iter()
        .filter(|codes| !codes.is_empty())
        .collect();
    assert_eq!(shown.len(), 1, "one page shows recovery codes, not both");
    let mut shown_hashes: Vec<String> = shown[0]
        .iter()
        .map(|code| recovery_codes::hash(&recovery_codes::normalize(code).unwrap()))
        .collect();
    shown_hashes.sort();
    let stored = app
        .text_values(
            "SELECT code_hash FROM recovery_codes WHERE used_at IS NULL ORDER BY code_hash",
        )
        .await;
    assert_eq!(stored.len(), 10);
    assert_eq!(stored, shown_hashes, "the codes shown are the ones stored");
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'recovery_codes_generated'")
            .await,
        1
    );
}

/// The pages' race depends on timing; the store's decision does not: whatever the use case
/// believed, only the codes given with the first method are kept.
async fn the_store_keeps_the_codes_given_with_the_first_method_only(app: TestApp) {
    let organization = app.create_organization().await;
    let org_id = OrganizationId::from_trusted(organization.org_id.clone());
    let user_id = UserId::from_trusted(organization.admin_id.clone());
    let add = |name: &'static str, hashes: Vec<String>| {
        let (org_id, user_id, app) = (&org_id, &user_id, &app);
        async move {
            app.store
                .add_totp_method(
                    MethodOwner {
                        org_id,
                        user_id,
                        ip: None,
                        now: app.now(),
                    },
                    &NewTotpMethod {
                        name,
                        sealed_secret: "sealed",
                        confirmed_step: 1,
                    },
                    Some(&hashes),
                )
                .await
                .unwrap()
        }
    };
    let hashes =
        |prefix: &str| -> Vec<String> { (0..10).map(|n| format!("{prefix}-{n}")).collect() };

    assert!(add("Phone", hashes("first")).await.recovery_codes_stored);
    assert!(!add("Tablet", hashes("second")).await.recovery_codes_stored);
    let stored = app
        .text_values("SELECT code_hash FROM recovery_codes ORDER BY code_hash")
        .await;
    assert_eq!(stored, hashes("first"), "the first method's codes stay");
}
