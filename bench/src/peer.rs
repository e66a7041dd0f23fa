//! The Django peer (`../shared/peers/django`: Django + django-allauth + django-invitations,
//! gunicorn with 2 workers, SQLite WAL): what a company would otherwise run, measured in the same
//! run with its own scripts, the way its README describes.

use crate::processes::free_address;
use crate::wrk::{self, Load};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct PeerResult {
    pub invitations_per_second: f64,
    pub joins_per_second: f64,
}

struct Gunicorn(Child);

impl Drop for Gunicorn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Installs the peer into a virtual environment under `work` (kept between runs), starts it and
/// measures invitations (wrk, 8 connections) and full accepts over HTTP (concurrency 4).
pub async fn measure(
    peer: &Path,
    work: &Path,
    duration: Duration,
    joins: usize,
) -> anyhow::Result<PeerResult> {
    // The peer's scripts run from its app folder: every path must be absolute.
    let peer = &peer.canonicalize()?;
    let work = &work.canonicalize()?;
    let python = install(peer, work)?;
    let app = peer.join("peer");
    let database = work.join("peer.sqlite3");
    let mail = work.join("peer-mail");
    for stale in ["peer.sqlite3", "peer.sqlite3-wal", "peer.sqlite3-shm"] {
        let _ = std::fs::remove_file(work.join(stale));
    }
    let _ = std::fs::remove_dir_all(&mail);
    let address = free_address()?;
    let environment = [
        ("PEER_DB", database.display().to_string()),
        ("PEER_MAIL_DIR", mail.display().to_string()),
        ("PEER_SQLITE_SYNC", "FULL".to_owned()),
    ];
    let run = |arguments: &[&str]| -> anyhow::Result<String> {
        let output = Command::new(&python)
            .args(arguments)
            .current_dir(&app)
            .envs(environment.iter().cloned())
            .output()?;
        if !output.status.success() {
            bail!(
                "the Django peer's {arguments:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    run(&["manage.py", "migrate", "-v0"])?;
    run(&[
        "manage.py",
        "shell",
        "-v0",
        "-c",
        &format!(
            "from django.contrib.auth import get_user_model; U=get_user_model(); \
             U.objects.create_superuser('admin','admin@example.com','Adm1n-Passw0rd!')\n\
             from django.contrib.sites.models import Site; \
             Site.objects.update_or_create(id=1, defaults={{'domain':'{address}','name':'peer'}})"
        ),
    ])?;
    let bin = python
        .parent()
        .context("the virtual environment has no bin directory")?;
    let _gunicorn = Gunicorn(
        Command::new(bin.join("gunicorn"))
            .args([
                "-w",
                "2",
                "-b",
                &address.to_string(),
                "--access-logfile",
                "/dev/null",
            ])
            .arg("--error-logfile")
            .arg(work.join("gunicorn.log"))
            .arg("peer.wsgi:application")
            .current_dir(&app)
            .envs(environment.iter().cloned())
            .stdout(Stdio::null())
            .spawn()
            .context("starting gunicorn")?,
    );
    wait_for(address).await?;
    let base = format!("http://{address}");
    let login = run(&[&peer.join("bench/login.py").display().to_string(), &base])?;
    let mut lines = login.lines();
    let cookie = lines
        .next()
        .context("login.py printed no cookie")?
        .to_owned();
    let csrf = lines
        .next()
        .context("login.py printed no CSRF token")?
        .to_owned();
    let invitations = wrk::run(
        work,
        &base,
        &Load::Script {
            path: &peer.join("bench/invite.lua"),
            environment: &[("COOKIE", &cookie), ("CSRF", &csrf), ("PREFIX", "http")],
        },
        8,
        duration,
    )?;
    let accepted = run(&[
        &peer.join("bench/accept_http.py").display().to_string(),
        &base,
        &database.display().to_string(),
        &joins.to_string(),
        "4",
        "http",
    ])?;
    Ok(PeerResult {
        invitations_per_second: invitations.per_second,
        joins_per_second: rate_of_accepts(&accepted)?,
    })
}

/// The virtual environment's python, installing the peer's requirements (PyPI) the first time.
fn install(peer: &Path, work: &Path) -> anyhow::Result<PathBuf> {
    let python = work.join(".venv/bin/python");
    if python.exists() {
        return Ok(python);
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(work.join(".venv"))
        .status()?;
    if !status.success() {
        bail!("could not create the peer's virtual environment");
    }
    let status = Command::new(work.join(".venv/bin/pip"))
        .args(["install", "-q", "-r"])
        .arg(peer.join("requirements.txt"))
        .status()?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(work.join(".venv"));
        bail!("could not install the peer's requirements from PyPI");
    }
    Ok(python)
}

async fn wait_for(address: std::net::SocketAddr) -> anyhow::Result<()> {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("gunicorn did not start listening on {address}")
}

/// accept_http.py's last line: `accept_http: 200/200 accepted (...) in 4.1s = 48.6/s, ...`.
fn rate_of_accepts(output: &str) -> anyhow::Result<f64> {
    let line = output
        .lines()
        .find(|line| line.starts_with("accept_http:"))
        .with_context(|| format!("no result from accept_http.py: {output}"))?;
    let (accepted, total) = line
        .trim_start_matches("accept_http: ")
        .split_whitespace()
        .next()
        .and_then(|fraction| fraction.split_once('/'))
        .context("no accepted/total count")?;
    if accepted != total {
        bail!("the peer accepted only some invitations: {line}");
    }
    line.split("= ")
        .nth(1)
        .and_then(|rest| rest.split("/s").next())
        .and_then(|rate| rate.parse().ok())
        .with_context(|| format!("no rate in: {line}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_accept_rate() {
        let line = "accept_http: 200/200 accepted (accept link + signup form + POST password + home) in 4.11s = 48.6/s, concurrency 4";
        assert!((super::rate_of_accepts(line).unwrap() - 48.6).abs() < 1e-9);
        assert!(super::rate_of_accepts(&line.replace("200/200", "199/200")).is_err());
    }
}
