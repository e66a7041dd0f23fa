//! Putting the parts together: logging, the application (router + listener), `serve`.

use crate::config::{Config, LogFormat};
use crate::mail::transport::{build_message, sender};
use crate::mail::{Mailer, OutboxWorker};
use crate::passwords::PasswordHasher;
use crate::sealing::{Sealer, SealingKey};
use crate::store::{self, Store};
use crate::usecases::Services;
use crate::usecases::first_run::issue_first_run_code;
use crate::web::{AppState, WebSettings, router};
use anyhow::Context;
use axum::Router;
use onestop_domain::{Clock, SystemClock};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_subscriber::EnvFilter;

/// Logs go to standard error, so that standard output carries only what a command prints.
pub fn init_logging(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

impl Services {
    /// Hashing runs on as many threads as there are cores, and no more.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        public_url: url::Url,
        sealer: Sealer,
    ) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            store,
            clock,
            hasher: PasswordHasher::new(cores)?,
            outbox_signal: Arc::new(tokio::sync::Notify::new()),
            import_signal: Arc::new(tokio::sync::Notify::new()),
            background: crate::usecases::BackgroundTasks::default(),
            public_url,
            reinvite_limits: crate::usecases::manage_users::ReinviteLimits::default(),
            mail_health: crate::mail::MailHealth::default(),
            sealer,
        })
    }

    /// The services of `serve` and `worker`: the system clock and the configured sealing key.
    /// Outbox rows written in clear by an older version are sealed before anything else runs.
    pub async fn start(store: Store, config: &Config) -> anyhow::Result<Self> {
        let sealer = load_sealer(config)?;
        let sealed = store.seal_plain_outbox_rows(&sealer).await?;
        if sealed > 0 {
            tracing::info!(sealed, "sealed outbox messages written by an older version");
        }
        let mut services = Self::new(
            store,
            Arc::new(SystemClock),
            config.public_url.clone(),
            sealer,
        )?;
        services.reinvite_limits = config.invitation_limits;
        Ok(services)
    }
}

/// The sealing key: ONESTOP_SECRET_KEY, or the key file in the data directory (created at first
/// start). Back the key file up with the database: queued emails cannot be sent without it.
pub fn load_sealer(config: &Config) -> anyhow::Result<Sealer> {
    let key = match &config.secret_key {
        Some(key) => key.clone(),
        None => {
            let path = config.secret_key_file();
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!(
                    "could not create the data directory {}",
                    config.data_dir.display()
                )
            })?;
            SealingKey::load_or_create(&path).with_context(|| {
                format!("could not read or create the key file {}", path.display())
            })?
        }
    };
    Ok(Sealer::new(&key))
}

/// Opens the configured database (creating the data directory for the default SQLite file) and
/// applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url.expose();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "could not create the data directory {}",
                config.data_dir.display()
            )
        })?;
    }
    store::connect(url)
        .await
        .context("could not open the database (check ONESTOP_DATABASE_URL / --database-url)")
}

