//! The test harness: the real application on a random port with a fresh database per test,
//! SQLite or PostgreSQL, and an HTTP client that keeps cookies like a browser.

use onestop_domain::{ManualClock, Timestamp};
use onestop_server::config::{LogFormat, Options};
use onestop_server::mail::transport::sender;
use onestop_server::mail::{Mailer, OutboxWorker};
use onestop_server::server::{Application, app_state, load_sealer, open_store};
use onestop_server::store::Store;
use onestop_server::tenancy::OrganizationScope;
use onestop_server::usecases::Services;
use onestop_server::usecases::create_organization::{OrganizationInput, create_organization};
use std::sync::Arc;
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named test function against SQLite and PostgreSQL: `name::sqlite`, `name::postgres`.
macro_rules! on_both_databases {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.unwrap();
                    super::$test(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                        super::$test(app).await;
                    }
                }
            }
        )*
    };
}
pub(crate) use on_both_databases;

/// Like [`on_both_databases`], for test functions that take the backend and start their own,
/// differently configured application.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test($crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$test($crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;

pub const ADMIN_PASSWORD: &str = "purple tractor lemonade";
pub const COMPANY: &str = "1Stop Install";
/// The password of users added with a custom profile.
pub const MEMBER_PASSWORD: &str = "quiet orange bicycle";

pub struct TestApp {
    pub address: String,
    /// The database the server uses (a SQLite file in `data_dir`, or a fresh PostgreSQL database).
    pub database_url: String,
    pub store: Store,
    pub services: Services,
    pub clock: Arc<ManualClock>,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// Sends queued email when the test says so (`deliver_emails`), not in the background.
    pub worker: OutboxWorker,
    pub data_dir: TempDir,
}

/// An organization with its Active administrator.
pub struct Organization {
    pub org_id: String,
    /// What store functions take: the operator's scope of this organization.
    pub scope: OrganizationScope,
    pub admin_id: String,
    pub admin_username: &'static str,
}

/// A fresh PostgreSQL database from `TEST_POSTGRES_URL`; `None` (with a loud message) when it is
/// not set outside CI; a failure in CI, where PostgreSQL tests must run.
pub async fn fresh_postgres_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("TEST_POSTGRES_URL is not set, and in CI the PostgreSQL tests must run");
        }
        eprintln!(
            "\n*** SKIPPED: PostgreSQL test; set TEST_POSTGRES_URL (see README) to run it ***\n"
        );
        return None;
    };
    let name = format!("onestop_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("TEST_POSTGRES_URL must accept connections");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("the test user must be allowed to create databases");
    admin.close().await;
    let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL must be a URL");
    url.set_path(&name);
    Some(url.to_string())
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, None).await
}

/// `public_url`: what the server believes its public address is (default: its own address).
pub async fn spawn_app_with(backend: Backend, public_url: Option<&str>) -> Option<TestApp> {
    spawn_app_with_mail(backend, public_url, None).await
}

/// `smtp_url`: where email goes (default: `.eml` files in the data directory).
pub async fn spawn_app_with_mail(
    backend: Backend,
    public_url: Option<&str>,
    smtp_url: Option<String>,
) -> Option<TestApp> {
    spawn_app_configured(backend, public_url, smtp_url, |_| {}).await
}

/// `configure` adjusts the services (limits, say) before the server starts.
pub async fn spawn_app_configured(
    backend: Backend,
    public_url: Option<&str>,
    smtp_url: Option<String>,
    configure: impl FnOnce(&mut Services),
) -> Option<TestApp> {
    spawn_app_with_options(
        backend,
        |options| {
            if let Some(public_url) = public_url {
                options.public_url = Some(public_url.to_owned());
            }
            options.smtp_url = smtp_url;
        },
        configure,
    )
    .await
}

/// An application whose public URL, and the address the tests open, is `http://localhost:PORT`:
/// WebAuthn needs a host name (Chromium refuses it on `127.0.0.1`), and the relying party id
/// follows the public URL.
pub async fn spawn_app_on_localhost(backend: Backend) -> Option<TestApp> {
    spawn_app_with_options(
        backend,
        |options| {
            options.public_url = Some(format!(
                "http://{}",
                options.listen.replace("127.0.0.1", "localhost")
            ));
        },
        |_| {},
    )
    .await
}

/// The most general form: `adjust` changes the options (trusted proxies, say) before they are
/// checked, `configure` the services before the server starts.
pub async fn spawn_app_with_options(
    backend: Backend,
    adjust: impl FnOnce(&mut Options),
    configure: impl FnOnce(&mut Services),
) -> Option<TestApp> {
    // A fixed, recent moment: tests move it forward explicitly.
    let start = Timestamp::from_unix_millis(1_795_752_000_000);
    let (app, config, listener) = prepare_app(backend, start, adjust, configure).await?;
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    let listener = tokio::net::TcpListener::from_std(listener).expect("the test listener");
    let application =
        Application::with_listener(listener, app_state(app.services.clone(), &config));
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    Some(app)
}

/// A [`TestApp`] for the real `onestop` binary: a data directory, a migrated database, the key
/// file and a free address, but no server in this process; start one with
/// [`TestApp::start_binary`] (and again after a crash). The binary runs on the real clock; the
/// test's clock starts two hours before it, so that what the test writes in-process (users,
/// invitations) is already past every cooldown and outside every hourly cap.
pub async fn app_for_binary(backend: Backend) -> Option<TestApp> {
    use onestop_domain::Clock;
    let start = onestop_domain::SystemClock
        .now()
        .minus(std::time::Duration::from_secs(2 * 60 * 60));
    // The binary binds the address itself, once this listener is gone.
    prepare_app(backend, start, |_| {}, |_| {})
        .await
        .map(|(app, _, _)| app)
}

