//! The outbox worker against SMTP servers that fail, and the `.eml` default.

use crate::helpers::{Backend, TestApp, location, spawn_app_with_mail};
use crate::invitations::{invite_grace, save_new_user};
use crate::smtp::{Fault, RealSmtpServer, scripted_smtp_server};
use std::time::Duration;

async fn app_with_smtp(backend: Backend, url: String) -> Option<TestApp> {
    spawn_app_with_mail(backend, None, Some(url)).await
}

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Backend) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    test(Backend::Sqlite).await;
    test(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_smtp_failure_is_retried_later_with_the_reason_recorded() {
    each_backend(|backend| async move {
        let port = scripted_smtp_server(Fault::Transient).await;
        let Some(app) = app_with_smtp(backend, format!("smtp://127.0.0.1:{port}")).await else {
            return;
        };
        invite_grace(&app).await;
        assert_eq!(app.deliver_emails().await, 1);
        let email = &app.emails_to("grace@example.com").await[0];
        assert_eq!(email.state, "retrying");
        assert_eq!(email.attempts, 1);
        assert!(
            email
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("451"),
            "{:?}",
            email.last_error
        );
        assert!(
            email.action_url.is_some(),
            "nothing is wiped until it is sent"
        );
        let users = app.get_text("/setup/users?view=unconfirmed").await;
        assert!(
            users.contains("Retrying: "),
            "the Users page shows the delivery state: {users}"
        );
        assert_eq!(app.deliver_emails().await, 0, "not due again yet");
        app.clock.advance(Duration::from_secs(37));
        assert_eq!(app.deliver_emails().await, 1, "due after the backoff");
        assert_eq!(app.emails_to("grace@example.com").await[0].attempts, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_smtp_failure_is_marked_failed_at_once() {
    each_backend(|backend| async move {
        let port = scripted_smtp_server(Fault::Permanent).await;
        let Some(app) = app_with_smtp(backend, format!("smtp://127.0.0.1:{port}")).await else {
            return;
        };
        let (organization, _) = invite_grace(&app).await;
        app.deliver_emails().await;
        let email = &app.emails_to("grace@example.com").await[0];
        assert_eq!(email.state, "failed");
        assert!(
            email.body_text.is_empty() && email.body_html.is_empty() && email.action_url.is_none(),
            "the live link is wiped from a failed message too"
        );
        assert!(
            email
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("No such user"),
            "{:?}",
            email.last_error
        );
        let users = app.get_text("/setup/users?view=unconfirmed").await;
        assert!(users.contains("Could not be delivered: "), "{users}");
        let home = app.get_text("/").await;
        assert!(
            home.contains("Failed deliveries")
                && home.contains("<bdi>Grace Hopper</bdi>: ")
                && home.contains("No such user"),
            "{home}"
        );
        app.clock.advance(Duration::from_secs(24 * 60 * 60));
        assert_eq!(app.deliver_emails().await, 0, "never retried");
        assert!(
            app.store
                .audit_actions(&organization.scope)
                .await
                .unwrap()
                .contains(&"invitation_failed".to_owned())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_after_data_is_retried() {
    each_backend(|backend| async move {
        let port = scripted_smtp_server(Fault::DropAfterData).await;
        let Some(app) = app_with_smtp(backend, format!("smtp://127.0.0.1:{port}")).await else {
            return;
        };
        invite_grace(&app).await;
        app.deliver_emails().await;
        let email = &app.emails_to("grace@example.com").await[0];
        assert_eq!(email.state, "retrying", "{:?}", email.last_error);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_smtp_is_down_the_user_is_created_and_exactly_one_email_arrives_once_it_is_back() {
    each_backend(|backend| async move {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let Some(app) = app_with_smtp(backend, format!("smtp://127.0.0.1:{port}")).await else {
            return;
        };
        let organization = app.create_organization().await;
        app.sign_in_as_admin(&organization).await;
        let response = save_new_user(
            &app,
            "Grace",
            "Hopper",
            "grace@example.com",
            "Standard",
            "Manager",
        )
        .await;
        assert_eq!(
            response.status().as_u16(),
            303,
            "saving does not wait for email"
        );
        assert!(
            app.get_text(&location(&response))
                .await
                .contains("Invitation sent to grace@example.com.")
        );
        app.deliver_emails().await;
        assert_eq!(
            app.emails_to("grace@example.com").await[0].state,
            "retrying"
        );

        let Some(smtp) = RealSmtpServer::start_on(port).await else {
            return;
        };
        app.clock.advance(Duration::from_secs(60));
        app.deliver_emails().await;
        app.clock.advance(Duration::from_secs(60 * 60 * 2));
        app.deliver_emails().await;
        let messages = smtp.wait_for(1).await;
        assert_eq!(messages.len(), 1, "exactly one email");
        assert_eq!(app.emails_to("grace@example.com").await[0].state, "sent");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_the_email_is_written_as_an_eml_file() {
    let app = spawn_app_with_mail(Backend::Sqlite, None, None)
        .await
        .unwrap();
    let (_, link) = invite_grace(&app).await;
    assert_eq!(app.deliver_emails().await, 1);
    let directory = app.data_dir.path().join("mail");
    let files: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0]
            .extension()
            .and_then(|extension| extension.to_str()),
        Some("eml")
    );
    let raw = std::fs::read(&files[0]).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        message.subject(),
        Some("You are invited to join 1Stop Install's 1Stop Install account.")
    );
    assert!(message.body_text(0).unwrap().contains(&link));
    assert_eq!(app.emails_to("grace@example.com").await[0].state, "sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_keep_every_message_queued_and_readyz_says_mail_is_degraded() {
    each_backend(|backend| async move {
        let port = scripted_smtp_server(Fault::AuthenticationFails).await;
        let Some(app) = app_with_smtp(
            backend,
            format!("smtp://mailer:wrong-password@127.0.0.1:{port}"),
        )
        .await
        else {
            return;
        };
        invite_grace(&app).await;
        for _ in 0..12 {
            app.deliver_emails().await;
            app.clock.advance(Duration::from_secs(60 * 60));
        }
        let email = &app.emails_to("grace@example.com").await[0];
        assert_eq!(
            email.state, "retrying",
            "never given up on: {:?}",
            email.last_error
        );
        assert!(
            email
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("refused our credentials")
        );
        assert!(email.action_url.is_some(), "still waiting to be sent");
        // The session of the morning has expired: this is an anonymous probe, which learns that
        // mail is degraded but not the mail server's words.
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status().as_u16(), 200, "pages still work");
        let body = ready.text().await.unwrap();
        assert_eq!(body, "ready; mail degraded");
        // A signed-in operator (View Setup) sees why.
        app.sign_in("ada", crate::helpers::ADMIN_PASSWORD).await;
        let body = app.get_text("/readyz").await;
        assert!(
            body.starts_with("ready; mail degraded: the SMTP server refused our credentials"),
            "{body}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_dies_mid_send_loses_nothing_once_its_lease_runs_out() {
    each_backend(|backend| async move {
        let Some(app) = spawn_app_with_mail(backend, None, None).await else {
            return;
        };
        invite_grace(&app).await;
        // A worker claims the message and dies before marking it.
        let claimed = app
            .store
            .claim_due_emails(app.now(), Duration::from_secs(120), 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(app.deliver_emails().await, 0, "leased to the dead worker");
        app.clock.advance(Duration::from_secs(121));
        assert_eq!(
            app.deliver_emails().await,
            1,
            "taken over once the lease ran out"
        );
        assert_eq!(app.emails_to("grace@example.com").await[0].state, "sent");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_draining_one_outbox_send_each_message_once() {
    each_backend(|backend| async move {
        let Some(smtp) = RealSmtpServer::start().await else {
            return;
        };
        let Some(app) = app_with_smtp(backend, smtp.url()).await else {
            return;
        };
        let organization = app.create_organization().await;
        crate::helpers::invite_crew(&app, &organization, 150).await;
        let worker = || {
            let worker = app.worker.clone();
            async move {
                let mut tried = 0;
                loop {
                    let count = worker.deliver_due().await.unwrap();
                    if count == 0 {
                        return tried;
                    }
                    tried += count;
                }
            }
        };
        let (first, second, third) = futures::join!(worker(), worker(), worker());
        assert_eq!(
            first + second + third,
            150,
            "every message claimed exactly once"
        );
        let received = smtp.wait_for(150).await;
        let recipients: std::collections::HashSet<String> =
            received.iter().map(|email| email.to.clone()).collect();
        assert_eq!(received.len(), 150, "no duplicates");
        assert_eq!(recipients.len(), 150);
    })
    .await;
}
