//! The outbox worker against SMTP servers that fail, and the `.eml` default.

use crate::helpers::{
    Backend, MAIL_FROM, Scope, Snapshot, TestApp, assert_unchanged, location, on_both_backends,
    on_both_databases, spawn_app_with_mail,
};
use crate::invitations::{
    GRACE_PASSWORD, invite_grace, open_join_link, save_new_user, submit_join,
};
use crate::smtp::{
    Fault, RealSmtpServer, ScriptedSmtpServer, StallingSmtpServer, scripted_smtp_server,
};
use onestop_server::mail::transport::PARALLEL_SENDS;
use onestop_server::mail::{Mailer, OutboxWorker};
use onestop_server::store::{OutboxStatus, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

on_both_backends!(
    when_smtp_is_down_the_invitation_is_saved_and_queued_and_exactly_one_email_arrives_once_it_is_back,
    an_smtp_server_that_stops_answering_times_out_and_is_retried_with_backoff,
    a_connection_dropped_after_data_is_retried_and_both_copies_links_open_the_join_form,
    three_worker_processes_drain_a_thousand_messages_and_send_each_exactly_once,
    a_worker_whose_claim_was_taken_over_mid_batch_skips_that_message,
    several_hundred_queued_messages_each_arrive_exactly_once_and_are_all_marked_sent,
);

/// What New User's page says once the invitation is saved: the email is only queued then.
const QUEUED_NOTICE: &str = "Invitation sent to grace@example.com. The email is queued and goes out as soon as the mail server accepts it.";

/// The message is `retrying` after `attempts` attempts, its reason contains `reason`, and its next
/// attempt is `base` (30 s, doubled for each attempt before) from `now`, give or take the fifth of
/// jitter.
fn assert_retrying_with_backoff(
    email: &OutboxStatus,
    attempts: i64,
    reason: &str,
    now: onestop_domain::Timestamp,
) {
    assert_eq!(email.state, "retrying", "{:?}", email.last_error);
    assert_eq!(email.attempts, attempts);
    let recorded = email.last_error.as_deref().unwrap_or_default();
    assert!(
        recorded.contains(reason),
        "the reason is recorded: {recorded:?} should contain {reason:?}"
    );
    let base = 30_000 * 2i64.pow(u32::try_from(attempts - 1).unwrap());
    let wait = email.next_attempt_at - now.unix_millis();
    assert!(
        (base * 4 / 5..=base * 6 / 5).contains(&wait),
        "attempt {attempts}: the next one in {wait} ms, not within a fifth of {base} ms"
    );
}

on_both_databases!(a_failure_between_the_user_insert_and_the_outbox_insert_leaves_nothing);

/// Makes every insert into the outbox fail inside the database, after New User has inserted the
/// user and the invitation in the same transaction.
async fn break_the_outbox(app: &TestApp) {
    match &app.store {
        Store::Sqlite(_) => {
            app.execute(
                "CREATE TRIGGER outbox_breaks BEFORE INSERT ON outbox \
                 BEGIN SELECT RAISE(ABORT, 'boom'); END",
            )
            .await;
        }
        Store::Postgres(_) => {
            app.execute(
                "CREATE FUNCTION outbox_breaks() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'boom'; END $$",
            )
            .await;
            app.execute(
                "CREATE TRIGGER outbox_breaks BEFORE INSERT ON outbox \
                 FOR EACH ROW EXECUTE FUNCTION outbox_breaks()",
            )
            .await;
        }
    }
}

async fn repair_the_outbox(app: &TestApp) {
    match &app.store {
        Store::Sqlite(_) => app.execute("DROP TRIGGER outbox_breaks").await,
        Store::Postgres(_) => app.execute("DROP TRIGGER outbox_breaks ON outbox").await,
    };
}

/// New User writes the user, the invitation, the email and the audit events in one transaction:
/// when the outbox insert fails, the administrator gets an error page that names no internals,
/// and not one row anywhere has changed. Once the outbox works again, the same Save works.
async fn a_failure_between_the_user_insert_and_the_outbox_insert_leaves_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    break_the_outbox(&app).await;
    let snapshot = Snapshot::plan(&app, Scope::Everything).await;
    let before = snapshot.take(&app).await;

    let response = save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 500);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Something went wrong")
            && page.contains("We could not complete this request. Please try again in a moment."),
        "{page}"
    );
    for internal in [
        "boom",
        "outbox",
        "INSERT",
        "insert",
        "SQL",
        "sql",
        "trigger",
        "database",
        "Database",
        "error returned",
        "constraint",
    ] {
        assert!(
            !page.contains(internal),
            "the page names {internal:?}: {page}"
        );
    }
    assert_unchanged(
        &before,
        &snapshot.take(&app).await,
        "a New User whose outbox insert failed",
    );
    for table in ["users", "invitations", "outbox"] {
        assert_eq!(
            app.number_value(
                &format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"),
                &organization.org_id
            )
            .await,
            if table == "users" { 1 } else { 0 },
            "{table}"
        );
    }

    repair_the_outbox(&app).await;
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
        "nothing was left half-made"
    );
    assert_eq!(app.emails_to("grace@example.com").await.len(), 1);
}

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
        assert_retrying_with_backoff(email, 1, "451", app.now());
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
        // The second wait is twice the first.
        assert_retrying_with_backoff(
            &app.emails_to("grace@example.com").await[0],
            2,
            "451",
            app.now(),
        );
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

