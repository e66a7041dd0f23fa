//! Configuration: flags, then `ONESTOP_*` environment variables, then defaults; parsed and checked
//! once at start-up into a [`Config`] that is passed down (never a global). Every error says what
//! to fix.

use crate::sealing::SealingKey;
use clap::{Args, ValueEnum};
use onestop_domain::{TrustedProxies, TrustedProxiesError};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

/// The environment variables this program reads; others with the prefix are reported as unknown.
pub const KNOWN_VARIABLES: &[&str] = &[
    "ONESTOP_LISTEN",
    "ONESTOP_DATA_DIR",
    "ONESTOP_DATABASE_URL",
    "ONESTOP_PUBLIC_URL",
    "ONESTOP_SMTP_URL",
    "ONESTOP_MAIL_FROM",
    "ONESTOP_LOG",
    "ONESTOP_LOG_FORMAT",
    "ONESTOP_TRUSTED_PROXIES",
    "ONESTOP_SECRET_KEY",
    "ONESTOP_INVITATIONS_PER_HOUR",
    "ONESTOP_INVITATIONS_PER_ADMINISTRATOR_PER_HOUR",
    "ONESTOP_METRICS_TOKEN",
    "ONESTOP_METRICS_LISTEN",
];

/// The shortest metrics token accepted: a bearer token an attacker could guess is no lock.
const SHORTEST_METRICS_TOKEN: usize = 16;

/// The settings as given (flags and environment), before checking.
#[derive(Debug, Clone, Args)]
pub struct Options {
    /// Address to bind.
    #[arg(
        long,
        env = "ONESTOP_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,
    /// Where the default SQLite database and the .eml files go.
    #[arg(
        long,
        env = "ONESTOP_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// sqlite://... or postgres://... (default: SQLite file onestop.db in the data directory).
    #[arg(
        long,
        env = "ONESTOP_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Base of every link in emails and the first-run link (default http://{listen}).
    #[arg(long, env = "ONESTOP_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// smtp://[user:pass@]host:port[?tls=required] or smtps://...; unset writes .eml files.
    #[arg(long, env = "ONESTOP_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of emails, e.g. "1Stop <no-reply@example.com>".
    #[arg(long, env = "ONESTOP_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// Log filter, e.g. info or onestop_server=debug.
    #[arg(long, env = "ONESTOP_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log format.
    #[arg(
        long,
        env = "ONESTOP_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// Addresses or CIDR blocks of reverse proxies whose Forwarded / X-Forwarded-For headers name
    /// the client, separated by commas (default none: the TCP peer is the client).
    #[arg(
        long,
        env = "ONESTOP_TRUSTED_PROXIES",
        default_value = "",
        global = true
    )]
    pub trusted_proxies: String,
    /// Key that seals outbox payloads: 64 hex digits (default: a 0600 key file created in the data
    /// directory at first start).
    #[arg(
        long,
        env = "ONESTOP_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// How many invitations (New User and Reinvite together) one organization may send in an
    /// hour.
    #[arg(
        long,
        env = "ONESTOP_INVITATIONS_PER_HOUR",
        default_value_t = crate::usecases::invite_user::INVITATIONS_PER_ORGANIZATION_PER_HOUR,
        value_parser = clap::value_parser!(i64).range(1..=10_000_000),
        global = true
    )]
    pub invitations_per_hour: i64,
    /// How many invitations one administrator may send in an hour.
    #[arg(
        long,
        env = "ONESTOP_INVITATIONS_PER_ADMINISTRATOR_PER_HOUR",
        default_value_t = crate::usecases::invite_user::INVITATIONS_PER_ADMINISTRATOR_PER_HOUR,
        value_parser = clap::value_parser!(i64).range(1..=10_000_000),
        global = true
    )]
    pub invitations_per_administrator_per_hour: i64,
    /// When set, GET /metrics on the main port requires `Authorization: Bearer <this token>`;
    /// unset, /metrics on the main port is 404.
    #[arg(
        long,
        env = "ONESTOP_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// A second address (HOST:PORT) serving only /metrics, without a token: for a private
    /// network that Prometheus scrapes.
    #[arg(long, env = "ONESTOP_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A value that must never be printed: its `Debug` and `Display` show a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// Checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// May hold a password, hence secret.
    pub database_url: Secret,
    pub public_url: Url,
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    pub log: String,
    pub log_format: LogFormat,
    pub trusted_proxies: TrustedProxies,
    /// `None`: the key file in the data directory (created at first start).
    pub secret_key: Option<SealingKey>,
    /// The hourly invitation caps and the reinvite cooldown.
    pub invitation_limits: crate::usecases::manage_users::ReinviteLimits,
    /// The bearer token of /metrics on the main port; `None`: /metrics there is 404.
    pub metrics_token: Option<Secret>,
    /// Where /metrics is served without a token, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "ONESTOP_LISTEN / --listen: {0:?} is not an address to bind; use HOST:PORT such as 127.0.0.1:8080 or 0.0.0.0:8080"
    )]
    Listen(String),
    #[error("ONESTOP_DATABASE_URL / --database-url must start with sqlite:// or postgres://")]
    DatabaseUrl,
    #[error(
        "ONESTOP_PUBLIC_URL / --public-url: {0:?} is not the root of an http:// or https:// site; use the address people open, without a path, such as https://1stop.example.com"
    )]
    PublicUrl(String),
    #[error(
        "ONESTOP_SMTP_URL / --smtp-url: use smtp://[user:pass@]host:port or smtps://host:port ({0})"
    )]
    SmtpUrl(&'static str),
    #[error(
        "ONESTOP_MAIL_FROM / --mail-from: {0:?} is not a sender; use an address, optionally with a name: \"1Stop <no-reply@example.com>\""
    )]
    MailFrom(String),
    #[error("ONESTOP_LOG / --log: {0:?} is not a log filter; use a level such as info or debug")]
    Log(String),
    #[error("ONESTOP_TRUSTED_PROXIES / --trusted-proxies: {0}")]
    TrustedProxies(TrustedProxiesError),
    #[error(
        "ONESTOP_METRICS_TOKEN / --metrics-token: use at least 16 characters without spaces, for example from `openssl rand -hex 32`; or unset it to keep /metrics off the main port"
    )]
    MetricsToken,
    #[error(
        "ONESTOP_METRICS_LISTEN / --metrics-listen: {0:?} is not an address to bind apart from ONESTOP_LISTEN; use HOST:PORT on a private network, such as 10.0.0.5:9090"
    )]
    MetricsListen(String),
    #[error(
        "ONESTOP_SECRET_KEY / --secret-key: use 64 hexadecimal digits (32 random bytes), for example from `openssl rand -hex 32`; or unset it to use the key file in the data directory"
    )]
    SecretKey,
}

