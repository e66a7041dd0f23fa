//! The real `onestop` binary, as operators run it: what its log stream holds at `debug`, and what
//! a SIGKILL in the middle of sending an email or of a large transaction leaves behind.

use crate::helpers::{
    ADMIN_PASSWORD, Backend, COMPANY, TestApp, app_for_binary, csrf_token_in, invite_crew,
    location, on_both_backends, save_new_user, wait_until,
};
use crate::invitations::{GRACE_PASSWORD, submit_join};
use crate::smtp::{ReceivedEmail, StallingSmtpServer};
use std::sync::Arc;
use std::time::{Duration, Instant};

on_both_backends!(
    no_secret_reaches_the_log_at_debug,
    a_server_killed_mid_send_resends_after_restart_and_loses_nothing,
    a_server_killed_mid_transaction_keeps_a_consistent_database,
);

const NEW_PASSWORD: &str = "granite harbour sunrise";
const WRONG_PASSWORD: &str = "definitely not my password";

/// Everything secret a test has seen, to look for in the log afterwards.
#[derive(Default)]
struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    fn add(&mut self, what: &'static str, value: &str) {
        assert!(value.len() >= 15, "{what} is long enough to search for");
        // A password also travels form-encoded ("purple+tractor+lemonade").
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        for value in [value.to_owned(), encoded] {
            if !self.0.iter().any(|(_, known)| *known == value) {
                self.0.push((what, value));
            }
        }
    }

    /// Every `csrf_token` value in a page.
    fn page(&mut self, html: &str) {
        let marker = "name=\"csrf_token\" value=\"";
        for (start, _) in html.match_indices(marker) {
            let value = html[start + marker.len()..]
                .split('"')
                .next()
                .unwrap_or_default();
            self.add("a csrf_token", value);
        }
    }

    /// Every cookie value the browser holds for the server (session, form token, join and reset
    /// cookies).
    fn cookies(&mut self, jar: &reqwest::cookie::Jar, address: &str) {
        use reqwest::cookie::CookieStore;
        let url = address.parse().expect("the server's address");
        let Some(header) = jar.cookies(&url) else {
            return;
        };
        for pair in header.to_str().expect("cookies are text").split("; ") {
            if let Some((name, value)) = pair.split_once('=')
                && !value.is_empty()
            {
                let what = match name {
                    "onestop_session" => "the session cookie",
                    "onestop_form" => "the form token cookie",
                    "onestop_join" => "the join cookie",
                    "onestop_reset" => "the reset cookie",
                    _ => "a cookie",
                };
                self.add(what, value);
            }
        }
    }

    /// Fails naming each secret found in `log`, with the lines that hold it.
    fn assert_absent_from(&self, log: &str) {
        let found: Vec<String> = self
            .0
            .iter()
            .filter(|(_, value)| log.contains(value.as_str()))
            .map(|(what, value)| {
                let lines: Vec<&str> = log
                    .lines()
                    .filter(|line| line.contains(value.as_str()))
                    .take(3)
                    .collect();
                format!("{what} is in the log:\n    {}", lines.join("\n    "))
            })
            .collect();
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}