/// Everything but the server: the data directory, the database, the services on a manual clock
/// starting at `start`, a client and a worker, and the bound listener of the configured address
/// (held, so that no concurrent test is given the same port before the server uses it).
async fn prepare_app(
    backend: Backend,
    start: Timestamp,
    adjust: impl FnOnce(&mut Options),
    configure: impl FnOnce(&mut Services),
) -> Option<(
    TestApp,
    onestop_server::config::Config,
    std::net::TcpListener,
)> {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let database_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", data_dir.path().join("onestop.db").display()),
        Backend::Postgres => fresh_postgres_database().await?,
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    let address = format!("http://127.0.0.1:{port}");
    let mut options = Options {
        listen: format!("127.0.0.1:{port}"),
        data_dir: data_dir.path().to_path_buf(),
        database_url: Some(database_url.clone()),
        public_url: Some(address.clone()),
        smtp_url: None,
        mail_from: Some(MAIL_FROM.into()),
        log: "warn".into(),
        log_format: LogFormat::Text,
        trusted_proxies: String::new(),
        secret_key: None,
        invitations_per_hour:
            onestop_server::usecases::invite_user::INVITATIONS_PER_ORGANIZATION_PER_HOUR,
        invitations_per_administrator_per_hour:
            onestop_server::usecases::invite_user::INVITATIONS_PER_ADMINISTRATOR_PER_HOUR,
        metrics_token: None,
        metrics_listen: None,
    };
    adjust(&mut options);
    // A public URL on localhost is also where the tests go (see `spawn_app_on_localhost`).
    let address = match options.public_url.as_deref() {
        Some(url) if url.starts_with("http://localhost:") => url.trim_end_matches('/').to_owned(),
        _ => address,
    };
    let config = options.check().expect("a valid test configuration");
    let store = open_store(&config).await.expect("the test database opens");
    let clock = Arc::new(ManualClock::starting_at(start));
    let sealer = load_sealer(&config).expect("the sealing key file is created");
    let mut services = Services::new(
        store.clone(),
        clock.clone(),
        config.public_url.clone(),
        sealer,
    )
    .expect("services");
    configure(&mut services);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let mailer = Arc::new(Mailer::from_config(&config).expect("a mailer"));
    let worker = OutboxWorker::new(services.clone(), mailer, sender(&config).expect("a sender"));
    let app = TestApp {
        address,
        database_url,
        store,
        services,
        clock,
        client,
        worker,
        data_dir,
    };
    Some((app, config, listener))
}

/// The sender of every test's email.
pub const MAIL_FROM: &str = "1Stop <no-reply@1stop.example.com>";

/// A port nobody listens on right now, for a server the test is about to start there. It is
/// taken from below the range the system gives outgoing connections (`ip_local_port_range`):
/// a port of that range can be taken by any client socket between this check and the server's
/// bind, and under the load of a whole test run that happens. The start is random (process id
/// and time), so that tests running side by side rarely try the same port.
pub fn free_port() -> u16 {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let last = ephemeral_low.saturating_sub(1).max(2048);
    let first = last.saturating_sub(12_000).max(1024);
    let span = u64::from(last - first) + 1;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| u64::from(since.subsec_nanos()));
    let start = (u64::from(std::process::id()) * 7919 + nanos) % span;
    (0..span)
        .map(|step| first + u16::try_from((start + step) % span).unwrap_or(0))
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port below the ephemeral range")
}

/// A port nobody answers on, held for the test: the socket is bound but never listens, so a
/// connection is refused at once, and no other test (or its server) can be given the same port
/// while this one counts on it being closed. `open` frees it for the server the test starts there.
pub struct ClosedPort {
    socket: tokio::net::TcpSocket,
    port: u16,
}

impl ClosedPort {
    pub fn reserve() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("a free port");
        let port = socket.local_addr().expect("an address").port();
        Self { socket, port }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Gives the port up, for a server the test is about to start on it.
    pub fn open(self) -> u16 {
        drop(self.socket);
        self.port
    }
}

/// The `onestop` binary cargo built for these tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_onestop");

/// `onestop serve` (or `worker`) in a process of its own. Standard output is read up to "1Stop is
/// running at" (a worker's is discarded); standard error, the log stream, is collected whole.
/// Dropped, the process is killed.
pub struct ServerProcess {
    child: std::process::Child,
    /// Every line printed on standard output up to "1Stop is running at".
    pub printed: Vec<String>,
    log: Arc<std::sync::Mutex<Vec<u8>>>,
    log_reader: Option<std::thread::JoinHandle<()>>,
}

/// Reads a child's standard error (its log) into a buffer on a thread of its own, so that the
/// child never blocks on a full pipe.
fn collect_log(
    child: &mut std::process::Child,
) -> (Arc<std::sync::Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    use std::io::Read;
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut stderr = child.stderr.take().expect("standard error is piped");
    let reader = {
        let log = log.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(read @ 1..) = stderr.read(&mut buffer) {
                log.lock()
                    .expect("the log")
                    .extend_from_slice(&buffer[..read]);
            }
        })
    };
    (log, reader)
}

