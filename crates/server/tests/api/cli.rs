//! The `onestop` binary itself, as operators and scripts use it.

use crate::helpers::{
    ADMIN_PASSWORD, BINARY, Backend, ClosedPort, ServerProcess, csrf_token_in, free_port,
    fresh_postgres_database,
};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A database for a CLI test: a SQLite file in the data directory, or a fresh PostgreSQL database.
async fn database(backend: Backend, data_dir: &tempfile::TempDir) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!(
            "sqlite://{}",
            data_dir.path().join("onestop.db").display()
        )),
        Backend::Postgres => fresh_postgres_database().await,
    }
}

fn onestop(data_dir: &tempfile::TempDir, database_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BINARY)
        .args(args)
        .env_clear()
        .env("ONESTOP_DATA_DIR", data_dir.path())
        .env("ONESTOP_DATABASE_URL", database_url)
        .env("ONESTOP_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the onestop binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Signs in at `address` with `login` and the test password; the page it lands on.
async fn sign_in_through(client: &reqwest::Client, address: &str, login: &str) -> String {
    let page = client
        .get(format!("{address}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client
        .post(format!("{address}/login"))
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("username", login),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Starts `onestop serve` (logging warnings only) and waits until it is running.
fn start_server(data_dir: &tempfile::TempDir, database_url: &str, port: u16) -> ServerProcess {
    let mut command = Command::new(BINARY);
    command
        .arg("serve")
        .env_clear()
        .env("ONESTOP_DATA_DIR", data_dir.path())
        .env("ONESTOP_DATABASE_URL", database_url)
        .env("ONESTOP_LISTEN", format!("127.0.0.1:{port}"))
        .env("ONESTOP_LOG", "warn");
    ServerProcess::start(command)
}

async fn org_create_makes_an_administrator_who_signs_in_through_serve(backend: Backend) {
    let data_dir = tempfile::tempdir().unwrap();
    let Some(database_url) = database(backend, &data_dir).await else {
        return;
    };
    let output = onestop(
        &data_dir,
        &database_url,
        &[
            "org",
            "create",
            "--company-name",
            "1Stop Install",
            "--admin-email",
            "ada@example.com",
            "--admin-last-name",
            "Lovelace",
            "--admin-first-name",
            "Ada",
            "--admin-username",
            "ada",
            "--admin-password-stdin",
        ],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Created the organization"));

    let port = free_port();
    let mut server = start_server(&data_dir, &database_url, port);
    assert!(
        server
            .printed
            .iter()
            .all(|line| !line.contains("first-run")),
        "no first-run link once a company exists: {:?}",
        server.printed
    );
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    assert_eq!(
        client
            .get(format!("{address}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let home = sign_in_through(&client, &address, "ada").await;
    assert!(
        home.contains("I Agree"),
        "after sign-in the Terms come first: {home}"
    );
    server.stop();
}

#[tokio::test]
async fn org_create_makes_an_administrator_who_signs_in_through_serve_on_sqlite() {
    org_create_makes_an_administrator_who_signs_in_through_serve(Backend::Sqlite).await;
}

#[tokio::test]
async fn org_create_makes_an_administrator_who_signs_in_through_serve_on_postgres() {
    org_create_makes_an_administrator_who_signs_in_through_serve(Backend::Postgres).await;
}

/// `org seed` (the benchmark's data): the listing it writes names real people: a seeded Join Now
/// link opens the join form, a seeded Active user signs in with the administrator's password.
async fn org_seed_fills_an_organization_whose_people_join_and_sign_in(backend: Backend) {
    let data_dir = tempfile::tempdir().unwrap();
    let Some(database_url) = database(backend, &data_dir).await else {
        return;
    };
    let listing = data_dir.path().join("users.tsv");
    let output = onestop(
        &data_dir,
        &database_url,
        &[
            "org",
            "seed",
            "--users",
            "1200",
            "--admin-username",
            "grace",
            "--admin-password-stdin",
            "--users-file",
            listing.to_str().unwrap(),
        ],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("with 1200 users besides its administrator"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let listing = std::fs::read_to_string(&listing).unwrap();
    let lines: Vec<Vec<&str>> = listing
        .lines()
        .map(|line| line.split('\t').collect())
        .collect();
    let with_status = |status: &str| lines.iter().filter(|fields| fields[1] == status).count();
    assert_eq!(
        (
            lines.len(),
            with_status("active"),
            with_status("unconfirmed"),
            with_status("deactivated")
        ),
        (1200, 720, 360, 120)
    );
    // Its backdated invitations, inserted hundreds at a time, are counted for the caps.
    crate::invitation_counts::assert_counts_agree_in(&database_url).await;

    let port = free_port();
    let mut server = start_server(&data_dir, &database_url, port);
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let link = lines
        .iter()
        .find(|fields| fields[1] == "unconfirmed")
        .map(|fields| fields[2])
        .unwrap();
    let token = link.rsplit('/').next().unwrap();
    let join = client
        .get(format!("{address}/join/{token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(join.contains("Choose the username and password"), "{join}");

    let active = lines.iter().find(|fields| fields[1] == "active").unwrap()[2];
    let after = sign_in_through(&client, &address, active).await;
    assert!(
        after.contains("Welcome,") && !after.contains("I Agree"),
        "a seeded user signs in straight to the homepage (they accepted the Terms): {after}"
    );
    server.stop();
}

#[tokio::test]
async fn org_seed_fills_an_organization_whose_people_join_and_sign_in_on_sqlite() {
    org_seed_fills_an_organization_whose_people_join_and_sign_in(Backend::Sqlite).await;
}

#[tokio::test]
async fn org_seed_fills_an_organization_whose_people_join_and_sign_in_on_postgres() {
    org_seed_fills_an_organization_whose_people_join_and_sign_in(Backend::Postgres).await;
}

#[tokio::test]
async fn invitation_caps_are_set_by_the_operator_and_checked() {
    let data_dir = tempfile::tempdir().unwrap();
    let check = |name: &str, value: &str| {
        Command::new(BINARY)
            .arg("check-config")
            .env_clear()
            .env("ONESTOP_DATA_DIR", data_dir.path())
            .env(name, value)
            .output()
            .unwrap()
    };
    let output = check("ONESTOP_INVITATIONS_PER_HOUR", "12000");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("12000 an hour per organization, 2000 per administrator"),
        "{stdout}"
    );
    let output = check("ONESTOP_INVITATIONS_PER_ADMINISTRATOR_PER_HOUR", "0");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--invitations-per-administrator-per-hour") && stderr.contains("1..="),
        "{stderr}"
    );
}

#[tokio::test]
async fn org_create_without_a_username_invites_the_administrator_and_serve_sends_the_email() {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = database(Backend::Sqlite, &data_dir).await.unwrap();
    let output = onestop(
        &data_dir,
        &database_url,
        &[
            "org",
            "create",
            "--company-name",
            "1Stop Install",
            "--admin-email",
            "ada@example.com",
            "--admin-last-name",
            "Lovelace",
        ],
        "",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let link = stdout
        .lines()
        .find_map(|line| line.strip_prefix("Join Now: "))
        .unwrap_or_else(|| panic!("the Join Now link is printed: {stdout}"))
        .to_owned();
    assert!(link.starts_with("http://127.0.0.1:8080/join/"), "{link}");

    // `serve` runs the outbox worker, which writes the invitation as an .eml file.
    let port = free_port();
    let mut server = start_server(&data_dir, &database_url, port);
    let mail = data_dir.path().join("mail");
    let deadline = Instant::now() + Duration::from_secs(15);
    let file = loop {
        let found = std::fs::read_dir(&mail)
            .ok()
            .and_then(|mut entries| entries.next())
            .map(|entry| entry.unwrap().path());
        if let Some(file) = found {
            break file;
        }
        assert!(Instant::now() < deadline, "no .eml file was written");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let message = std::fs::read_to_string(file).unwrap();
    assert!(
        message.contains("Subject: You are invited to join 1Stop Install's 1Stop Install account."),
        "{message}"
    );
    server.stop();
}

#[tokio::test]
async fn send_test_email_reports_what_the_smtp_server_said() {
    let Some(smtp) = crate::smtp::RealSmtpServer::start().await else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args(["send-test-email", "--to", "ops@example.com"])
        .env_clear()
        .env("ONESTOP_DATA_DIR", data_dir.path())
        .env("ONESTOP_SMTP_URL", smtp.url())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("Sent. The mail server answered: 250"),
        "{stdout}"
    );
    let messages = smtp.wait_for(1).await;
    assert_eq!(messages[0].subject, "1Stop test email");

    let closed = ClosedPort::reserve();
    let refused = Command::new(BINARY)
        .args(["send-test-email", "--to", "ops@example.com"])
        .env_clear()
        .env("ONESTOP_DATA_DIR", data_dir.path())
        .env(
            "ONESTOP_SMTP_URL",
            format!("smtp://127.0.0.1:{}", closed.port()),
        )
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the test email was not sent"));
}

#[tokio::test]
async fn org_create_names_the_flag_of_each_bad_value() {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = database(Backend::Sqlite, &data_dir).await.unwrap();
    let output = onestop(
        &data_dir,
        &database_url,
        &[
            "org",
            "create",
            "--company-name",
            "1Stop Install",
            "--admin-email",
            "ada.example.com",
            "--admin-last-name",
            "Lovelace",
            "--admin-username",
            "ad",
            "--admin-password-stdin",
        ],
        "short\n",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--admin-email: Enter one email address"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--admin-username: A username needs at least 3 characters."),
        "{stderr}"
    );
    assert!(
        stderr.contains("password (standard input): Use at least 15 characters"),
        "{stderr}"
    );
}

#[tokio::test]
async fn bad_configuration_stops_with_what_to_fix() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .arg("check-config")
        .env_clear()
        .env("ONESTOP_DATA_DIR", data_dir.path())
        .env("ONESTOP_PUBLIC_URL", "ftp://files.example.com")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ONESTOP_PUBLIC_URL") && stderr.contains("such as https://"),
        "{stderr}"
    );

    let output = Command::new(BINARY)
        .arg("check-config")
        .env_clear()
        .env("ONESTOP_DATA_DIR", data_dir.path())
        .env(
            "ONESTOP_DATABASE_URL",
            "postgres://app:hunter2hunter2@db.example.com/onestop",
        )
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("The configuration is valid.") && !stdout.contains("hunter2hunter2"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_fresh_server_prints_a_first_run_link_that_opens_the_set_up_form() {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = database(Backend::Sqlite, &data_dir).await.unwrap();
    let port = free_port();
    let mut server = start_server(&data_dir, &database_url, port);
    let printed = server.printed.clone();
    let link = printed
        .iter()
        .find_map(|line| {
            line.trim()
                .strip_prefix(&format!("http://127.0.0.1:{port}/first-run/"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("a first-run link is printed: {printed:?}"));
    assert!(
        printed
            .last()
            .unwrap()
            .contains(&format!("1Stop is running at http://127.0.0.1:{port}/"))
    );
    let page = reqwest::get(format!("http://127.0.0.1:{port}/first-run/{link}"))
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Create Account"));
    server.stop();
}