/// The web application bound to its listener.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn bind(listen: SocketAddr, state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(listen).await.with_context(|| {
            format!(
                "could not listen on {listen} (is another program using it? set ONESTOP_LISTEN)"
            )
        })?;
        Ok(Self {
            listener,
            router: router(state),
        })
    }

    /// Serves on a listener the caller already bound (tests that must know the address before
    /// the configuration is made, without a window in which another process could take it).
    pub fn with_listener(listener: TcpListener, state: AppState) -> Self {
        Self {
            listener,
            router: router(state),
        }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

pub fn app_state(services: Services, config: &Config) -> AppState {
    AppState {
        services,
        settings: Arc::new(WebSettings {
            public_url: config.public_url.clone(),
            https: config.uses_https(),
            trusted_proxies: config.trusted_proxies.clone(),
            metrics_token: config.metrics_token.clone(),
        }),
    }
}

/// `onestop serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let services = Services::start(store.clone(), &config).await?;
    let application =
        Application::bind(config.listen, app_state(services.clone(), &config)).await?;
    if let Some(code) = issue_first_run_code(&services).await? {
        let link = config
            .public_url
            .join(&format!("first-run/{}", code.expose()))?;
        // To the terminal only: the log stream may be shipped elsewhere, and the link is a key.
        println!(
            "No company is set up yet. Open this one-time link (valid for 24 hours) to create it and its first administrator:\n\n    {link}\n"
        );
        tracing::info!("first run: the one-time set-up link is printed on standard output");
    }
    println!("1Stop is running at {}", config.public_url);
    tracing::info!(listen = %application.local_addr()?, public_url = %config.public_url, "serving");
    let (stop_worker, worker) = start_outbox_worker(&config, &services)?;
    let (stop_metrics, metrics) = start_metrics_listener(&config, &services).await?;
    let (stop_imports, imports) = start_import_runner(&services);
    application.run_until_stopped(shutdown_signal()).await?;
    let _ = stop_worker.send(true);
    let _ = stop_imports.send(true);
    let _ = worker.await;
    let _ = imports.await;
    let _ = stop_metrics.send(true);
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `/metrics` without a token on `ONESTOP_METRICS_LISTEN`, if set, until `true` is sent.
async fn start_metrics_listener(
    config: &Config,
    services: &Services,
) -> anyhow::Result<(watch::Sender<bool>, Option<JoinHandle<()>>)> {
    let (stop, mut stopped) = watch::channel(false);
    let Some(address) = config.metrics_listen else {
        return Ok((stop, None));
    };
    let listener = TcpListener::bind(address).await.with_context(|| {
        format!("could not listen on {address} for metrics (is another program using it? set ONESTOP_METRICS_LISTEN)")
    })?;
    tracing::info!(listen = %listener.local_addr()?, "serving /metrics without a token");
    let router = crate::web::metrics_endpoint::private_router(services.clone());
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    Ok((stop, Some(task)))
}

/// Starts the outbox worker in the background; send `true` to stop it.
fn start_outbox_worker(
    config: &Config,
    services: &Services,
) -> anyhow::Result<(watch::Sender<bool>, JoinHandle<()>)> {
    let mailer = Arc::new(Mailer::from_config(config)?);
    let worker = OutboxWorker::new(services.clone(), mailer, sender(config)?);
    let (stop, stopped) = watch::channel(false);
    Ok((stop, tokio::spawn(worker.run(stopped))))
}

/// Starts the import runner in the background (it resumes imports a stopped instance left
/// unfinished); send `true` to stop it after its current chunk.
fn start_import_runner(services: &Services) -> (watch::Sender<bool>, JoinHandle<()>) {
    let runner = crate::usecases::user_import::runner::ImportRunner::new(services.clone());
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(runner.run(stopped)))
}

/// `onestop worker`: the outbox worker alone (and `/metrics` on `ONESTOP_METRICS_LISTEN`, if
/// set), until SIGTERM.
pub async fn run_worker(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let services = Services::start(store.clone(), &config).await?;
    let (stop_worker, worker) = start_outbox_worker(&config, &services)?;
    let (stop_metrics, metrics) = start_metrics_listener(&config, &services).await?;
    shutdown_signal().await;
    let _ = stop_worker.send(true);
    let _ = worker.await;
    let _ = stop_metrics.send(true);
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    store.close().await;
    Ok(())
}

/// `onestop send-test-email`: sends one message directly (not through the outbox) and returns
/// what the mail server answered.
pub async fn send_test_email(config: &Config, to: &str) -> Result<String, anyhow::Error> {
    let mailer = Mailer::from_config(config)?;
    let message = build_message(
        &sender(config)?,
        to,
        "1Stop test email",
        format!(
            "This is a test email from 1Stop at {}. Email delivery works.",
            config.public_url
        ),
        format!(
            "<p>This is a test email from 1Stop at {}. Email delivery works.</p>",
            config.public_url
        ),
    )?;
    Ok(mailer.send(message).await?)
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
