//! scim2-tester (PyPI) against the real binary: `onestop serve`, a company, a SCIM token made
//! with `onestop api-token create --scim`, and every check scim2-tester runs for what our
//! ServiceProviderConfig, ResourceTypes and Schemas declare must pass (scripts/scim2_check.py
//! fails on any ERROR or CRITICAL). Skipped loudly outside CI when scim2-tester is missing.

use crate::helpers::{BINARY, Backend, app_for_binary, on_both_backends};
use std::path::PathBuf;
use std::process::{Command, Stdio};

on_both_backends!(scim2_tester_passes_every_check_that_applies_against_the_real_binary);

/// The project's `.venv` Python, if scim2-tester is installed there (scripts/test installs it).
fn python_with_scim2_tester() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let works = Command::new(&path)
        .args(["-c", "import scim2_tester, httpx2"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    works.then_some(path)
}

async fn scim2_tester_passes_every_check_that_applies_against_the_real_binary(backend: Backend) {
    let Some(python) = python_with_scim2_tester() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "scim2-tester is not installed in .venv, and in CI the SCIM compliance test must run (scripts/test installs it)"
        );
        eprintln!(
            "\n*** SKIPPED: scim2-tester test; run scripts/test once to install scim2-tester into .venv ***\n"
        );
        return;
    };
    let Some(app) = app_for_binary(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let token = Command::new(BINARY)
        .args([
            "api-token",
            "create",
            "--org",
            &organization.org_id,
            "--name",
            "scim2-tester",
            "--scim",
        ])
        .env_clear()
        .env("ONESTOP_DATA_DIR", app.data_dir.path())
        .env("ONESTOP_DATABASE_URL", &app.database_url)
        .env("ONESTOP_LOG", "warn")
        .output()
        .expect("the onestop binary runs");
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let mut server = app.start_binary(&[("ONESTOP_PUBLIC_URL", &app.address)]);
    crate::helpers::wait_until(
        std::time::Duration::from_secs(30),
        std::time::Duration::from_millis(100),
        "the server answers",
        || async {
            reqwest::get(app.url("/healthz"))
                .await
                .is_ok_and(|response| response.status().is_success())
        },
    )
    .await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/scim2_check.py");
    let base = app.url("/scim/v2");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(base)
            .arg(token)
            .output()
            .expect("scim2_check.py runs")
    })
    .await
    .unwrap();
    let log = server.stop();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scim2-tester found failures:\n{stdout}\n{stderr}\nserver log:\n{log}"
    );
    // It really ran the User checks, not only discovery.
    assert!(stdout.contains("User"), "{stdout}");
    eprintln!("{stdout}");
}