impl ServerProcess {
    /// Runs `command` (an `onestop serve`) and waits until it says it is running (its listener is
    /// bound by then).
    pub fn start(mut command: std::process::Command) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the onestop binary starts");
        let (log, log_reader) = collect_log(&mut child);
        let mut server = Self {
            child,
            printed: Vec::new(),
            log,
            log_reader: Some(log_reader),
        };
        let stdout = server
            .child
            .stdout
            .take()
            .expect("standard output is piped");
        let mut lines = std::io::BufReader::new(stdout).lines();
        loop {
            let Some(Ok(line)) = lines.next() else {
                let log = server.kill();
                panic!("onestop serve ended before it was running; its log:\n{log}");
            };
            let running = line.contains("1Stop is running at");
            server.printed.push(line);
            if running {
                break;
            }
        }
        // Keep reading, so that the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        server
    }

    /// Runs `command` (an `onestop worker`, say) without waiting for anything on standard
    /// output, which is discarded; standard error, the log stream, is collected whole.
    pub fn start_quiet(mut command: std::process::Command) -> Self {
        let mut child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the onestop binary starts");
        let (log, log_reader) = collect_log(&mut child);
        Self {
            child,
            printed: Vec::new(),
            log,
            log_reader: Some(log_reader),
        }
    }

    /// The operating system's id of the process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first-run link it printed, if any.
    pub fn first_run_link(&self) -> Option<String> {
        self.printed
            .iter()
            .map(|line| line.trim())
            .find(|line| line.starts_with("http") && line.contains("/first-run/"))
            .map(str::to_owned)
    }

    /// The log so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().expect("the log")).into_owned()
    }

    /// SIGKILL: the process ends at once, wherever it is. Returns its whole log.
    pub fn kill(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.whole_log()
    }

    /// SIGTERM, as an operator stops it: it must finish and exit cleanly within 10 s. Returns its
    /// whole log.
    pub fn stop(&mut self) -> String {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM was delivered");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(exit) = self
                .child
                .try_wait()
                .expect("the process can be waited for")
            {
                let log = self.whole_log();
                assert!(
                    exit.success(),
                    "serve exits cleanly on SIGTERM: {exit:?}\n{log}"
                );
                return log;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "serve did not stop within 10 s of SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Once the process has ended: everything it wrote to standard error.
    fn whole_log(&mut self) -> String {
        if let Some(reader) = self.log_reader.take() {
            let _ = reader.join();
        }
        self.log()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl TestApp {
    /// Starts `onestop serve` on this app's address, data directory and database, with `env`
    /// (ONESTOP_* variables) besides; the environment is otherwise empty. The log level is `info`
    /// unless `env` sets ONESTOP_LOG.
    pub fn start_binary(&self, env: &[(&str, &str)]) -> ServerProcess {
        let mut command = std::process::Command::new(BINARY);
        command
            .arg("serve")
            .env_clear()
            .env("ONESTOP_DATA_DIR", self.data_dir.path())
            .env("ONESTOP_DATABASE_URL", &self.database_url)
            .env("ONESTOP_LISTEN", self.address.trim_start_matches("http://"))
            .env("ONESTOP_MAIL_FROM", MAIL_FROM)
            .env("ONESTOP_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        ServerProcess::start(command)
    }

    /// Starts `onestop worker` (the outbox worker alone) on this app's data directory (so its
    /// sealing key) and database, with `env` besides, at log level `info`.
    pub fn start_worker(&self, env: &[(&str, &str)]) -> ServerProcess {
        let mut command = std::process::Command::new(BINARY);
        command
            .arg("worker")
            .env_clear()
            .env("ONESTOP_DATA_DIR", self.data_dir.path())
            .env("ONESTOP_DATABASE_URL", &self.database_url)
            .env("ONESTOP_MAIL_FROM", MAIL_FROM)
            .env("ONESTOP_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        ServerProcess::start_quiet(command)
    }
}

impl TestApp {
    /// Every message to `recipient`, oldest first, with bodies and link opened as the worker
    /// would open them (in the database they are sealed).
    pub async fn emails_to(&self, recipient: &str) -> Vec<onestop_server::store::OutboxStatus> {
        let sealer = &self.services.sealer;
        self.store
            .emails_to(recipient)
            .await
            .expect("the outbox can be read")
            .into_iter()
            .map(|mut email| {
                email.body_text = sealer.open(&email.body_text).expect("the body opens");
                email.body_html = sealer.open(&email.body_html).expect("the body opens");
                email.action_url = email
                    .action_url
                    .map(|url| sealer.open(&url).expect("the link opens"));
                email
            })
            .collect()
    }
}

/// Polls `check` every `every` until it holds; fails saying `what` after `within`. For waiting
/// on something the code does in the background (a row written, a lock taken), never for
/// asserting that nothing happened.
pub async fn wait_until<F, Fut>(
    within: std::time::Duration,
    every: std::time::Duration,
    what: &str,
    mut check: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + within;
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} (waited {within:?})"
        );
        tokio::time::sleep(every).await;
    }
}

/// The operator's scope of an organization, for calling store functions directly.
pub fn scope(org_id: &str) -> OrganizationScope {
    OrganizationScope::operator(onestop_domain::OrganizationId::from_trusted(
        org_id.to_owned(),
    ))
}

/// The value of the hidden `csrf_token` field in a page.
pub fn csrf_token_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("the page has a csrf_token field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The value of a hidden field.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("the page has a {name} field"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The value of cookie `name` in a `Cookie` header value (`a=1; b=2`).
pub fn cookie_value(header: &str, name: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The value the response's `Set-Cookie` gives cookie `name`, if it sets it.
pub fn set_cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .cookies()
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("GET succeeds")
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("a body")
    }

    /// POSTs a form as a same-origin browser would (with an Origin header).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header(reqwest::header::ORIGIN, &self.address)
            .form(fields)
            .send()
            .await
            .expect("POST succeeds")
    }

    /// Creates an organization the way `onestop org create --admin-username` does.
    pub async fn create_organization(&self) -> Organization {
        self.create_organization_named(COMPANY, "ada", "ada@example.com")
            .await
    }

    pub async fn create_organization_named(
        &self,
        company: &str,
        username: &'static str,
        email: &str,
    ) -> Organization {
        let input = OrganizationInput {
            company_name: company.into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: email.into(),
            username: username.into(),
            password: ADMIN_PASSWORD.into(),
            ..OrganizationInput::default()
        };
        let summary = create_organization(&self.services, &input, None, None)
            .await
            .expect("the organization is created");
        Organization {
            scope: OrganizationScope::operator(summary.org_id.clone()),
            org_id: summary.org_id.to_string(),
            admin_id: summary.administrator_id.to_string(),
            admin_username: username,
        }
    }

    /// Signs in from `browser` (its own cookies) as a person would: the form, then the POST.
    pub async fn sign_in_with(
        &self,
        browser: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = browser
            .get(self.url("/login"))
            .send()
            .await
            .expect("GET /login")
            .text()
            .await
            .expect("a body");
        browser
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", csrf_token_in(&page).as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .expect("POST /login")
    }

    /// Opens the sign-in page and submits it.
    pub async fn sign_in(&self, username: &str, password: &str) -> reqwest::Response {
        let page = self.get_text("/login").await;
        let token = csrf_token_in(&page);
        self.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", username),
                ("password", password),
                ("next", ""),
            ],
        )
        .await
    }

    /// Opens the Terms page and clicks "I Agree".
    pub async fn agree_to_terms(&self) -> reqwest::Response {
        let page = self.get_text("/terms").await;
        assert!(
            page.contains("I Agree"),
            "the Terms page offers I Agree: {page}"
        );
        let token = csrf_token_in(&page);
        let version = hidden_field(&page, "version_id");
        self.post_form(
            "/terms/accept",
            &[("csrf_token", &token), ("version_id", &version)],
        )
        .await
    }

    /// Sam Standard: an Active user (`sam`, [`MEMBER_PASSWORD`]) with the Standard profile and
    /// the Manager role; their id.
    pub async fn add_sam(&self, org_id: &str) -> String {
        self.add_active_user(
            org_id,
            "standard",
            "manager",
            ("Sam", "Standard"),
            "sam",
            MEMBER_PASSWORD,
        )
        .await
    }

    /// Adds an Active user with a built-in profile and role; returns their id.
    pub async fn add_active_user(
        &self,
        org_id: &str,
        profile: &str,
        role: &str,
        name: (&str, &str),
        username: &str,
        password: &str,
    ) -> String {
        use onestop_domain::{
            EmailAddress, FirstName, LastName, Password, PersonalWords, Timestamp, Username,
        };
        let email = format!("{username}@example.com");
        let password =
            Password::choose(password, &PersonalWords::default()).expect("a good test password");
        let user = onestop_server::store::NewActiveUser {
            first_name: &FirstName::parse(name.0).unwrap(),
            last_name: &LastName::parse(name.1).unwrap(),
            email: &EmailAddress::parse(&email).unwrap(),
            username: &Username::parse(username).unwrap(),
            password_hash: self.services.hasher.hash(&password).await.unwrap(),
        };
        self.store
            .add_active_user(
                &scope(org_id),
                profile,
                role,
                &user,
                Timestamp::from_unix_millis(0),
            )
            .await
            .expect("the user is added")
    }

    /// `browser` opens the Terms page and clicks "I Agree".
    pub async fn agree_with(&self, browser: &reqwest::Client) -> reqwest::Response {
        let page = browser
            .get(self.url("/terms"))
            .send()
            .await
            .expect("GET /terms")
            .text()
            .await
            .expect("a body");
        assert!(
            page.contains("I Agree"),
            "the Terms page offers I Agree: {page}"
        );
        browser
            .post(self.url("/terms/accept"))
            .form(&[
                ("csrf_token", csrf_token_in(&page)),
                ("version_id", hidden_field(&page, "version_id")),
            ])
            .send()
            .await
            .expect("POST /terms/accept")
    }

    /// Signs in as the organization's administrator and agrees to the Terms.
    pub async fn sign_in_as_admin(&self, organization: &Organization) {
        let response = self
            .sign_in(organization.admin_username, ADMIN_PASSWORD)
            .await;
        assert_eq!(response.status().as_u16(), 303, "sign-in redirects");
        let response = self.agree_to_terms().await;
        assert_eq!(location(&response), "/");
    }

    /// The test clock's current time.
    pub fn now(&self) -> Timestamp {
        use onestop_domain::Clock;
        self.clock.now()
    }

    /// Waits (10 s at most) until the work that requests left running after they answered is done,
    /// such as the lookup behind "Forgot password?": what it wrote can then be read, and what
    /// it did not write will not appear later.
    pub async fn background_work_done(&self) {
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.services.background.all_done(),
        )
        .await
        .expect("the background work ends within 10 s");
    }

    /// Runs one pass of the outbox worker; returns how many messages it tried.
    pub async fn deliver_emails(&self) -> usize {
        self.worker
            .deliver_due()
            .await
            .expect("the outbox pass runs")
    }

    /// A new browser-like client: its own cookies, no redirects followed.
    pub fn new_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client")
    }

    /// A browser-like client (no redirects followed) whose cookie jar the test can read, and
    /// plant cookies into, as someone with access to the browser could.
    pub fn client_with_jar(&self) -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        (client, jar)
    }

    /// Puts a cookie for this server into `jar`, as a planted cookie would be.
    pub fn plant_cookie(&self, jar: &reqwest::cookie::Jar, name: &str, value: &str) {
        let url = reqwest::Url::parse(&self.address).expect("the address is a URL");
        jar.add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    }

    /// Every cookie `jar` sends to this server, as a `Cookie` header value (`a=1; b=2`).
    pub fn cookie_header(&self, jar: &reqwest::cookie::Jar) -> String {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(&self.address).expect("the address is a URL");
        jar.cookies(&url)
            .and_then(|value| value.to_str().ok().map(str::to_owned))
            .unwrap_or_default()
    }

    /// One text value from the database (`$1` bound to `argument`), e.g. a user's status.
    pub async fn text_value(&self, sql: &str, argument: &str) -> Option<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.store {
            Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
                sqlx::query_scalar(sql)
                    .bind(argument)
                    .fetch_optional(pool)
                    .await
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar(sql)
                    .bind(argument)
                    .fetch_optional(pool)
                    .await
            }
        }
        .expect("the query runs")
        .flatten()
    }

    /// One number from the database (`$1` bound to `argument`), e.g. a count.
    pub async fn number_value(&self, sql: &str, argument: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.store {
            Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
                sqlx::query_scalar(sql).bind(argument).fetch_one(pool).await
            }
            Store::Postgres(pool) => sqlx::query_scalar(sql).bind(argument).fetch_one(pool).await,
        }
        .expect("the query runs")
    }

    /// The id of the organization's profile named `name`.
    pub async fn profile_id(&self, org_id: &str, name: &str) -> String {
        let profiles = self.store.profiles(&scope(org_id)).await.expect("profiles");
        profiles
            .into_iter()
            .find(|profile| profile.name == name)
            .unwrap_or_else(|| panic!("a profile {name:?}"))
            .id
            .to_string()
    }

    /// The id of the organization's role named `name`.
    pub async fn role_id(&self, org_id: &str, name: &str) -> String {
        let roles = self.store.roles(&scope(org_id)).await.expect("roles");
        roles
            .into_iter()
            .find(|role| role.name == name)
            .unwrap_or_else(|| panic!("a role {name:?}"))
            .id
            .to_string()
    }

    /// A custom profile with `permissions`, and a new Active user in the built-in `role` ("ceo"
    /// or "manager") who holds it, with the password [`MEMBER_PASSWORD`]. Returns (profile id,
    /// user id).
    pub async fn add_user_with_profile(
        &self,
        org_id: &str,
        profile_name: &str,
        permissions: &[onestop_domain::Permission],
        role: &str,
        name: (&str, &str),
        username: &str,
    ) -> (String, String) {
        let permissions = permissions.iter().copied().collect();
        let profile_id = self
            .store
            .add_profile(
                &scope(org_id),
                profile_name,
                "",
                permissions,
                Timestamp::from_unix_millis(0),
            )
            .await
            .expect("the profile is added");
        let user_id = self
            .add_active_user(org_id, "standard", role, name, username, MEMBER_PASSWORD)
            .await;
        self.set_user_profile(&user_id, &profile_id).await;
        (profile_id, user_id)
    }

    /// Moves a user to another profile directly (set-up; Edit User is the product's way).
    pub async fn set_user_profile(&self, user_id: &str, profile_id: &str) {
        let sql = "UPDATE users SET profile_id = $1 WHERE id = $2";
        match &self.store {
            Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
                sqlx::query(sql)
                    .bind(profile_id)
                    .bind(user_id)
                    .execute(pool)
                    .await
                    .map(|_| ())
            }
            Store::Postgres(pool) => sqlx::query(sql)
                .bind(profile_id)
                .bind(user_id)
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .expect("the profile is set");
    }

    /// One number from a query without arguments, e.g. a count.
    pub async fn number(&self, sql: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.store {
            Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
                sqlx::query_scalar(sql).fetch_one(pool).await
            }
            Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .expect("the query runs")
    }

    /// The text values of a one-column query, e.g. the ids of many users.
    pub async fn text_values(&self, sql: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.store {
            Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
                sqlx::query_scalar(sql).fetch_all(pool).await
            }
            Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        }
        .expect("the query runs")
    }

    /// Runs one statement without arguments (set-up and time travel); returns the rows changed.
    pub async fn execute(&self, sql: &str) -> u64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.store {
            Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
                sqlx::query(sql)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected())
            }
            Store::Postgres(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
        }
        .expect("the statement runs")
    }

    /// Counts rows of a table (for "nothing was written" assertions).
    pub async fn count(&self, table: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        match &self.store {
            Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
                sqlx::query_scalar(sql).fetch_one(pool).await
            }
            Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .expect("the count query runs")
    }
}

