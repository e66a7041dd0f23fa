//! The run: baselines, then every target of PERFORMANCE.md on SQLite and (when given) PostgreSQL,
//! the Django peer, and the scale-out on PostgreSQL; one table at the end.

use crate::balancer::Balancer;
use crate::browser::{Browser, hidden, option_value};
use crate::processes::{Running, ServerSetup, Worker, fresh_dir};
use crate::profiler::Profile;
use crate::report::{Row, Verdict, rate};
use crate::seeding::{PASSWORD, SeededOrganization};
use crate::smtp_sink::SmtpSink;
use crate::wrk::{self, Load, NewUserForm, Throughput};
use crate::{Args, Settings, baselines, flows, peer};
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Figures later rows compare with.
struct Figures {
    joins: f64,
    new_users: f64,
}

/// What every measurement of one run shares.
struct Bench<'a> {
    args: &'a Args,
    settings: Settings,
    work: PathBuf,
    sink: SmtpSink,
    rows: Vec<Row>,
}

pub async fn run(args: &Args, settings: Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    if !args.onestop.exists() {
        bail!(
            "{} does not exist: build it first (scripts/bench does)",
            args.onestop.display()
        );
    }
    std::fs::create_dir_all(&args.work)?;
    let work = fresh_dir(&args.work, "run")?;
    let mut bench = Bench {
        args,
        settings,
        work,
        sink: SmtpSink::start().await?,
        rows: Vec::new(),
    };

    let outcome = bench.measure_everything().await;
    if let Err(error) = &outcome {
        eprintln!("!! the run stopped: {error:#}\nThe rows measured so far:");
    }

    let table = crate::report::plain(&bench.rows);
    println!("\n{table}");
    println!(
        "{} rows, {} targets missed; {:.0} s in all{}",
        bench.rows.len(),
        bench
            .rows
            .iter()
            .filter(|row| row.verdict == Verdict::Missed)
            .count(),
        started.elapsed().as_secs_f64(),
        if bench.settings.quick {
            " (quick mode: the figures only show that the benchmark runs)"
        } else {
            ""
        }
    );
    if let Some(path) = &args.report {
        let generated = markdown_report(&bench.rows, args, started.elapsed());
        let existing = std::fs::read_to_string(path).unwrap_or_default();
        std::fs::write(path, splice_generated(&existing, &generated))?;
        println!("Wrote the table into {}", path.display());
    }
    outcome
}