impl Options {
    pub fn check(&self) -> Result<Config, ConfigError> {
        let listen: SocketAddr = self
            .listen
            .trim()
            .parse()
            .map_err(|_| ConfigError::Listen(self.listen.clone()))?;
        let database_url = match &self.database_url {
            Some(url)
                if url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://") =>
            {
                url.clone()
            }
            Some(_) => return Err(ConfigError::DatabaseUrl),
            None => format!("sqlite://{}", self.data_dir.join("onestop.db").display()),
        };
        let public_url_text = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen}"));
        let public_url = Url::parse(public_url_text.trim())
            .ok()
            .filter(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.path() == "/"
                    && url.query().is_none()
            })
            .ok_or_else(|| ConfigError::PublicUrl(public_url_text.clone()))?;
        let smtp_url = match &self.smtp_url {
            None => None,
            Some(text) => {
                let url = Url::parse(text).map_err(|_| ConfigError::SmtpUrl("not a URL"))?;
                if !matches!(url.scheme(), "smtp" | "smtps") {
                    return Err(ConfigError::SmtpUrl("the scheme must be smtp or smtps"));
                }
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(ConfigError::SmtpUrl("a host is missing"));
                }
                Some(Secret(text.clone()))
            }
        };
        let mail_from = self.mail_from.clone().unwrap_or_else(|| {
            format!(
                "1Stop <no-reply@{}>",
                public_url.host_str().unwrap_or("localhost")
            )
        });
        if !is_plausible_sender(&mail_from) {
            return Err(ConfigError::MailFrom(mail_from));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(ConfigError::Log(self.log.clone()));
        }
        let trusted_proxies =
            TrustedProxies::parse(&self.trusted_proxies).map_err(ConfigError::TrustedProxies)?;
        let secret_key = match &self.secret_key {
            Some(text) => Some(SealingKey::from_hex(text.trim()).ok_or(ConfigError::SecretKey)?),
            None => None,
        };
        let metrics_token = match self.metrics_token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(token)
                if token.len() >= SHORTEST_METRICS_TOKEN
                    && !token.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Some(Secret(token.to_owned()))
            }
            Some(_) => return Err(ConfigError::MetricsToken),
        };
        let metrics_listen = match self.metrics_listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                text.parse::<SocketAddr>()
                    .ok()
                    .filter(|address| *address != listen)
                    .ok_or_else(|| ConfigError::MetricsListen(text.to_owned()))?,
            ),
        };
        Ok(Config {
            listen,
            data_dir: self.data_dir.clone(),
            database_url: Secret(database_url),
            public_url,
            smtp_url,
            mail_from,
            log: self.log.clone(),
            log_format: self.log_format,
            trusted_proxies,
            secret_key,
            invitation_limits: crate::usecases::manage_users::ReinviteLimits {
                per_organization_per_hour: self.invitations_per_hour,
                per_administrator_per_hour: self.invitations_per_administrator_per_hour,
                ..Default::default()
            },
            metrics_token,
            metrics_listen,
        })
    }
}