/// What a bulk action's redirect carries to the Users list (the `web::flash` cookie), as the
/// list shows it: the summary, then the skipped users in `<ul class="skipped">`.
pub fn bulk_outcome_in(response: &reqwest::Response) -> Option<String> {
    let value = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .find_map(|cookie| {
            let (name, rest) = cookie.split_once('=')?;
            name.ends_with("onestop_notice")
                .then(|| rest.split(';').next().unwrap_or_default().to_owned())
        })?;
    // The cookie jar percent-encodes the value once more on its way (`=` among others).
    let value = percent_decoded(&value);
    let mut lines = Vec::new();
    for (name, value) in url::form_urlencoded::parse(value.as_bytes()) {
        match name.as_ref() {
            "line" => lines.push(value.into_owned()),
            "more" => lines.push(format!("…and {value} more.")),
            _ => {}
        }
    }
    let (summary, skipped) = lines.split_first()?;
    let list = if skipped.is_empty() {
        String::new()
    } else {
        let items: String = skipped
            .iter()
            .map(|line| format!("<li>{line}</li>"))
            .collect();
        format!("<ul class=\"skipped\">{items}</ul>")
    };
    Some(format!("<p class=\"outcome-summary\">{summary}</p>{list}"))
}

/// `%XX` sequences decoded, nothing else (a `+` stays a `+`).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `value` of the `<option>` whose text is `label` (after the indentation of a role).
pub fn option_value(html: &str, label: &str) -> String {
    let text = format!("{label}</option>");
    let end = html
        .match_indices(&text)
        .map(|(at, _)| at)
        .find(|at| html[..*at].trim_end_matches('\u{a0}').ends_with('>'))
        .unwrap_or_else(|| panic!("an option {label:?}"));
    let start = html[..end]
        .rfind("value=\"")
        .expect("the option has a value")
        + "value=\"".len();
    html[start..end]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Opens New User as the signed-in administrator and saves it.
pub async fn save_new_user(
    app: &TestApp,
    first: &str,
    last: &str,
    email: &str,
    profile: &str,
    role: &str,
) -> reqwest::Response {
    let form = app.get_text("/setup/users/new").await;
    let token = csrf_token_in(&form);
    let profile_id = option_value(&form, profile);
    let role_id = option_value(&form, role);
    app.post_form(
        "/setup/users/new",
        &[
            ("csrf_token", token.as_str()),
            ("first_name", first),
            ("last_name", last),
            ("email", email),
            ("profile_id", &profile_id),
            ("role_id", &role_id),
        ],
    )
    .await
}

/// Invites `count` people ("Crew Member0000"...) through the use case directly, as the
/// organization's administrator: the page would take that many round trips.
pub async fn invite_crew(
    app: &TestApp,
    organization: &Organization,
    count: usize,
) -> onestop_server::usecases::sessions::SignedInSession {
    use onestop_server::usecases::invite_user::{InviteInput, invite_user};
    use onestop_server::usecases::sessions::{resolve_session, start_session};
    let profiles = app
        .store
        .profiles(&organization.scope)
        .await
        .expect("profiles");
    let roles = app.store.roles(&organization.scope).await.expect("roles");
    let standard = profiles
        .iter()
        .find(|profile| profile.name == "Standard")
        .expect("Standard")
        .id
        .clone();
    let manager = roles
        .iter()
        .find(|role| role.name == "Manager")
        .expect("Manager")
        .id
        .clone();
    let tokens = start_session(
        &app.services,
        &onestop_domain::UserId::parse(&organization.admin_id).unwrap(),
        &onestop_domain::OrganizationId::from_trusted(organization.org_id.clone()),
        None,
        None,
        onestop_server::usecases::sessions::SecondStep::Done,
    )
    .await
    .expect("a session");
    let admin = resolve_session(&app.services, &tokens.session_token)
        .await
        .expect("resolves")
        .expect("live");
    for index in 0..count {
        let input = InviteInput {
            first_name: "Crew".into(),
            last_name: format!("Member{index:04}"),
            email: format!("crew{index}@example.com"),
            profile_id: standard.to_string(),
            role_id: manager.to_string(),
            personal_message: String::new(),
        };
        invite_user(&app.services, &admin, &input, None)
            .await
            .expect("invited");
    }
    admin
}

/// Counts the SQL statements this test process runs, from sqlx's own `sqlx::query` events (one
/// for each statement sqlx executes, on either backend), through a tracing subscriber installed
/// on first use. It costs the product nothing: the server under test emits these events anyway,
/// and only a test that asks installs something to receive them. It counts the whole process: it
/// is meant for a test that alone talks to its server, as under nextest (one process per test).
pub mod statements {
    use std::sync::{Mutex, OnceLock};
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    static SUMMARIES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static INSTALLED: OnceLock<()> = OnceLock::new();

    struct Counter;

    struct Summary(String);

    impl tracing::field::Visit for Summary {
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            if field.name() == "summary" {
                value.clone_into(&mut self.0);
            }
        }

        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "summary" {
                self.0 = format!("{value:?}");
            }
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Counter {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _context: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let mut summary = Summary(String::new());
            event.record(&mut summary);
            SUMMARIES.lock().unwrap().push(summary.0);
        }
    }

    /// Starts counting (once per process).
    fn install() {
        INSTALLED.get_or_init(|| {
            let layer = Counter.with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
                metadata.target() == "sqlx::query"
            }));
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
                .expect("no other tracing subscriber is installed in this test process");
        });
    }

    /// What `work` returned, and the statements run meanwhile (sqlx's summary of each: its first
    /// words).
    pub async fn run_by<T>(work: impl std::future::Future<Output = T>) -> (T, Vec<String>) {
        install();
        let from = SUMMARIES.lock().unwrap().len();
        let output = work.await;
        let summaries = SUMMARIES.lock().unwrap()[from..].to_vec();
        (output, summaries)
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshots: every row, field by field.

/// Which rows a snapshot reads.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every row of every table: with one company, a refused request must write nothing at all,
    /// not even a throttle counter.
    Everything,
    /// The rows one organization owns.
    Organization(&'a str),
}

/// The queries that read every row in a scope as text. The tables and their columns are read
/// from the database itself, so a new column is compared as soon as a migration adds it, and a
/// new table fails [`Snapshot::plan`] until it is placed in a scope.
pub struct Snapshot {
    /// (table, query returning one text per row)
    queries: Vec<(String, String)>,
    org_id: Option<String>,
}

/// The migrations' bookkeeping: no data of the application.
const NOT_DATA: &[&str] = &["_sqlx_migrations"];
/// Tables of the whole deployment rather than of one company.
const DEPLOYMENT_WIDE: &[&str] = &["first_run_codes", "throttle_counters"];

impl Snapshot {
    pub async fn plan(app: &TestApp, scope: Scope<'_>) -> Self {
        let tables = match &app.store {
            Store::Sqlite(_) => {
                texts(
                    app,
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                    None,
                )
                .await
            }
            Store::Postgres(_) => {
                texts(
                    app,
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
                    None,
                )
                .await
            }
        };
        assert!(
            tables.iter().any(|table| table == "users"),
            "the tables are found: {tables:?}"
        );
        let mut queries = Vec::new();
        for table in tables {
            if NOT_DATA.contains(&table.as_str()) {
                continue;
            }
            let columns = match &app.store {
                Store::Sqlite(_) => {
                    texts(
                        app,
                        "SELECT name FROM pragma_table_info($1) ORDER BY cid",
                        Some(&table),
                    )
                    .await
                }
                Store::Postgres(_) => {
                    texts(
                        app,
                        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                        Some(&table),
                    )
                    .await
                }
            };
            let filter = match scope {
                Scope::Everything => String::new(),
                Scope::Organization(_) if table == "organizations" => "WHERE id = $1".to_owned(),
                Scope::Organization(_) if columns.iter().any(|column| column == "org_id") => {
                    "WHERE org_id = $1".to_owned()
                }
                Scope::Organization(_) if table == "user_import_rows" => {
                    "WHERE import_id IN (SELECT id FROM user_imports WHERE org_id = $1)".to_owned()
                }
                // Two-step verification's rows of a user (migration 0016).
                Scope::Organization(_)
                    if [
                        "recovery_codes",
                        "remembered_browsers",
                        "webauthn_ceremonies",
                    ]
                    .contains(&table.as_str()) =>
                {
                    "WHERE user_id IN (SELECT id FROM users WHERE org_id = $1)".to_owned()
                }
                Scope::Organization(_) if table == "checklist_progress" => {
                    "WHERE user_id IN (SELECT id FROM users WHERE org_id = $1)".to_owned()
                }
                // The company's own counts, and those of its users as senders.
                Scope::Organization(_) if table == "invitation_counts" => {
                    "WHERE scope = 'org:' || $1 \
                        OR scope IN (SELECT 'sender:' || id FROM users WHERE org_id = $1)"
                        .to_owned()
                }
                Scope::Organization(_) if table == "api_idempotency_keys" => {
                    "WHERE token_id IN (SELECT id FROM api_tokens WHERE org_id = $1)".to_owned()
                }
                Scope::Organization(_) if DEPLOYMENT_WIDE.contains(&table.as_str()) => continue,
                Scope::Organization(_) => panic!(
                    "table {table} is new: say in helpers.rs whose rows it holds, so that snapshots compare them"
                ),
            };
            // `last_seen_at` is bookkeeping that any request may refresh (at most once a minute);
            // every other field of a session is compared.
            let fields: Vec<String> = columns
                .iter()
                .filter(|column| !(table == "sessions" && *column == "last_seen_at"))
                .map(|column| {
                    // Binary columns as hex: their bytes are not text.
                    let value = match (&app.store, table.as_str(), column.as_str()) {
                        (Store::Sqlite(_), "user_pictures", "image") => "hex(\"image\")".to_owned(),
                        (Store::Postgres(_), "user_pictures", "image") => {
                            "encode(\"image\", 'hex')".to_owned()
                        }
                        _ => format!("CAST(\"{column}\" AS TEXT)"),
                    };
                    format!("'{column}=' || COALESCE({value}, '(null)')")
                })
                .collect();
            let sql = format!(
                "SELECT {} FROM \"{table}\" {filter}",
                fields.join(" || ', ' || ")
            );
            queries.push((table, sql));
        }
        Self {
            queries,
            org_id: match scope {
                Scope::Everything => None,
                Scope::Organization(org_id) => Some(org_id.to_owned()),
            },
        }
    }

    /// Every row in scope, one line each (`table: column=value, ...`), sorted.
    pub async fn take(&self, app: &TestApp) -> Vec<String> {
        let mut rows = Vec::new();
        for (table, sql) in &self.queries {
            for row in texts(app, sql, self.org_id.as_deref()).await {
                rows.push(format!("{table}: {row}"));
            }
        }
        rows.sort();
        rows
    }
}

/// One text per row of `sql`, with `$1` bound to `argument` if given.
pub async fn texts(app: &TestApp, sql: &str, argument: Option<&str>) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let argument = argument.map(str::to_owned);
    match &app.store {
        Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
            let query = sqlx::query_scalar(sql);
            match argument {
                Some(argument) => query.bind(argument).fetch_all(pool).await,
                None => query.fetch_all(pool).await,
            }
        }
        Store::Postgres(pool) => {
            let query = sqlx::query_scalar(sql);
            match argument {
                Some(argument) => query.bind(argument).fetch_all(pool).await,
                None => query.fetch_all(pool).await,
            }
        }
    }
    .expect("the snapshot query runs")
}

