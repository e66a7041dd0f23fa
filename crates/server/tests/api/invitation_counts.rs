//! The per-minute invitation counts that the hourly caps read (`invitation_counts`, kept by
//! triggers since migration 0007): always what counting the invitations would say, whichever
//! path wrote them, and purged by the outbox worker once no cap can read them.

use crate::helpers::{TestApp, on_both_databases, wait_until};
use onestop_domain::UserId;
use onestop_server::store::{PageStart, ViewFilter};
use onestop_server::usecases::edit_user::{EditInput, edit_user};
use onestop_server::usecases::manage_users::reinvite_users;
use std::time::Duration;

on_both_databases!(
    invitation_counts_equal_a_fresh_count_after_every_kind_of_invitation,
    invitation_counts_older_than_two_hours_are_purged_by_the_worker,
);

/// Every `scope minute sent` row, as the triggers kept them.
const KEPT_COUNTS: &str = "SELECT scope || ' ' || CAST(minute AS TEXT) || ' ' || CAST(sent AS TEXT) \
       FROM invitation_counts ORDER BY 1";

/// The same rows, counted afresh from the invitations.
const FRESH_COUNTS: &str = "SELECT scope || ' ' || CAST(minute AS TEXT) || ' ' || CAST(COUNT(*) AS TEXT) \
       FROM (SELECT 'org:' || org_id AS scope, created_at / 60000 AS minute FROM invitations \
             UNION ALL \
             SELECT 'sender:' || sent_by, created_at / 60000 FROM invitations \
              WHERE sent_by IS NOT NULL) invited \
      GROUP BY scope, minute ORDER BY 1";

async fn kept_counts(app: &TestApp) -> Vec<String> {
    app.text_values(KEPT_COUNTS).await
}

async fn fresh_counts(app: &TestApp) -> Vec<String> {
    app.text_values(FRESH_COUNTS).await
}

/// Asserts that the counts in the database at `database_url` (written by another process, such
/// as `onestop org seed`) are what counting its invitations says, and that there are some.
pub async fn assert_counts_agree_in(database_url: &str) {
    use sqlx::Connection;
    let (kept, fresh): (Vec<String>, Vec<String>) = if database_url.starts_with("sqlite:") {
        let mut connection = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        (
            sqlx::query_scalar(KEPT_COUNTS)
                .fetch_all(&mut connection)
                .await
                .unwrap(),
            sqlx::query_scalar(FRESH_COUNTS)
                .fetch_all(&mut connection)
                .await
                .unwrap(),
        )
    } else {
        let mut connection = sqlx::PgConnection::connect(database_url).await.unwrap();
        (
            sqlx::query_scalar(KEPT_COUNTS)
                .fetch_all(&mut connection)
                .await
                .unwrap(),
            sqlx::query_scalar(FRESH_COUNTS)
                .fetch_all(&mut connection)
                .await
                .unwrap(),
        )
    };
    assert!(!kept.is_empty());
    assert_eq!(kept, fresh);
}

async fn invitation_counts_equal_a_fresh_count_after_every_kind_of_invitation(app: TestApp) {
    let organization = app.create_organization().await;
    // New User, five times.
    let admin = crate::helpers::invite_crew(&app, &organization, 5).await;
    assert_eq!(app.count("invitations").await, 5);
    assert_eq!(kept_counts(&app).await, fresh_counts(&app).await);
    let sender = format!("sender:{}", organization.admin_id);
    assert_eq!(
        app.number_value(
            "SELECT CAST(SUM(sent) AS BIGINT) FROM invitation_counts WHERE scope = $1",
            &sender
        )
        .await,
        5
    );

    // A bulk Reinvite of all of them, in a later minute: one statement inserts the five.
    app.clock.advance(Duration::from_secs(61));
    let unconfirmed = app
        .store
        .user_page(
            &organization.scope,
            ViewFilter::Unconfirmed,
            "",
            &PageStart::First,
            100,
        )
        .await
        .unwrap();
    let ids: Vec<String> = unconfirmed.into_iter().map(|row| row.id).collect();
    assert_eq!(ids.len(), 5);
    let outcome = reinvite_users(&app.services, &admin, &ids, "", None)
        .await
        .unwrap();
    assert_eq!(outcome.summary, "Invitation resent to 5 users.");
    assert_eq!(app.count("invitations").await, 10);
    assert_eq!(kept_counts(&app).await, fresh_counts(&app).await);

    // Edit User changing an Unconfirmed user's email sends a new invitation.
    app.clock.advance(Duration::from_secs(61));
    let user_id = UserId::parse(&ids[0]).unwrap();
    let target = app
        .store
        .bulk_targets(&organization.scope, std::slice::from_ref(&user_id))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let input = EditInput {
        first_name: target.first_name.clone().unwrap_or_default(),
        last_name: target.last_name.clone(),
        email: "moved@example.com".into(),
        profile_id: target.profile_id.to_string(),
        role_id: target.role_id.to_string(),
    };
    edit_user(&app.services, &admin, &user_id, &input, None)
        .await
        .unwrap();
    assert_eq!(app.count("invitations").await, 11);
    let kept = kept_counts(&app).await;
    assert_eq!(kept, fresh_counts(&app).await);
    // Three minutes, each counted for the organization and for the sender.
    assert_eq!(kept.len(), 6, "{kept:#?}");
}

async fn invitation_counts_older_than_two_hours_are_purged_by_the_worker(app: TestApp) {
    use onestop_server::usecases::invite_user::{InviteInput, invite_user};
    let organization = app.create_organization().await;
    let admin = crate::helpers::invite_crew(&app, &organization, 2).await;
    assert_eq!(
        app.count("invitation_counts").await,
        2,
        "organization and sender"
    );
    // Two hours and a minute later one more invitation: its rows are recent, the others old.
    app.clock.advance(Duration::from_secs(2 * 60 * 60 + 61));
    let first = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "crew0@example.com",
        )
        .await
        .unwrap();
    let first = app
        .store
        .bulk_targets(&organization.scope, &[UserId::parse(&first).unwrap()])
        .await
        .unwrap()
        .pop()
        .unwrap();
    let input = InviteInput {
        first_name: "Late".into(),
        last_name: "Arrival".into(),
        email: "late@example.com".into(),
        profile_id: first.profile_id.to_string(),
        role_id: first.role_id.to_string(),
        personal_message: String::new(),
    };
    invite_user(&app.services, &admin, &input, None)
        .await
        .unwrap();
    assert_eq!(app.count("invitation_counts").await, 4);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(app.worker.clone().run(stopped));
    wait_until(
        Duration::from_secs(10),
        Duration::from_millis(20),
        "the running worker purged the old invitation counts",
        || async { app.count("invitation_counts").await == 2 },
    )
    .await;
    stop.send(true).unwrap();
    worker.await.unwrap();
    // What is left is the last minute's, which the caps still read.
    let recent = app.store.purge_old_invitation_counts(app.now()).await;
    assert_eq!(recent.unwrap(), 0);
    assert_eq!(
        app.number_value(
            "SELECT CAST(SUM(sent) AS BIGINT) FROM invitation_counts WHERE scope = $1",
            &format!("org:{}", organization.org_id)
        )
        .await,
        1
    );
}