/// The mail server is down while an administrator invites Grace: the user is saved (Unconfirmed,
/// no password) with her invitation, the page says the email is queued, and once the server is
/// back exactly one email arrives: a further pass, long after, sends nothing more.
async fn when_smtp_is_down_the_invitation_is_saved_and_queued_and_exactly_one_email_arrives_once_it_is_back(
    backend: Backend,
) {
    let closed = crate::helpers::ClosedPort::reserve();
    let url = format!("smtp://127.0.0.1:{}", closed.port());
    let Some(app) = app_with_smtp(backend, url).await else {
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
    let page = app.get_text(&location(&response)).await;
    assert!(page.contains(QUEUED_NOTICE), "{page}");
    assert!(
        !page.contains("Email: Sent"),
        "nothing claims the email went out"
    );

    // The rows: an Unconfirmed user without a password, a live invitation, a queued email.
    let user_id = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .expect("the user is saved");
    assert_eq!(
        app.text_value("SELECT status FROM users WHERE id = $1", &user_id)
            .await
            .as_deref(),
        Some("unconfirmed")
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM users WHERE id = $1 AND password_hash IS NULL",
            &user_id
        )
        .await,
        1
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM invitations WHERE user_id = $1 AND consumed_at IS NULL",
            &user_id
        )
        .await,
        1
    );
    let queued = app.emails_to("grace@example.com").await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].state, "queued");
    let link = queued[0].action_url.clone().expect("the link is queued");

    // The worker tries while the server is down: refused, kept for later.
    assert_eq!(app.deliver_emails().await, 1);
    let email = &app.emails_to("grace@example.com").await[0];
    assert_retrying_with_backoff(email, 1, "onnection", app.now());
    assert!(email.action_url.is_some(), "nothing is wiped");
    let users = app.get_text("/setup/users?view=unconfirmed").await;
    assert!(users.contains("Email: Retrying: "), "{users}");

    let Some(smtp) = RealSmtpServer::start_on(closed.open()).await else {
        return;
    };
    assert_eq!(app.deliver_emails().await, 0, "not before its backoff");
    app.clock.advance(Duration::from_secs(37));
    assert_eq!(app.deliver_emails().await, 1);
    let received = smtp.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, "grace@example.com");
    assert_eq!(received[0].join_link(), link);
    let email = &app.emails_to("grace@example.com").await[0];
    assert_eq!((email.state.as_str(), email.attempts), ("sent", 2));
    let users = app.get_text("/setup/users?view=unconfirmed").await;
    assert!(users.contains("Email: Sent"), "{users}");

    // Long after (past every backoff and lease), another pass sends nothing more.
    app.clock.advance(Duration::from_secs(3 * 60 * 60));
    assert_eq!(app.deliver_emails().await, 0, "nothing is left to send");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1, "exactly one email arrived");
    assert_eq!(app.emails_to("grace@example.com").await.len(), 1);
}