/// Fails naming the rows that differ.
pub fn assert_unchanged(before: &[String], after: &[String], what: &str) {
    if before == after {
        return;
    }
    let gone: Vec<&String> = before.iter().filter(|row| !after.contains(row)).collect();
    let new: Vec<&String> = after.iter().filter(|row| !before.contains(row)).collect();
    panic!(
        "{what} changed the database.\nRows gone or changed: {gone:#?}\nRows new or changed: {new:#?}"
    );
}

/// `text` as the templates escape it (askama's HTML escaper).
pub fn html_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '<' => escaped.push_str("&#60;"),
            '>' => escaped.push_str("&#62;"),
            '&' => escaped.push_str("&#38;"),
            '"' => escaped.push_str("&#34;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// What the server wrote back on a raw connection.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// The status line, the headers and the body, as received.
    pub text: String,
    /// From connecting to the end of the answer.
    pub elapsed: std::time::Duration,
}

impl TestApp {
    /// Sends `head` (the request line and headers, without the blank line) and then `body` on a
    /// new connection, in one write, and reads the answer until the server closes the
    /// connection. The body may be only the start of what `Content-Length` declares: a server
    /// that waits for the rest gets no more, and this fails after 10 s. A reset after the answer
    /// arrived does not matter; a reset before any answer fails.
    pub async fn raw_request(&self, head: &str, body: &[u8]) -> RawResponse {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let started = std::time::Instant::now();
        let mut stream = tokio::net::TcpStream::connect(self.address.trim_start_matches("http://"))
            .await
            .expect("the server accepts connections");
        let mut request = format!("{head}\r\n\r\n").into_bytes();
        request.extend_from_slice(body);
        stream
            .write_all(&request)
            .await
            .expect("the request is written");
        let mut received = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut buffer = [0u8; 8192];
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) => break,
                    Ok(count) => received.extend_from_slice(&buffer[..count]),
                    // A reset after the answer: what arrived before it is kept.
                    Err(error) => {
                        assert!(!received.is_empty(), "reset before any answer: {error}");
                        break;
                    }
                }
            }
        })
        .await;
        let elapsed = started.elapsed();
        let text = String::from_utf8_lossy(&received).into_owned();
        assert!(
            read.is_ok(),
            "no complete answer within 10 s (the server waited for the rest of the body?); got {text:?}"
        );
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("an HTTP status line: {text:?}"));
        RawResponse {
            status,
            text,
            elapsed,
        }
    }

    /// Every email the worker has written as an `.eml` file so far (no SMTP server configured).
    pub fn delivered_emails(&self) -> Vec<crate::smtp::ReceivedEmail> {
        let directory = self.data_dir.path().join("mail");
        let mut files: Vec<_> = std::fs::read_dir(directory)
            .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter(|file| file.extension().is_some_and(|extension| extension == "eml"))
            .map(|file| crate::smtp::ReceivedEmail::parse(&std::fs::read(file).unwrap()))
            .collect()
    }

    /// Opens New User as the signed-in administrator, saves it, and returns the Join Now link of
    /// the invitation it queued.
    pub async fn invite(&self, first: &str, last: &str, email: &str) -> String {
        let response = save_new_user(self, first, last, email, "Standard", "Manager").await;
        assert_eq!(
            response.status().as_u16(),
            303,
            "{first} {last} is invited: {}",
            response.text().await.unwrap_or_default()
        );
        self.emails_to(email)
            .await
            .last()
            .and_then(|email| email.action_url.clone())
            .expect("an email with a link is queued")
    }

    /// The counts of the tables a refused request must leave alone.
    pub async fn written_rows(&self) -> Vec<(&'static str, i64)> {
        let mut counts = Vec::new();
        for table in [
            "organizations",
            "users",
            "invitations",
            "outbox",
            "sessions",
            "audit_events",
            "throttle_counters",
            "terms_acceptances",
        ] {
            counts.push((table, self.count(table).await));
        }
        counts
    }
}

