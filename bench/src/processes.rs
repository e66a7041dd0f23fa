//! The processes the benchmark starts: `onestop serve` (and `worker`), each on a free port with
//! its own data directory, stopped when dropped. Memory is read from `/proc/PID/status`.

use anyhow::{Context, bail};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on loopback (bound, then released for the child to take).
pub fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// How one server instance is configured.
#[derive(Debug, Clone)]
pub struct ServerSetup {
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub smtp_url: Option<String>,
}

impl ServerSetup {
    /// `onestop` with this setup's environment (and a public URL for `public`).
    pub fn command(&self, public: SocketAddr) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("ONESTOP_DATA_DIR", &self.data_dir)
            .env("ONESTOP_DATABASE_URL", &self.database_url)
            .env("ONESTOP_PUBLIC_URL", format!("http://{public}/"))
            .env("ONESTOP_LOG", "warn")
            // The benchmark invites far more people in an hour than the default caps allow.
            .env("ONESTOP_INVITATIONS_PER_HOUR", "10000000")
            .env("ONESTOP_INVITATIONS_PER_ADMINISTRATOR_PER_HOUR", "10000000");
        if let Some(smtp) = &self.smtp_url {
            command.env("ONESTOP_SMTP_URL", smtp);
        }
        command
    }

    /// Runs a command line of `onestop` to completion, with `stdin` as its input.
    pub fn run(&self, arguments: &[&str], stdin: &str) -> anyhow::Result<String> {
        use std::io::Write;
        let mut child = self
            .command(free_address()?)
            .args(arguments)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes())?;
        }
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!(
                "onestop {} failed: {}",
                arguments.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// A running `onestop serve`; killed when dropped.
pub struct Running {
    child: Child,
    pub address: SocketAddr,
    /// From spawn to `/readyz` answering 200.
    pub start_up: Duration,
}

impl Running {
    /// Starts `onestop serve` on a free port (public URL `public`, or its own address) and waits
    /// until `/readyz` answers 200.
    pub async fn serve(setup: &ServerSetup, public: Option<SocketAddr>) -> anyhow::Result<Self> {
        let address = free_address()?;
        let started = Instant::now();
        let child = setup
            .command(public.unwrap_or(address))
            .arg("serve")
            .env("ONESTOP_LISTEN", address.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting onestop serve")?;
        let mut running = Self {
            child,
            address,
            start_up: Duration::ZERO,
        };
        running.start_up = wait_ready(address, started).await?;
        Ok(running)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Resident memory now and at its peak, in MiB.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        memory_of(self.pid())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `onestop worker` (it listens on no port); killed when dropped.
pub struct Worker(Child);

impl Worker {
    pub fn start(setup: &ServerSetup) -> anyhow::Result<Self> {
        let child = setup
            .command(free_address()?)
            .arg("worker")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting onestop worker")?;
        Ok(Self(child))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_ready(address: SocketAddr, started: Instant) -> anyhow::Result<Duration> {
    let client = reqwest::Client::new();
    let url = format!("http://{address}/readyz");
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(response) = client.get(&url).send().await
            && response.status().is_success()
        {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bail!("the server at {address} was not ready within 60 s")
}

/// Resident set size, now and the most it ever was (`VmRSS`, `VmHWM`).
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub resident_mib: f64,
    pub peak_mib: f64,
}

pub fn memory_of(pid: u32) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    Ok(Memory {
        resident_mib: field("VmRSS:"),
        peak_mib: field("VmHWM:"),
    })
}

/// A fresh, empty directory under `parent`.
pub fn fresh_dir(parent: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let path = parent.join(name);
    if path.exists() {
        std::fs::remove_dir_all(&path)?;
    }
    std::fs::create_dir_all(&path)?;
    Ok(path)
}