/// `name@host` or `Display Name <name@host>`, without line breaks.
fn is_plausible_sender(text: &str) -> bool {
    let address = match (text.rfind('<'), text.ends_with('>')) {
        (Some(open), true) => &text[open + 1..text.len() - 1],
        _ => text,
    };
    !text.contains(['\r', '\n'])
        && (onestop_domain::EmailAddress::parse(address).is_ok() || address.ends_with("@localhost"))
}

/// Names of `ONESTOP_*` variables that this program does not know (likely typos).
pub fn unknown_variables() -> Vec<String> {
    std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("ONESTOP_") && !KNOWN_VARIABLES.contains(&name.as_str()))
        .collect()
}

impl Config {
    /// Where the sealing key lives when ONESTOP_SECRET_KEY is unset.
    pub fn secret_key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }

    pub fn uses_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The configuration as an operator reads it, secrets redacted.
    pub fn describe(&self) -> String {
        let database = if self.database_url.expose().starts_with("sqlite:") {
            self.database_url.expose().to_owned()
        } else {
            redact_url_password(self.database_url.expose())
        };
        format!(
            "listen       {}\ndata dir     {}\ndatabase     {}\npublic URL   {}\nemail        {}\nmail from    {}\nlog          {} ({:?})\nproxies      {}\nsecret key   {}\ninvitations  {} an hour per organization, {} per administrator\nmetrics      {}\n",
            self.listen,
            self.data_dir.display(),
            database,
            self.public_url,
            match &self.smtp_url {
                Some(url) => format!("SMTP {}", redact_url_password(url.expose())),
                None => format!(".eml files in {}", self.data_dir.join("mail").display()),
            },
            self.mail_from,
            self.log,
            self.log_format,
            if self.trusted_proxies.is_empty() {
                "none trusted (the TCP peer is the client)".to_owned()
            } else {
                self.trusted_proxies
                    .blocks()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            match &self.secret_key {
                Some(_) => "from ONESTOP_SECRET_KEY".to_owned(),
                None => format!("key file {}", self.secret_key_file().display()),
            },
            self.invitation_limits.per_organization_per_hour,
            self.invitation_limits.per_administrator_per_hour,
            match (&self.metrics_token, &self.metrics_listen) {
                (None, None) => "off".to_owned(),
                (Some(_), None) => "/metrics on the main port with a token".to_owned(),
                (None, Some(address)) => format!("/metrics on {address} (no token)"),
                (Some(_), Some(address)) =>
                    format!("/metrics on the main port with a token, and on {address} (no token)"),
            },
        )
    }
}

