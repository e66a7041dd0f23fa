//! `onestop-bench`: the benchmark of PERFORMANCE.md in one command (`scripts/bench`). It seeds its
//! own organizations, starts `onestop serve` on free ports, drives it with wrk and with browsers
//! of its own for multi-step flows, measures the baselines in the same run (raw argon2, raw
//! commits through the same pool settings, `/healthz`), runs the Django peer, reads peak memory,
//! stops everything it started and prints one table.

mod balancer;
mod baselines;
mod browser;
mod flows;
mod peer;
mod processes;
mod profiler;
mod report;
mod scenarios;
mod seeding;
mod smtp_sink;
mod wrk;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "onestop-bench",
    about = "The 1Stop benchmark: one table, baselines in the same run"
)]
pub struct Args {
    /// A second or so a measurement, one small organization, no Django peer: CI's check that the
    /// benchmark still runs (its figures mean little).
    #[arg(long)]
    quick: bool,
    /// Also write the table, the date, the machine and the command as Markdown to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// The `onestop` binary to measure.
    #[arg(long, default_value = "target/release/onestop")]
    onestop: PathBuf,
    /// The Django peer's folder (skipped when it is missing, with a message).
    #[arg(long, default_value = "../shared/peers/django")]
    peer: PathBuf,
    /// A PostgreSQL database to measure the PostgreSQL rows and the scale-out on
    /// (`scripts/bench` starts a throwaway server and sets it).
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Where the benchmark keeps its data (emptied at the start) and the peer's environment.
    #[arg(long, default_value = "target/bench")]
    work: PathBuf,
}

/// How long and how much, full or quick.
#[derive(Debug, Clone)]
pub struct Settings {
    pub quick: bool,
    /// One wrk run.
    pub measure: Duration,
    /// Each raw argon2 baseline.
    pub argon2_window: Duration,
    /// Organization sizes for the Users page rows.
    pub sizes: Vec<usize>,
    pub joins: usize,
    pub sign_ins: usize,
    pub reinvited: usize,
}

impl Settings {
    fn of(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                measure: Duration::from_secs(1),
                argon2_window: Duration::from_millis(500),
                sizes: vec![1_000],
                joins: 8,
                sign_ins: 8,
                reinvited: 100,
            }
        } else {
            Self {
                quick,
                measure: Duration::from_secs(10),
                argon2_window: Duration::from_secs(4),
                sizes: vec![1_000, 10_000, 100_000],
                joins: 200,
                sign_ins: 200,
                reinvited: 1_000,
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match scenarios::run(&args, Settings::of(args.quick)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("onestop-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