/// A worker whose mail server stops answering in the middle of DATA, with a one-second SMTP
/// timeout (the configuration's is 30 s).
fn worker_with_timeout(app: &TestApp, url: &str, timeout: Duration) -> OutboxWorker {
    OutboxWorker::new(
        app.services.clone(),
        Arc::new(Mailer::smtp(url, timeout).unwrap()),
        MAIL_FROM.parse().unwrap(),
    )
}

/// A mail server that takes the message and then never answers: the send gives up after the
/// timeout, the message is `retrying` with the timeout as its reason and its next attempt in the
/// backoff window, twice; once the server answers again it is sent.
async fn an_smtp_server_that_stops_answering_times_out_and_is_retried_with_backoff(
    backend: Backend,
) {
    let smtp = StallingSmtpServer::start(true).await;
    let Some(app) = app_with_smtp(backend, smtp.url()).await else {
        return;
    };
    let worker = worker_with_timeout(&app, &smtp.url(), Duration::from_secs(1));
    invite_grace(&app).await;

    let started = Instant::now();
    let tried = tokio::time::timeout(Duration::from_secs(10), worker.deliver_due())
        .await
        .expect("the send gives up after its timeout instead of waiting for ever");
    assert_eq!(tried.unwrap(), 1);
    eprintln!("the send gave up after {:?}", started.elapsed());
    assert_eq!(smtp.received().len(), 1, "the server held the message");
    let email = &app.emails_to("grace@example.com").await[0];
    assert_retrying_with_backoff(email, 1, "timed out", app.now());
    assert!(email.action_url.is_some(), "nothing is wiped");
    let users = app.get_text("/setup/users?view=unconfirmed").await;
    assert!(users.contains("Email: Retrying: timed out"), "{users}");

    assert_eq!(worker.deliver_due().await.unwrap(), 0, "not due yet");
    app.clock.advance(Duration::from_secs(37));
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    assert_retrying_with_backoff(
        &app.emails_to("grace@example.com").await[0],
        2,
        "timed out",
        app.now(),
    );

    smtp.stop_stalling();
    app.clock.advance(Duration::from_secs(73));
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    let email = &app.emails_to("grace@example.com").await[0];
    assert_eq!((email.state.as_str(), email.attempts), ("sent", 3));
    let accepted = smtp.wait_for_accepted(1, Duration::from_secs(5)).await;
    assert_eq!(
        accepted.iter().filter(|message| !message.stalled).count(),
        1,
        "answered once; the two timed-out attempts may have been delivered too: {accepted:?}"
    );
}

/// The mail server takes the whole message and drops the connection before answering, once: the
/// worker cannot know it was delivered, so it retries, and Grace may get two copies. Both carry
/// the same link, both open the join form, and she joins once.
async fn a_connection_dropped_after_data_is_retried_and_both_copies_links_open_the_join_form(
    backend: Backend,
) {
    let smtp =
        ScriptedSmtpServer::start(|index| (index == 0).then_some(Fault::DropAfterData)).await;
    let Some(app) = app_with_smtp(backend, smtp.url()).await else {
        return;
    };
    let (_, link) = invite_grace(&app).await;
    assert_eq!(app.deliver_emails().await, 1);
    let email = &app.emails_to("grace@example.com").await[0];
    assert_eq!(email.state, "retrying", "{:?}", email.last_error);
    assert_eq!(email.attempts, 1);
    assert!(email.last_error.is_some(), "the reason is recorded");
    assert!(email.action_url.is_some(), "nothing is wiped");

    app.clock.advance(Duration::from_secs(37));
    assert_eq!(app.deliver_emails().await, 1);
    let email = &app.emails_to("grace@example.com").await[0];
    assert_eq!((email.state.as_str(), email.attempts), ("sent", 2));
    assert!(email.action_url.is_none(), "wiped once sent");

    let received = smtp.received();
    assert_eq!(received.len(), 2, "the dropped copy and the retried one");
    let mut browsers = Vec::new();
    for copy in &received {
        assert_eq!(copy.to, "grace@example.com");
        assert_eq!(copy.join_link(), link, "both copies carry the same link");
        let (browser, page) = open_join_link(&app, &copy.join_link()).await;
        assert!(
            page.contains("value=\"grace@example.com\" readonly") && page.contains("Update"),
            "the join form: {page}"
        );
        browsers.push((browser, page));
    }
    let (browser, page) = &browsers[1];
    let response = submit_join(&app, browser, page, "grace", GRACE_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        app.text_value(
            "SELECT status FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await
        .as_deref(),
        Some("active")
    );
    let (browser, page) = &browsers[0];
    let again = submit_join(&app, browser, page, "grace2", GRACE_PASSWORD).await;
    let again = again.text().await.unwrap();
    assert!(
        again.contains("This invitation has already been accepted."),
        "{again}"
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM users WHERE email_normalized = $1",
            "grace@example.com"
        )
        .await,
        1
    );
}