impl Bench<'_> {
    async fn measure_everything(&mut self) -> anyhow::Result<()> {
        let sqlite_url = format!("sqlite://{}", self.work.join("sqlite/onestop.db").display());
        let ours = self.measure_backend("SQLite", &sqlite_url).await?;
        self.compare_with_peer(&ours).await;
        if let Some(postgres) = self.args.postgres.clone() {
            self.measure_backend("PostgreSQL", &postgres).await?;
            self.scale_out(&postgres).await?;
        } else {
            eprintln!(
                "!! no PostgreSQL given (BENCH_POSTGRES_URL): the PostgreSQL rows are left out"
            );
        }
        Ok(())
    }

    fn setup(&self, database_url: &str, data_dir: PathBuf) -> ServerSetup {
        ServerSetup {
            binary: self.args.onestop.clone(),
            data_dir,
            database_url: database_url.to_owned(),
            smtp_url: Some(self.sink.url()),
        }
    }

    fn wrk(&self, url: &str, load: &Load<'_>, connections: u32) -> anyhow::Result<Throughput> {
        wrk::run(&self.work, url, load, connections, self.settings.measure)
    }

    /// B1-B7 on one database.
    async fn measure_backend(
        &mut self,
        label: &str,
        database_url: &str,
    ) -> anyhow::Result<Figures> {
        let data_dir = fresh_dir(&self.work, &label.to_lowercase())?;
        let setup = self.setup(database_url, data_dir.clone());
        let mut organizations = Vec::new();
        for &size in &self.settings.sizes.clone() {
            eprintln!("== {label}: seeding an organization of {size} users");
            let organization = crate::seeding::seed(&setup, &data_dir, size)?;
            self.rows.push(Row::info(
                "",
                &format!("seed an organization of {size} users ({label})"),
                format!("{:.1} s", organization.took.as_secs_f64()),
                String::new(),
            ));
            organizations.push(organization);
        }
        let (smallest, largest) = match (organizations.first(), organizations.last()) {
            (Some(smallest), Some(largest)) => (smallest, largest),
            _ => bail!("no organization sizes to measure"),
        };

        eprintln!("== {label}: raw single-row commits through the server's pool settings");
        let commits_url = match label {
            "SQLite" => format!("sqlite://{}", data_dir.join("baseline.db").display()),
            _ => database_url.to_owned(),
        };
        let commits = baselines::commits_per_second(&commits_url, 8, self.settings.measure).await?;

        // Start-up: the median of three starts on the existing database (the first one right
        // after seeding may share the machine with PostgreSQL's autovacuum).
        let mut start_ups = Vec::new();
        for _ in 0..2 {
            start_ups.push(Running::serve(&setup, None).await?.start_up);
        }
        let server = Running::serve(&setup, None).await?;
        start_ups.push(server.start_up);
        start_ups.sort();
        let idle = server.memory()?;
        let total: usize = organizations.iter().map(|org| org.size + 1).sum();
        self.rows.push(Row::at_most(
            "B7",
            &format!("start-up to /readyz = 200, median of 3 ({label}, {total} users)"),
            start_ups[1].as_secs_f64() * 1000.0,
            "ms",
            150.0,
        ));
        let base = server.url("");
        let healthz = self.wrk(&server.url("/healthz"), &Load::Get { cookie: None }, 32)?;
        self.rows.push(Row::info(
            "",
            &format!("/healthz, 32 connections ({label})"),
            format!("{}/s", rate(healthz.per_second)),
            String::new(),
        ));

        let mut page_rates = Vec::new();
        for organization in &organizations {
            eprintln!(
                "== {label}: Users page, Unconfirmed, {} users",
                organization.size
            );
            let profile = Profile::start(&format!(
                "{}-users-page-{}",
                label.to_lowercase(),
                organization.size
            ));
            let measured = self.users_page(&base, organization).await?;
            drop(profile);
            page_rates.push(measured.per_second);
            self.rows.push(users_page_row(
                label,
                organization.size,
                measured,
                healthz.per_second,
            ));
        }
        if let (Some(first), Some(last)) = (page_rates.first(), page_rates.last())
            && organizations.len() > 1
        {
            self.rows.push(Row::rate_against(
                "B4",
                &format!(
                    "Users page flat with size: {} users against {} ({label})",
                    largest.size, smallest.size
                ),
                *last,
                &format!("{} users", smallest.size),
                *first,
                0.85,
            ));
        }

        eprintln!("== {label}: New User Save, 8 connections");
        let profile = Profile::start(&format!("{}-new-user", label.to_lowercase()));
        let new_users = self
            .new_user(&base, smallest, &format!("{}nu", label.to_lowercase()))
            .await?;
        drop(profile);
        self.rows.push(Row::rate_against(
            "B3",
            &format!("New User Save, 8 connections ({label})"),
            new_users.per_second,
            "raw commits",
            commits,
            0.5,
        ));

        let hash_rate = self.raw_argon2(false);
        eprintln!("== {label}: joins, concurrency 4");
        let joins = self.settings.joins;
        let small_links = smallest.join_links(&base, 0..joins.min(smallest.unconfirmed.len()));
        let profile = Profile::start(&format!("{}-joins", label.to_lowercase()));
        let join_rate =
            flows::joins(&base, small_links, &format!("{}s", label.to_lowercase())).await?;
        drop(profile);
        self.rows.push(Row::rate_against(
            "B1",
            &format!(
                "join flow, concurrency 4, {} users ({label})",
                smallest.size
            ),
            join_rate,
            "raw hash",
            hash_rate,
            0.85,
        ));
        let offset = if organizations.len() > 1 { 0 } else { joins };
        let large_links = largest.join_links(&base, offset..offset + joins);
        let large_rate =
            flows::joins(&base, large_links, &format!("{}l", label.to_lowercase())).await?;
        self.rows.push(Row::rate_against(
            "B1",
            &format!("join flow, concurrency 4, {} users ({label})", largest.size),
            large_rate,
            "raw hash",
            hash_rate,
            0.85,
        ));

        let verify_rate = self.raw_argon2(true);
        eprintln!("== {label}: sign-in, concurrency 4");
        let usernames: Vec<String> = largest
            .active
            .iter()
            .take(self.settings.sign_ins)
            .cloned()
            .collect();
        let profile = Profile::start(&format!("{}-sign-ins", label.to_lowercase()));
        let sign_in_rate = flows::sign_ins(&base, usernames).await?;
        drop(profile);
        self.rows.push(Row::rate_against(
            "B2",
            &format!("sign-in, concurrency 4 ({label})"),
            sign_in_rate,
            "raw verify",
            verify_rate,
            0.85,
        ));

        self.bulk_reinvite(label, &base, largest).await?;

        let peak = server.memory()?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = server.memory()?;
        self.rows.push(Row::at_most(
            "B6",
            &format!("idle memory after start ({label})"),
            idle.resident_mib,
            "MiB",
            25.0,
        ));
        self.rows.push(Row::at_most(
            "B6",
            &format!("peak memory across B1-B5 ({label})"),
            peak.peak_mib,
            "MiB",
            150.0,
        ));
        self.rows.push(Row::info(
            "B6",
            &format!("memory held when idle again ({label})"),
            format!("{:.1} MiB", after.resident_mib),
            String::new(),
        ));
        Ok(Figures {
            joins: join_rate,
            new_users: new_users.per_second,
        })
    }

    /// Raw argon2 on every core, measured right before the flow it bounds (the machine may be
    /// busier or quieter a minute later).
    fn raw_argon2(&mut self, verify: bool) -> f64 {
        let what = if verify { "verify" } else { "hash" };
        eprintln!("== raw argon2id {what} on every core");
        let measured = baselines::argon2_per_second(verify, self.settings.argon2_window);
        self.rows.push(Row::info(
            "",
            &format!("raw argon2id {what}, every core"),
            format!("{}/s", rate(measured)),
            String::new(),
        ));
        measured
    }

    /// The Unconfirmed view at 32 connections, after checking once that it shows a full page.
    async fn users_page(
        &self,
        base: &str,
        organization: &SeededOrganization,
    ) -> anyhow::Result<Throughput> {
        let admin = Browser::new(base)?;
        admin
            .sign_in(&organization.admin_username, PASSWORD)
            .await?;
        let path = "/setup/users?view=unconfirmed";
        let page = admin.get(path).await?;
        let rows = page.body.matches("name=\"ids\"").count();
        if page.status != 200 || rows != organization.unconfirmed.len().min(50) {
            bail!(
                "the Users page showed {rows} rows ({}), expected a full page",
                page.status
            );
        }
        let cookie = admin.cookie_header()?;
        self.wrk(
            &format!("{base}{path}"),
            &Load::Get {
                cookie: Some(&cookie),
            },
            32,
        )
    }

    /// New User's Save at 8 connections, each request a new person.
    async fn new_user(
        &self,
        base: &str,
        organization: &SeededOrganization,
        prefix: &str,
    ) -> anyhow::Result<Throughput> {
        let admin = Browser::new(base)?;
        admin
            .sign_in(&organization.admin_username, PASSWORD)
            .await?;
        let form = admin.get("/setup/users/new").await?;
        let csrf = hidden(&form.body, "csrf_token")?;
        let profile_id = option_value(&form.body, "profile_id", "Standard")?;
        let role_id = option_value(&form.body, "role_id", "Manager")?;
        let cookie = admin.cookie_header()?;
        let load = Load::NewUser(NewUserForm {
            cookie: &cookie,
            csrf: &csrf,
            profile_id: &profile_id,
            role_id: &role_id,
            prefix,
        });
        self.wrk(base, &load, 8)
    }

    /// B5: one bulk Reinvite, then the outbox drained to the SMTP sink.
    async fn bulk_reinvite(
        &mut self,
        label: &str,
        base: &str,
        organization: &SeededOrganization,
    ) -> anyhow::Result<()> {
        let count = self
            .settings
            .reinvited
            .min(organization.unconfirmed.len() / 2);
        eprintln!("== {label}: bulk Reinvite of {count}, then the outbox to SMTP");
        self.settle_outbox().await;
        let admin = Browser::new(base)?;
        admin
            .sign_in(&organization.admin_username, PASSWORD)
            .await?;
        let ids: Vec<String> = organization.unconfirmed[organization.unconfirmed.len() - count..]
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        let before = self.sink.received();
        let took = flows::bulk_reinvite(&admin, &ids).await?;
        self.rows.push(Row::at_most(
            "B5",
            &format!(
                "bulk Reinvite of {count} selected users, {} users ({label})",
                organization.size
            ),
            took.as_secs_f64() * 1000.0,
            "ms",
            1000.0,
        ));
        let started = Instant::now();
        let deadline = Duration::from_secs(if self.settings.quick { 30 } else { 120 });
        while self.sink.received() < before + count as u64 && started.elapsed() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let sent = self.sink.received() - before;
        self.rows.push(Row::at_least(
            "B5",
            &format!("outbox to a local SMTP server after the Reinvite ({label})"),
            sent as f64 / started.elapsed().as_secs_f64(),
            "msg/s",
            300.0,
        ));
        Ok(())
    }

    /// Waits until the SMTP sink has received nothing new for a second (at most a minute), so
    /// that one measurement's emails do not count in the next.
    async fn settle_outbox(&self) {
        let started = Instant::now();
        let mut last = self.sink.received();
        while started.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.sink.received();
            if now == last {
                return;
            }
            last = now;
        }
    }

    /// The join flow and New User against the Django peer, measured right after ours.
    async fn compare_with_peer(&mut self, ours: &Figures) {
        if self.settings.quick {
            return;
        }
        if !self.args.peer.join("peer/manage.py").exists() {
            eprintln!(
                "!! the Django peer is not at {}: its rows are left out",
                self.args.peer.display()
            );
            return;
        }
        eprintln!(
            "== the Django peer (installs into {} the first time)",
            self.args.work.display()
        );
        let peer_work = self.args.work.join("peer");
        let measured = match std::fs::create_dir_all(&peer_work) {
            Ok(()) => {
                peer::measure(
                    &self.args.peer,
                    &peer_work,
                    self.settings.measure,
                    self.settings.joins,
                )
                .await
            }
            Err(error) => Err(error.into()),
        };
        match measured {
            Ok(peer) => {
                self.rows.push(Row::rate_against(
                    "B1",
                    "join flow against the Django peer, concurrency 4 (SQLite)",
                    ours.joins,
                    "Django",
                    peer.joins_per_second,
                    1.0,
                ));
                self.rows.push(Row::rate_against(
                    "B3",
                    "New User against the Django peer's invitations (SQLite)",
                    ours.new_users,
                    "Django",
                    peer.invitations_per_second,
                    10.0,
                ));
            }
            Err(error) => {
                eprintln!("!! the Django peer could not be measured: {error:#}");
                self.rows.push(Row::info(
                    "",
                    "Django peer",
                    "not measured".into(),
                    format!("{error}"),
                ));
            }
        }
    }

    /// Two `serve` instances and one `worker` on one PostgreSQL behind a round-robin balancer,
    /// against one instance behind the same balancer.
    async fn scale_out(&mut self, database_url: &str) -> anyhow::Result<()> {
        eprintln!("== PostgreSQL: scale-out, one instance then two behind a balancer");
        let data_dir = self.work.join("postgresql");
        let setup = self.setup(database_url, data_dir.clone());
        let size = *self.settings.sizes.last().context("no sizes")?;
        let organization = crate::seeding::seed(&setup, &data_dir, size + 1)?;
        let first = Running::serve(&setup, None).await?;
        let second = Running::serve(&setup, None).await?;
        let _worker = Worker::start(&setup)?;
        let one = Balancer::start(vec![first.address]).await?;
        let two = Balancer::start(vec![first.address, second.address]).await?;
        let mut figures = Vec::new();
        for (instances, balancer) in [(1, &one), (2, &two)] {
            let base = format!("http://{}", balancer.address);
            let page = self.users_page(&base, &organization).await?.per_second;
            let new_users = self
                .new_user(&base, &organization, &format!("scale{instances}"))
                .await?
                .per_second;
            let joins = self.settings.joins;
            let links = organization.join_links(&base, (instances - 1) * joins..instances * joins);
            let join_rate = flows::joins(&base, links, &format!("scale{instances}")).await?;
            let usernames: Vec<String> = organization
                .active
                .iter()
                .skip((instances - 1) * 50)
                .take(self.settings.sign_ins)
                .cloned()
                .collect();
            let sign_in_rate = flows::sign_ins(&base, usernames).await?;
            figures.push([join_rate, sign_in_rate, new_users, page]);
        }
        let names = [
            "B1 joins",
            "B2 sign-ins",
            "B3 New User",
            "B4 Users page, Unconfirmed",
        ];
        for (index, name) in names.iter().enumerate() {
            let (single, double) = (figures[0][index], figures[1][index]);
            self.rows.push(Row::info(
                "scale",
                &format!("{name}: two instances against one (PostgreSQL)"),
                format!("{}/s ({:.2} ×)", rate(double), double / single),
                format!("one instance {}/s", rate(single)),
            ));
        }
        self.settle_outbox().await;
        let duplicates = self.sink.duplicates("scale");
        self.rows.push(Row {
            id: "scale".into(),
            operation: "every New User email sent once (two instances and a worker)".into(),
            ours: format!("{duplicates} sent twice"),
            baseline: String::new(),
            ratio: String::new(),
            target: "0".into(),
            verdict: if duplicates == 0 {
                Verdict::Met
            } else {
                Verdict::Missed
            },
        });
        Ok(())
    }
}