/// A browser whose cookies the test can read.
fn browser(jar: &Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// The token at the end of a link.
fn token_of(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or_default()
}

/// Waits (15 s at most) until the worker has written the `count`th `.eml` file to `recipient`
/// whose subject starts with `subject`, and returns that message.
async fn written_email(
    app: &TestApp,
    recipient: &str,
    subject: &str,
    count: usize,
) -> ReceivedEmail {
    let directory = app.data_dir.path().join("mail");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut files: Vec<_> = std::fs::read_dir(&directory)
            .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|file| {
            std::fs::metadata(file)
                .and_then(|meta| meta.modified())
                .ok()
        });
        let emails: Vec<ReceivedEmail> = files
            .iter()
            .map(|file| ReceivedEmail::parse(&std::fs::read(file).unwrap()))
            .filter(|email| email.to == recipient && email.subject.starts_with(subject))
            .collect();
        if emails.len() >= count {
            return emails[count - 1].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no email {subject:?} to {recipient} was written within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The whole life of a first user and an invitee on `onestop serve --log debug`: first run, Terms,
/// New User, the `.eml` file, Join Now, "Forgot password?", a wrong and a right sign-in. Not one
/// of the secrets seen on the way appears in the log stream.
async fn no_secret_reaches_the_log_at_debug(backend: Backend) {
    let Some(mut app) = app_for_binary(backend).await else {
        return;
    };
    let mut server = app.start_binary(&[("ONESTOP_LOG", "debug")]);
    let mut secrets = Secrets::default();
    for password in [ADMIN_PASSWORD, GRACE_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD] {
        secrets.add("a password", password);
    }

    // The first run, from the link on standard output.
    let link = server
        .first_run_link()
        .unwrap_or_else(|| panic!("a first-run link is printed: {:?}", server.printed));
    secrets.add("the first-run code", token_of(&link));
    let ada_jar = Arc::new(reqwest::cookie::Jar::default());
    app.client = browser(&ada_jar);
    let form = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("Create Account"), "{form}");
    secrets.page(&form);
    secrets.cookies(&ada_jar, &app.address);
    let created = app
        .post_form(
            "/first-run",
            &[
                ("csrf_token", csrf_token_in(&form).as_str()),
                ("code", token_of(&link)),
                ("company_name", COMPANY),
                ("account_name", COMPANY),
                ("first_name", "Ada"),
                ("last_name", "Lovelace"),
                ("email", "ada@example.com"),
                ("username", "ada"),
                ("password", ADMIN_PASSWORD),
                ("password_confirmation", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&created), "/", "the first run signs Ada in");
    secrets.cookies(&ada_jar, &app.address);
    assert_eq!(location(&app.agree_to_terms().await), "/");

    // New User, and the invitation written as an .eml file (no SMTP server is configured).
    secrets.page(&app.get_text("/setup/users/new").await);
    let saved = save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    let invitation = written_email(&app, "grace@example.com", "You are invited", 1).await;
    let join_link = invitation.join_link();
    secrets.add("the join token", token_of(&join_link));

    // Grace joins through Join Now and agrees to the Terms.
    let grace_jar = Arc::new(reqwest::cookie::Jar::default());
    let grace = browser(&grace_jar);
    let opened = grace.get(&join_link).send().await.unwrap();
    assert_eq!(location(&opened), "/join");
    secrets.cookies(&grace_jar, &app.address);
    let form = grace
        .get(app.url("/join"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    secrets.page(&form);
    secrets.cookies(&grace_jar, &app.address);
    let joined = submit_join(&app, &grace, &form, "grace", GRACE_PASSWORD).await;
    assert_eq!(location(&joined), "/", "Grace joins");
    secrets.cookies(&grace_jar, &app.address);
    assert_eq!(location(&app.agree_with(&grace).await), "/");
    let home = grace
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    secrets.page(&home);

    // "Forgot password?" and the reset link from the second .eml file.
    let asker_jar = Arc::new(reqwest::cookie::Jar::default());
    let asker = browser(&asker_jar);
    let form = asker
        .get(app.url("/password/forgot"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    secrets.page(&form);
    secrets.cookies(&asker_jar, &app.address);
    let answer = asker
        .post(app.url("/password/forgot"))
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("username", "grace"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(answer.contains("a link to choose a new password is on its way"));
    let reset = written_email(&app, "grace@example.com", "Reset your 1Stop password", 1).await;
    let reset_link = reset.link_after("Choose a new password: ");
    secrets.add("the reset token", token_of(&reset_link));
    let reset_jar = Arc::new(reqwest::cookie::Jar::default());
    let resetter = browser(&reset_jar);
    let opened = resetter.get(&reset_link).send().await.unwrap();
    assert_eq!(location(&opened), "/password/reset");
    secrets.cookies(&reset_jar, &app.address);
    let form = resetter
        .get(app.url("/password/reset"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    secrets.page(&form);
    secrets.cookies(&reset_jar, &app.address);
    let changed = resetter
        .post(app.url("/password/reset"))
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("password", NEW_PASSWORD),
            ("password_confirmation", NEW_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&changed), "/login?password_changed=1");

    // A wrong password, then the new one.
    let refused = app.sign_in_with(&grace, "grace", WRONG_PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 401);
    let signed_in = app.sign_in_with(&grace, "grace", NEW_PASSWORD).await;
    assert_eq!(location(&signed_in), "/");
    let home = grace
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Sign Out"), "{home}");
    secrets.page(&home);
    secrets.cookies(&grace_jar, &app.address);
    secrets.cookies(&ada_jar, &app.address);

    let log = server.stop();
    assert!(
        log.contains("DEBUG") && log.contains("email written"),
        "the log is at debug and covers the whole run:\n{log}"
    );
    secrets.assert_absent_from(&log);
}

/// Moves every lease of a message being sent into the past, as two minutes passing would: the
/// lease of a dead server's messages then runs out, and the next worker takes them over.
async fn let_the_leases_run_out(app: &TestApp) -> u64 {
    use onestop_domain::Clock;
    let past = onestop_domain::SystemClock.now().unix_millis() - 1;
    app.execute(&format!(
        "UPDATE outbox SET lease_until = {past} WHERE state = 'sending'"
    ))
    .await
}

/// Waits (up to `within`) until no message waits to be sent or is being sent.
async fn wait_until_outbox_drained(app: &TestApp, within: Duration) {
    wait_until(
        within,
        Duration::from_millis(100),
        "messages still unsent",
        || async {
            app.number(
                "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending', 'retrying')",
            )
            .await
                == 0
        },
    )
    .await;
}

/// The SMTP server holds the invitation in DATA when the server is SIGKILLed. The message stays
/// in the outbox, leased; once the lease runs out the restarted server sends it. It reaches the
/// mail server once or twice (the held copy may be delivered by a lenient server), never zero
/// times, and the row ends `sent`.
async fn a_server_killed_mid_send_resends_after_restart_and_loses_nothing(backend: Backend) {
    let Some(app) = app_for_binary(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let smtp = StallingSmtpServer::start(true).await;
    let smtp_url = smtp.url();
    let mut server = app.start_binary(&[("ONESTOP_SMTP_URL", &smtp_url)]);
    app.sign_in_as_admin(&organization).await;
    let saved = save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    let link = app.emails_to("grace@example.com").await[0]
        .action_url
        .clone()
        .expect("the queued invitation has its link");

    smtp.wait_until_holding(Duration::from_secs(20)).await;
    let sending = &app.emails_to("grace@example.com").await[0];
    assert_eq!(
        (sending.state.as_str(), sending.attempts),
        ("sending", 1),
        "the server is mid-send"
    );
    server.kill();
    smtp.stop_stalling();

    let kept = app.emails_to("grace@example.com").await;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].state, "sending",
        "nothing was marked after the crash"
    );
    assert_eq!(
        kept[0].action_url.as_deref(),
        Some(link.as_str()),
        "nothing was wiped"
    );
    assert_eq!(let_the_leases_run_out(&app).await, 1);

    let mut server = app.start_binary(&[("ONESTOP_SMTP_URL", &smtp_url)]);
    let received = smtp.wait_for_accepted(1, Duration::from_secs(20)).await;
    wait_until_outbox_drained(&app, Duration::from_secs(20)).await;
    server.stop();

    let accepted = received.iter().filter(|message| !message.stalled).count();
    assert_eq!(
        accepted, 1,
        "the restarted server sent it once: {received:?}"
    );
    assert!(
        (1..=2).contains(&received.len()),
        "delivered once or twice, never lost: {received:?}"
    );
    for message in &received {
        assert_eq!(message.email.to, "grace@example.com");
        assert_eq!(
            message.email.subject,
            "You are invited to join 1Stop Install's 1Stop Install account."
        );
        assert_eq!(message.email.join_link(), link, "the same invitation");
    }
    let sent = app.emails_to("grace@example.com").await;
    assert_eq!(sent.len(), 1, "one outbox row");
    assert_eq!(sent[0].state, "sent");
    assert_eq!(sent[0].attempts, 2, "the crashed attempt counts");
    assert!(
        sent[0].action_url.is_none() && sent[0].body_text.is_empty(),
        "wiped once sent"
    );
}

/// How many users the bulk Reinvite selects.
const CREW: usize = 1000;

/// Waits until one write transaction holds SQLite's lock for `hold` without a break: the bulk
/// Reinvite's, the only long one (the worker is held in DATA, no one else writes). A probe with
/// no busy timeout tries `BEGIN IMMEDIATE` every few milliseconds.
async fn wait_for_a_long_sqlite_write(database_url: &str, hold: Duration) -> Duration {
    use sqlx::Connection;
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)
        .unwrap()
        .busy_timeout(Duration::ZERO);
    let mut probe = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut busy_since: Option<Instant> = None;
    loop {
        match probe.begin_with("BEGIN IMMEDIATE").await {
            Ok(transaction) => {
                transaction.rollback().await.unwrap();
                busy_since = None;
            }
            Err(error) if error.to_string().contains("locked") => {
                let since = *busy_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= hold {
                    return since.elapsed();
                }
            }
            Err(error) => panic!("the probe failed: {error}"),
        }
        assert!(
            Instant::now() < deadline,
            "no long write transaction began within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until a statement of the server waits for a row lock that the test holds.
async fn wait_until_blocked_on_a_row_lock(app: &TestApp) {
    wait_until(
        Duration::from_secs(30),
        Duration::from_millis(10),
        "the reinvite did not reach the locked user",
        || async {
            app.number_value(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                  AND wait_event_type = 'Lock' AND query LIKE $1",
                "UPDATE users SET status = status%",
            )
            .await
                > 0
        },
    )
    .await;
}

/// Waits until no other PostgreSQL session has a transaction open (the killed server's backends
/// notice their client is gone and roll back).
async fn wait_until_no_transaction_is_open(app: &TestApp) {
    wait_until(
        Duration::from_secs(30),
        Duration::from_millis(20),
        "the killed server's transaction is still open",
        || async {
            app.number(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                  AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL",
            )
            .await
                == 0
        },
    )
    .await;
}

/// A thousand Unconfirmed users (invited two hours ago), three of whose emails the worker is
/// still sending (held in DATA by the SMTP server). A bulk Reinvite of all of them runs when the
/// server is SIGKILLed: on PostgreSQL while the transaction waits on a row lock the test holds
/// halfway through the list; on SQLite while its write lock has been held for a while. After a
/// restart the database is intact, the Reinvite happened for all or for none, every invitation
/// has its email, and the three messages left `sending` are sent once their lease runs out.
async fn a_server_killed_mid_transaction_keeps_a_consistent_database(backend: Backend) {
    let Some(app) = app_for_binary(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let started = Instant::now();
    invite_crew(&app, &organization, CREW).await;
    eprintln!("{CREW} invited in {:?}", started.elapsed());
    // Their invitations went out long ago, all but three.
    let held_back = "('crew0@example.com', 'crew1@example.com', 'crew2@example.com')";
    app.execute(&format!(
        "UPDATE outbox SET state = 'sent', sent_at = created_at, body_text = '', body_html = '', \
           action_url = NULL WHERE recipient NOT IN {held_back}"
    ))
    .await;
    let smtp = StallingSmtpServer::start(true).await;
    let smtp_url = smtp.url();
    let mut server = app.start_binary(&[("ONESTOP_SMTP_URL", &smtp_url)]);
    smtp.wait_until_holding(Duration::from_secs(20)).await;

    app.sign_in_as_admin(&organization).await;
    let page = app.get_text("/setup/users?view=unconfirmed").await;
    let ids = app
        .text_values("SELECT id FROM users WHERE status = 'unconfirmed' ORDER BY last_name, id")
        .await;
    assert_eq!(ids.len(), CREW);
    let mut form = vec![
        ("csrf_token".to_owned(), csrf_token_in(&page)),
        ("view".to_owned(), "unconfirmed".to_owned()),
        ("action".to_owned(), "reinvite".to_owned()),
    ];
    form.extend(ids.iter().map(|id| ("ids".to_owned(), id.clone())));

    // On PostgreSQL the test holds the row of the user in the middle of the list.
    let mut row_lock = match backend {
        Backend::Postgres => {
            use sqlx::Connection;
            let mut connection = sqlx::PgConnection::connect(&app.database_url)
                .await
                .unwrap();
            sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(&ids[CREW / 2])
                .fetch_one(&mut connection)
                .await
                .unwrap();
            Some(connection)
        }
        Backend::Sqlite => {
            // The Reinvite writes a thousand invitations in a few set-based statements, done in
            // moments: a trigger that counts to 20,000 for each row keeps its transaction open
            // long enough to kill the server in the middle of it.
            app.execute(
                "CREATE TRIGGER slow_invitations AFTER INSERT ON invitations BEGIN \
                   SELECT COUNT(*) FROM (WITH RECURSIVE steps(n) AS \
                     (SELECT 1 UNION ALL SELECT n + 1 FROM steps WHERE n < 20000) SELECT n FROM steps); \
                 END",
            )
            .await;
            None
        }
    };
    let request = tokio::spawn(
        app.client
            .post(app.url("/setup/users/bulk"))
            .header(reqwest::header::ORIGIN, &app.address)
            .form(&form)
            .send(),
    );
    match backend {
        Backend::Postgres => wait_until_blocked_on_a_row_lock(&app).await,
        Backend::Sqlite => {
            let held =
                wait_for_a_long_sqlite_write(&app.database_url, Duration::from_millis(150)).await;
            eprintln!("the write lock was held for {held:?} when the server was killed");
        }
    }
    assert!(
        !request.is_finished(),
        "the reinvite finished before the server could be killed mid-transaction"
    );
    server.kill();
    assert!(
        request.await.unwrap().is_err(),
        "no answer came: the server died mid-request"
    );
    if let Some(mut connection) = row_lock.take() {
        sqlx::query("ROLLBACK")
            .execute(&mut connection)
            .await
            .unwrap();
        wait_until_no_transaction_is_open(&app).await;
    }
    smtp.stop_stalling();

    if backend == Backend::Sqlite {
        app.execute("DROP TRIGGER slow_invitations").await;
        assert_eq!(
            app.text_values("PRAGMA integrity_check").await,
            ["ok"],
            "the SQLite file is intact"
        );
        assert!(
            app.text_values("SELECT \"table\" FROM pragma_foreign_key_check")
                .await
                .is_empty(),
            "no row points at a missing one"
        );
    }
    let invitations = app.count("invitations").await;
    let reinvited = invitations > i64::try_from(CREW).unwrap();
    eprintln!(
        "after the crash the reinvite was {}",
        if reinvited {
            "committed"
        } else {
            "rolled back"
        }
    );
    if backend == Backend::Postgres {
        assert!(
            !reinvited,
            "the transaction was cut off halfway: nothing of it stays"
        );
    }
    let per_user = if reinvited { 2 } else { 1 };
    assert_eq!(
        app.number(&format!(
            "SELECT COUNT(*) FROM users u WHERE u.status = 'unconfirmed' \
              AND (SELECT COUNT(*) FROM invitations i WHERE i.user_id = u.id) = {per_user}"
        ))
        .await,
        i64::try_from(CREW).unwrap(),
        "every selected user has {per_user} invitation(s): all or nothing"
    );
    assert_eq!(invitations, i64::try_from(CREW).unwrap() * per_user);
    let live = app
        .number(
            "SELECT COUNT(*) FROM invitations WHERE superseded_at IS NULL AND consumed_at IS NULL \
              AND revoked_at IS NULL",
        )
        .await;
    assert_eq!(
        live,
        i64::try_from(CREW).unwrap(),
        "one live invitation each"
    );
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = $1",
            "invitation_resent"
        )
        .await,
        if reinvited {
            i64::try_from(CREW).unwrap()
        } else {
            0
        },
        "audited with the change, or not at all"
    );
    assert_eq!(
        app.number(
            "SELECT COUNT(*) FROM invitations i WHERE NOT EXISTS \
               (SELECT 1 FROM outbox o WHERE o.invitation_id = i.id)",
        )
        .await,
        0,
        "every invitation has its email"
    );
    assert_eq!(
        app.number_value("SELECT COUNT(*) FROM outbox WHERE state = $1", "sending")
            .await,
        3,
        "the three messages the dead server was sending are kept"
    );

    assert_eq!(let_the_leases_run_out(&app).await, 3);
    let mut server = app.start_binary(&[("ONESTOP_SMTP_URL", &smtp_url)]);
    wait_until_outbox_drained(&app, Duration::from_secs(40)).await;
    server.stop();
    assert_eq!(
        app.number_value("SELECT COUNT(*) FROM outbox WHERE state <> $1", "sent")
            .await,
        0,
        "nothing is left sending"
    );
    let received = smtp.received();
    for recipient in [
        "crew0@example.com",
        "crew1@example.com",
        "crew2@example.com",
    ] {
        assert!(
            received
                .iter()
                .any(|message| !message.stalled && message.email.to == recipient),
            "{recipient}'s invitation was delivered after the restart"
        );
    }
    let accepted = received.iter().filter(|message| !message.stalled).count();
    assert_eq!(
        accepted,
        3 + if reinvited { CREW } else { 0 },
        "the kept messages, and the new invitations if the reinvite committed"
    );
}
