//! Driving the server with wrk (Debian's `wrk`), and reading its report.

use anyhow::{Context, bail};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    pub per_second: f64,
    pub p99: Duration,
}

/// A GET with the session cookie (when given).
const GET_SCRIPT: &str = r#"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
"#;

/// New User's Save, one new email address a request.
const NEW_USER_SCRIPT: &str = r#"
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  prefix = os.getenv("BENCH_PREFIX")
  fixed = "csrf_token=" .. os.getenv("BENCH_CSRF") .. "&profile_id=" .. os.getenv("BENCH_PROFILE")
    .. "&role_id=" .. os.getenv("BENCH_ROLE") .. "&first_name=New&last_name=Hire"
end
request = function()
  counter = counter + 1
  local body = fixed .. "&email=" .. prefix .. "t" .. tid .. "n" .. counter .. "%40bench.example"
  return wrk.format("POST", "/setup/users/new", nil, body)
end
"#;

/// What a wrk run sends.
pub enum Load<'a> {
    Get {
        cookie: Option<&'a str>,
    },
    NewUser(NewUserForm<'a>),
    /// Someone else's wrk script with its environment (the Django peer's).
    Script {
        path: &'a Path,
        environment: &'a [(&'a str, &'a str)],
    },
}

pub struct NewUserForm<'a> {
    pub cookie: &'a str,
    pub csrf: &'a str,
    pub profile_id: &'a str,
    pub role_id: &'a str,
    /// Makes the email addresses of this run unique.
    pub prefix: &'a str,
}

/// Runs wrk against `url` with `connections` for `duration`; fails when any answer was an error.
pub fn run(
    work: &Path,
    url: &str,
    load: &Load<'_>,
    connections: u32,
    duration: Duration,
) -> anyhow::Result<Throughput> {
    let mut script = work.join("wrk-script.lua");
    let mut command = Command::new("wrk");
    match load {
        Load::Script { path, environment } => {
            script = path.to_path_buf();
            command.envs(environment.iter().copied());
        }
        Load::Get { cookie } => {
            std::fs::write(&script, GET_SCRIPT)?;
            command.env("BENCH_COOKIE", cookie.unwrap_or(""));
        }
        Load::NewUser(form) => {
            std::fs::write(&script, NEW_USER_SCRIPT)?;
            command
                .env("BENCH_COOKIE", form.cookie)
                .env("BENCH_CSRF", form.csrf)
                .env("BENCH_PROFILE", form.profile_id)
                .env("BENCH_ROLE", form.role_id)
                .env("BENCH_PREFIX", form.prefix);
        }
    }
    let output = command
        .args(["-t2", "--latency", "--timeout", "30s"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("-s")
        .arg(&script)
        .arg(url)
        .output()
        .context("running wrk (install it: apt-get install wrk)")?;
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "wrk failed: {report}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse(&report)
}

/// Reads requests/s and the 99th percentile; refuses a run with error answers
/// or socket errors (a benchmark of error pages would mean nothing).
pub fn parse(report: &str) -> anyhow::Result<Throughput> {
    if let Some(line) = report
        .lines()
        .find(|line| line.contains("Non-2xx or 3xx responses") || line.contains("Socket errors"))
    {
        bail!("wrk saw failures ({}):\n{report}", line.trim());
    }
    let per_second = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|rest| rest.trim().parse::<f64>().ok())
        .with_context(|| format!("no Requests/sec in wrk's report:\n{report}"))?;
    let p99 = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .and_then(|rest| parse_duration(rest.trim()))
        .with_context(|| format!("no 99% latency in wrk's report:\n{report}"))?;
    Ok(Throughput { per_second, p99 })
}

/// wrk's latencies: `812.00us`, `4.31ms`, `1.20s`, `2.00m`.
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 1s test @ http://127.0.0.1:1/healthz
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.00us  100.00us   4.00ms   90.00%
  Latency Distribution
     50%  480.00us
     75%  520.00us
     90%  600.00us
     99%    1.25ms
  61234 requests in 1.00s, 8.00MB read
Requests/sec:  61234.56
Transfer/sec:      8.00MB
";

    #[test]
    fn reads_rate_and_percentile() {
        let measured = parse(REPORT).unwrap();
        assert!((measured.per_second - 61234.56).abs() < 0.01);
        assert_eq!(measured.p99, Duration::from_micros(1250));
    }

    #[test]
    fn a_run_with_error_answers_is_refused() {
        let failed = REPORT.replace(
            "Requests/sec",
            "  Non-2xx or 3xx responses: 12\nRequests/sec",
        );
        assert!(parse(&failed).is_err());
    }
}
