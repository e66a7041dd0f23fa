//! schemathesis (PyPI) against the real `onestop serve`: it reads /api/v1/openapi.json and sends
//! every operation generated requests, valid and invalid (including stateful sequences: invite,
//! then read, edit, deactivate, delete what it invited), and checks every answer: no 5xx, every
//! status, content type, header and body as documented, invalid input refused, authentication
//! not ignored. The run is bounded in time so CI stays fast.

use crate::helpers::{BINARY, Backend, app_for_binary, on_both_backends};
use std::path::PathBuf;
use std::process::Command;

on_both_backends!(schemathesis_finds_nothing_wrong_with_the_live_api);

/// The pinned schemathesis that `scripts/test` installs into `.venv`.
fn schemathesis() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/schemathesis");
    let works = Command::new(&path)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    works.then_some(path)
}

async fn schemathesis_finds_nothing_wrong_with_the_live_api(backend: Backend) {
    let Some(schemathesis) = schemathesis() else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "schemathesis is not installed in .venv, and in CI it must run (scripts/test installs it)"
            );
        }
        eprintln!(
            "\n*** SKIPPED: schemathesis run against the API; run scripts/test once to install schemathesis into .venv ***\n"
        );
        return;
    };
    let Some(app) = app_for_binary(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let created = Command::new(BINARY)
        .args([
            "api-token",
            "create",
            "--org",
            &organization.org_id,
            "--name",
            "schemathesis",
        ])
        .env_clear()
        .env("ONESTOP_DATA_DIR", app.data_dir.path())
        .env("ONESTOP_DATABASE_URL", &app.database_url)
        .env("ONESTOP_LOG", "warn")
        .output()
        .expect("the onestop binary runs");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let mut server = app.start_binary(&[("ONESTOP_LOG", "warn")]);
    let schema = format!("{}/api/v1/openapi.json", app.address);
    // schemathesis keeps a cache in its working directory: the test's, not the repository.
    let working_directory = app.data_dir.path().to_owned();
    // A request that breaks the schema may be refused for its size before anything reads it
    // (413, a body over 64 KiB): as much a rejection as 400 or 422. schemathesis finds this file
    // in its working directory.
    std::fs::write(
        working_directory.join("schemathesis.toml"),
        "[checks.negative_data_rejection]\n\
         expected-statuses = [\"400\", \"401\", \"403\", \"404\", \"405\", \"406\", \"409\", \"413\", \"415\", \"422\", \"428\", \"429\"]\n",
    )
    .unwrap();

    let run = tokio::task::spawn_blocking(move || {
        Command::new(schemathesis)
            .current_dir(working_directory)
            .args(["run", &schema])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            // Every check but one: a request the schema allows may still break a rule the
            // schema cannot state (an address already taken, a profile above the token's
            // creator, an id of a user that is gone), and then 422 or 400 is the right answer.
            .args([
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
            ])
            .args(["--max-examples", "20", "--max-time", "45", "--workers", "2"])
            .args(["--request-timeout", "10", "--generation-database", "none"])
            .args(["--suppress-health-check", "all", "--no-color"])
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();

    let printed = String::from_utf8_lossy(&run.stdout);
    let log = server.stop();
    assert!(
        run.status.success(),
        "schemathesis found problems:\n{printed}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // "Selected: 12/12" then "Tested: 12": every operation of the document was tried.
    let selected = printed
        .lines()
        .find_map(|line| line.trim().strip_prefix("Selected: "))
        .and_then(|counts| counts.split_once('/'))
        .map(|(selected, total)| (selected.trim().to_owned(), total.trim().to_owned()));
    let Some((selected, total)) = selected else {
        panic!("schemathesis says how many operations it selected:\n{printed}");
    };
    assert_eq!(selected, total, "{printed}");
    assert!(
        printed.contains(&format!("Tested: {total}")),
        "every operation was tested:\n{printed}"
    );
    assert!(!log.contains("panicked"), "the server log:\n{log}");
}