fn redact_url_password(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("redacted"));
            }
            url.to_string()
        }
        Err(_) => "[unparsable URL]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options {
            listen: "127.0.0.1:8080".into(),
            data_dir: "./data".into(),
            database_url: None,
            public_url: None,
            smtp_url: None,
            mail_from: None,
            log: "info".into(),
            log_format: LogFormat::Text,
            trusted_proxies: String::new(),
            secret_key: None,
            invitations_per_hour: 5000,
            invitations_per_administrator_per_hour: 2000,
            metrics_token: None,
            metrics_listen: None,
        }
    }

    #[test]
    fn defaults_are_sqlite_in_the_data_dir_and_a_public_url_from_the_listen_address() {
        let config = options().check().unwrap();
        assert_eq!(config.database_url.expose(), "sqlite://./data/onestop.db");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
        assert!(!config.uses_https());
    }

    #[test]
    fn bad_values_name_the_setting_and_the_fix() {
        let mut bad = options();
        bad.listen = "localhost".into();
        assert!(
            bad.check()
                .unwrap_err()
                .to_string()
                .starts_with("ONESTOP_LISTEN / --listen")
        );
        let mut bad = options();
        bad.database_url = Some("mysql://x".into());
        assert!(matches!(bad.check(), Err(ConfigError::DatabaseUrl)));
        let mut bad = options();
        bad.public_url = Some("ftp://x".into());
        assert!(matches!(bad.check(), Err(ConfigError::PublicUrl(_))));
        let mut bad = options();
        bad.smtp_url = Some("http://mail.example.com".into());
        assert!(matches!(bad.check(), Err(ConfigError::SmtpUrl(_))));
        let mut bad = options();
        bad.mail_from = Some("1Stop <nobody>".into());
        assert!(matches!(bad.check(), Err(ConfigError::MailFrom(_))));
        let mut bad = options();
        bad.trusted_proxies = "10.0.0.0/8, proxy.internal".into();
        let message = bad.check().unwrap_err().to_string();
        assert!(
            message.starts_with("ONESTOP_TRUSTED_PROXIES") && message.contains("proxy.internal"),
            "{message}"
        );
        let mut bad = options();
        bad.secret_key = Some("abc".into());
        assert!(matches!(bad.check(), Err(ConfigError::SecretKey)));
    }

    #[test]
    fn metrics_settings_are_checked_and_the_token_never_prints() {
        let config = options().check().unwrap();
        assert!(config.metrics_token.is_none() && config.metrics_listen.is_none());
        let mut good = options();
        good.metrics_token = Some("scrape-me-0123456789abcdef".into());
        good.metrics_listen = Some("127.0.0.1:9090".into());
        let config = good.check().unwrap();
        assert_eq!(
            config.metrics_token.as_ref().map(Secret::expose),
            Some("scrape-me-0123456789abcdef")
        );
        assert_eq!(
            config.metrics_listen,
            Some("127.0.0.1:9090".parse().unwrap())
        );
        let printed = format!("{config:?} {}", config.describe());
        assert!(!printed.contains("scrape-me"), "{printed}");
        let mut bad = options();
        bad.metrics_token = Some("short".into());
        let message = bad.check().unwrap_err().to_string();
        assert!(message.starts_with("ONESTOP_METRICS_TOKEN"), "{message}");
        let mut bad = options();
        bad.metrics_listen = Some("127.0.0.1:8080".into());
        let message = bad.check().unwrap_err().to_string();
        assert!(message.starts_with("ONESTOP_METRICS_LISTEN"), "{message}");
        let mut bad = options();
        bad.metrics_listen = Some("private-network".into());
        assert!(matches!(bad.check(), Err(ConfigError::MetricsListen(_))));
    }

    #[test]
    fn trusted_proxies_and_a_secret_key_are_read() {
        let mut good = options();
        good.trusted_proxies = "10.0.0.0/8 ::1".into();
        good.secret_key = Some("ab".repeat(32));
        let config = good.check().unwrap();
        assert!(config.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(config.secret_key.is_some());
        assert!(!format!("{config:?}").contains(&"ab".repeat(32)));
    }

    #[test]
    fn secrets_never_print() {
        let mut with_secrets = options();
        with_secrets.database_url = Some("postgres://app:hunter2hunter2@db/onestop".into());
        with_secrets.smtp_url = Some("smtp://mailer:s3cretpass@mail.example.com:587".into());
        let config = with_secrets.check().unwrap();
        let printed = format!("{config:?} {}", config.describe());
        assert!(!printed.contains("hunter2hunter2"), "{printed}");
        assert!(!printed.contains("s3cretpass"), "{printed}");
    }
}