/// B4: the rate against `/healthz`, and the 99th percentile.
fn users_page_row(label: &str, size: usize, measured: Throughput, healthz: f64) -> Row {
    let mut row = Row::rate_against(
        "B4",
        &format!("Users page, Unconfirmed, {size} users, 32 connections ({label})"),
        measured.per_second,
        "/healthz",
        healthz,
        0.3,
    );
    let p99_ms = measured.p99.as_secs_f64() * 1000.0;
    row.ours = format!("{}, p99 {p99_ms:.1} ms", row.ours);
    row.target = format!("{}, p99 ≤ 25 ms", row.target);
    if p99_ms > 25.0 {
        row.verdict = Verdict::Missed;
    }
    row
}

const GENERATED_START: &str = "<!-- generated by scripts/bench: start -->";
const GENERATED_END: &str = "<!-- generated by scripts/bench: end -->";

/// `existing` with the part between the markers replaced by `generated` (the written analysis
/// around it stays); the whole file when there are no markers yet.
fn splice_generated(existing: &str, generated: &str) -> String {
    let block = format!("{GENERATED_START}\n{generated}{GENERATED_END}");
    match (existing.find(GENERATED_START), existing.find(GENERATED_END)) {
        (Some(start), Some(end)) if start < end => format!(
            "{}{block}{}",
            &existing[..start],
            &existing[end + GENERATED_END.len()..]
        ),
        _ => format!("# Benchmarks\n\n{block}\n"),
    }
}

fn markdown_report(rows: &[Row], args: &Args, took: Duration) -> String {
    let date = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name")
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let command = if args.quick {
        "scripts/bench --quick"
    } else {
        "scripts/bench"
    };
    let build = if args.quick { "debug" } else { "release" };
    format!(
        "Generated by `{command}` on {date}: {cores} cores ({cpu}), {build} build, {:.0} s.\n\n{}",
        took.as_secs_f64(),
        crate::report::markdown(rows)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_replaced_and_the_analysis_kept() {
        let first = splice_generated("", "table one\n");
        assert!(first.contains("table one"));
        let edited = first.replace(GENERATED_END, &format!("{GENERATED_END}\n\n## Analysis"));
        let second = splice_generated(&edited, "table two\n");
        assert!(second.contains("table two") && !second.contains("table one"));
        assert!(second.ends_with("## Analysis\n"));
    }
}