const THOUSAND: usize = 1000;

/// Waits (up to `within`) until no message is left unsent; returns how many are `sent`.
async fn wait_until_all_sent(app: &TestApp, within: Duration) -> i64 {
    let deadline = Instant::now() + within;
    loop {
        // Unsent first: a row never leaves `sent`, so once none is unsent, the count of sent rows
        // read after it is whole (read the other way round, the last row could turn `sent`
        // between the two counts and be missed).
        let unsent = app
            .number("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'")
            .await;
        let sent = app
            .number("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")
            .await;
        if unsent == 0 || Instant::now() > deadline {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Three `onestop worker` processes on one database drain 1,000 queued invitations into a real
/// SMTP server: every recipient gets exactly one message (also after the workers have had time
/// for another pass), every row is `sent`, and each worker sent some of them.
async fn three_worker_processes_drain_a_thousand_messages_and_send_each_exactly_once(
    backend: Backend,
) {
    let Some(smtp) = RealSmtpServer::start().await else {
        return;
    };
    let Some(app) = crate::helpers::app_for_binary(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let started = Instant::now();
    crate::helpers::invite_crew(&app, &organization, THOUSAND).await;
    eprintln!("{THOUSAND} invited in {:?}", started.elapsed());
    assert_eq!(
        app.number("SELECT COUNT(*) FROM outbox WHERE state = 'queued'")
            .await,
        i64::try_from(THOUSAND).unwrap()
    );

    let started = Instant::now();
    let smtp_url = smtp.url();
    let mut workers: Vec<_> = (0..3)
        .map(|_| app.start_worker(&[("ONESTOP_SMTP_URL", &smtp_url)]))
        .collect();
    let sent = wait_until_all_sent(&app, Duration::from_secs(80)).await;
    eprintln!("{sent} sent by three workers in {:?}", started.elapsed());
    assert_eq!(sent, i64::try_from(THOUSAND).unwrap(), "every row is sent");
    smtp.wait_for(THOUSAND).await;
    // Longer than a worker's poll interval: any second copy would have gone out by now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let logs: Vec<String> = workers.iter_mut().map(|worker| worker.stop()).collect();

    let received = smtp.messages();
    let mut copies = std::collections::HashMap::<String, usize>::new();
    for message in &received {
        assert!(message.has_message_id);
        *copies.entry(message.to.clone()).or_default() += 1;
    }
    let twice: Vec<_> = copies.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(received.len(), THOUSAND, "one message each, none lost");
    for index in 0..THOUSAND {
        assert!(
            copies.contains_key(&format!("crew{index}@example.com")),
            "crew{index} got theirs"
        );
    }
    let mut sent_by_log = 0;
    for (index, log) in logs.iter().enumerate() {
        let sent = log
            .lines()
            .filter(|line| line.contains("email sent"))
            .count();
        eprintln!("worker {index} sent {sent}");
        assert!(sent > 0, "worker {index} took part:\n{log}");
        for trouble in ["database is locked", "outbox pass failed", "ERROR"] {
            assert!(!log.contains(trouble), "worker {index}: {trouble}:\n{log}");
        }
        sent_by_log += sent;
    }
    assert_eq!(sent_by_log, THOUSAND, "the workers sent {THOUSAND} in all");
}

/// A batch's later messages are the worker's only while their lease holds: before each send the
/// worker makes sure its lease covers the send, renewing it when it would not, and a message
/// another worker took over in the meantime (the lease ran out while earlier sends were slow) is
/// left to that worker, not sent a second time.
async fn a_worker_whose_claim_was_taken_over_mid_batch_skips_that_message(backend: Backend) {
    let smtp = StallingSmtpServer::start(true).await;
    let Some(app) = app_with_smtp(backend, smtp.url()).await else {
        return;
    };
    let organization = app.create_organization().await;
    // One message more than the worker sends at once: it waits for a free connection.
    crate::helpers::invite_crew(&app, &organization, PARALLEL_SENDS + 1).await;
    let worker = app.worker.clone();
    let first_pass = tokio::spawn(async move { worker.deliver_due().await });
    // Every message being sent hangs in DATA; meanwhile the batch's lease runs out, and a second
    // worker claims what is due again.
    smtp.wait_until_holding_at_least(PARALLEL_SENDS, Duration::from_secs(10))
        .await;
    app.clock.advance(Duration::from_secs(121));
    let taken_over = app
        .store
        .claim_due_emails(app.now(), Duration::from_secs(120), 100)
        .await
        .unwrap();
    assert_eq!(taken_over.len(), PARALLEL_SENDS + 1, "every lease ran out");
    smtp.stop_stalling();
    first_pass.await.unwrap().unwrap();
    let received = smtp.received();
    assert_eq!(
        received.len(),
        PARALLEL_SENDS,
        "the first worker sent only the messages it was already sending"
    );
    // The last message is the second worker's, untouched by the first: still being sent.
    let other = taken_over
        .iter()
        .find(|email| {
            !received
                .iter()
                .any(|message| message.email.to == email.recipient)
        })
        .expect("the message nobody sent");
    assert_eq!(app.emails_to(&other.recipient).await[0].state, "sending");
}

const SEVERAL_HUNDRED: usize = 400;

/// Several hundred invitations drain through one worker, many at a time, into a real SMTP server:
/// every recipient gets exactly one message (also after a later pass, past every lease), every
/// row is `sent` with its link wiped, and each delivery is in the Audit Log once.
async fn several_hundred_queued_messages_each_arrive_exactly_once_and_are_all_marked_sent(
    backend: Backend,
) {
    let Some(smtp) = RealSmtpServer::start().await else {
        return;
    };
    let Some(app) = app_with_smtp(backend, smtp.url()).await else {
        return;
    };
    let organization = app.create_organization().await;
    crate::helpers::invite_crew(&app, &organization, SEVERAL_HUNDRED).await;

    let mut tried = 0;
    loop {
        let pass = app.deliver_emails().await;
        if pass == 0 {
            break;
        }
        tried += pass;
    }
    assert_eq!(tried, SEVERAL_HUNDRED, "each message was tried once");
    app.clock.advance(Duration::from_secs(3 * 60 * 60));
    assert_eq!(app.deliver_emails().await, 0, "nothing is left to send");

    assert_eq!(
        app.number("SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND action_url IS NULL")
            .await,
        i64::try_from(SEVERAL_HUNDRED).unwrap(),
        "every row is sent, its link wiped"
    );
    assert_eq!(
        app.number("SELECT COUNT(*) FROM outbox").await,
        i64::try_from(SEVERAL_HUNDRED).unwrap()
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = $1",
            "invitation_delivered"
        )
        .await,
        i64::try_from(SEVERAL_HUNDRED).unwrap(),
        "each delivery audited once"
    );
    smtp.wait_for(SEVERAL_HUNDRED).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = smtp.messages();
    let mut copies = std::collections::HashMap::<String, usize>::new();
    for message in &received {
        *copies.entry(message.to.clone()).or_default() += 1;
    }
    let twice: Vec<_> = copies.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(
        received.len(),
        SEVERAL_HUNDRED,
        "one message each, none lost"
    );
    for index in 0..SEVERAL_HUNDRED {
        assert!(
            copies.contains_key(&format!("crew{index}@example.com")),
            "crew{index} got theirs"
        );
    }
}