/// A `width`×`height` PNG, left half red and right half blue (made here, not committed).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    encoded_image(width, height, image::ImageFormat::Png)
}

/// A `width`×`height` image in `format`, left half red and right half blue.
pub fn encoded_image(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgb([200, 30, 30])
        } else {
            image::Rgb([30, 30, 200])
        }
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .expect("the test image is encoded");
    bytes
}

/// Sends a picture upload form from `browser` as a same-origin browser would: `multipart/form-data`
/// with the token (if any) first and the file `bytes` as `picture`, named `file_name` and typed
/// `content_type` as the browser says.
pub async fn upload_picture(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    token: Option<&str>,
    (bytes, file_name, content_type): (Vec<u8>, &str, &str),
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    if let Some(token) = token {
        form = form.text("csrf_token", token.to_owned());
    }
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(file_name.to_owned())
        .mime_str(content_type)
        .expect("a media type");
    browser
        .post(app.url(path))
        .header(reqwest::header::ORIGIN, &app.address)
        .multipart(form.part("picture", part))
        .send()
        .await
        .expect("the upload is answered")
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut checked = kind.to_vec();
    checked.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&checked).to_be_bytes());
    chunk
}

/// A PNG of a few hundred bytes whose header declares 60000×60000 RGBA pixels (14 GB decoded),
/// with a little compressed data of zeros: a decompression bomb.
pub fn decompression_bomb() -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&60_000u32.to_be_bytes());
    header.extend_from_slice(&60_000u32.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    // A stored (uncompressed) zlib block of 256 zero bytes.
    let mut zlib = vec![0x78, 0x01, 0x01, 0x00, 0x01, 0xFF, 0xFE];
    zlib.extend_from_slice(&[0u8; 256]);
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    bomb.extend(png_chunk(b"IHDR", &header));
    bomb.extend(png_chunk(b"IDAT", &zlib));
    bomb.extend(png_chunk(b"IEND", &[]));
    bomb
}
