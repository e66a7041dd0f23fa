//! Handing messages to a mail server over SMTP (pooled, plain, STARTTLS or TLS), or writing them
//! as `.eml` files when no SMTP server is configured.

use crate::config::Config;
use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Where email goes.
pub enum Mailer {
    Smtp(SmtpMailer),
    Files {
        transport: AsyncFileTransport<Tokio1Executor>,
        directory: PathBuf,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(_) => formatter.write_str("Mailer::Smtp"),
            Self::Files { directory, .. } => {
                write!(formatter, "Mailer::Files({})", directory.display())
            }
        }
    }
}

/// Why a message was not delivered. `permanent` failures (5xx about the message or recipient)
/// are not retried; `configuration` failures (the server refused our credentials) are about us,
/// not the message: it stays queued however long it takes to fix the configuration.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct SendFailure {
    pub permanent: bool,
    pub configuration: bool,
    pub reason: String,
}

impl SendFailure {
    fn permanent(reason: impl Into<String>) -> Self {
        Self {
            permanent: true,
            configuration: false,
            reason: reason.into(),
        }
    }

    pub(crate) fn transient(reason: impl Into<String>) -> Self {
        Self {
            permanent: false,
            configuration: false,
            reason: reason.into(),
        }
    }
}

/// SMTP replies that mean "your credentials or authentication setup are wrong".
const AUTHENTICATION_CODES: [&str; 4] = ["530", "534", "535", "454"];

impl From<SmtpError> for SendFailure {
    fn from(error: SmtpError) -> Self {
        let code = error.status().map(|code| code.to_string());
        if code
            .as_deref()
            .is_some_and(|code| AUTHENTICATION_CODES.contains(&code))
        {
            return Self {
                permanent: false,
                configuration: true,
                reason: format!(
                    "the SMTP server refused our credentials ({error}); check ONESTOP_SMTP_URL"
                ),
            };
        }
        Self {
            permanent: error.is_permanent(),
            configuration: false,
            reason: error.to_string(),
        }
    }
}

/// How long one send may take, from connecting to the server's last answer, before the attempt
/// counts as a transient failure (and is retried). The outbox worker's lease (two minutes) is
/// sized on it.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How many messages the outbox worker hands to the mail server at once, each on its own pooled
/// connection (lettre's pool keeps this many open between batches).
///
/// Why so many: lettre 0.11 writes a message's end-of-data (`\r\n.\r\n`) as a separate small
/// write, and leaves Nagle's algorithm on. That write then waits for the server to acknowledge the
/// body, which a server waiting for more data delays (40 ms on Linux), so one connection carries
/// about 24 messages a second whatever the machines' speed. lettre offers no way to set
/// `TCP_NODELAY` on the connections its pool opens (its executor, which opens the sockets, is
/// sealed; only `AsyncSmtpConnection::connect_with_transport` takes our own socket, and using it
/// would mean rewriting the pool, STARTTLS and authentication). Parallel connections hide the
/// delay instead: measured on loopback (a busy 2-core machine, aiosmtpd), 16 carried about 290
/// messages a second and the rate grows with the connections, so 32 leave room above the 300 we
/// promise, and stay under the per-client connection limits mail servers usually set (Postfix
/// allows 50).
pub const PARALLEL_SENDS: usize = 32;

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        match &config.smtp_url {
            Some(url) => Self::smtp(url.expose(), SMTP_TIMEOUT),
            None => {
                let directory = config.data_dir.join("mail");
                std::fs::create_dir_all(&directory).with_context(|| {
                    format!(
                        "could not create the mail directory {}",
                        directory.display()
                    )
                })?;
                Ok(Self::Files {
                    transport: AsyncFileTransport::new(&directory),
                    directory,
                })
            }
        }
    }

    /// SMTP to `url` (as in ONESTOP_SMTP_URL), each send taking at most `timeout`. The
    /// configuration always uses [`SMTP_TIMEOUT`]; tests pass a shorter one to see a hanging
    /// server time out without waiting half a minute.
    pub fn smtp(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("ONESTOP_SMTP_URL / --smtp-url could not be used")?
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(PARALLEL_SENDS as u32));
        Ok(Self::Smtp(SmtpMailer {
            transport: Mutex::new(builder.clone().build()),
            builder,
            timeout,
        }))
    }

    /// Sends one message; on success says what the server answered, or where the file went.
    pub async fn send(&self, message: Message) -> Result<String, SendFailure> {
        match self {
            Self::Smtp(smtp) => smtp.send(message).await,
            Self::Files {
                transport,
                directory,
            } => {
                let id = transport
                    .send(message)
                    .await
                    .map_err(|error| SendFailure::transient(error.to_string()))?;
                Ok(directory.join(format!("{id}.eml")).display().to_string())
            }
        }
    }

    pub fn writes_files(&self) -> bool {
        matches!(self, Self::Files { .. })
    }
}

/// SMTP through lettre's connection pool, each send bounded by a deadline.
///
/// lettre's own timeout bounds only opening the connection (lettre issue #1027): a server that
/// stops answering mid-conversation would hold the worker, and with it every other message,
/// forever. So the whole send, from taking a connection to the server's last answer, runs under
/// `timeout`; past it the attempt is a transient failure. The connection it used is still waiting
/// for an answer, and lettre would put it back into its pool as if it were idle, so the pool is
/// replaced: the next message starts on a fresh connection, never on one that is out of step with
/// its server.
pub struct SmtpMailer {
    builder: AsyncSmtpTransportBuilder,
    timeout: Duration,
    transport: Mutex<AsyncSmtpTransport<Tokio1Executor>>,
}

impl SmtpMailer {
    async fn send(&self, message: Message) -> Result<String, SendFailure> {
        let transport = self.current();
        match tokio::time::timeout(self.timeout, transport.send(message)).await {
            Ok(sent) => {
                let response = sent?;
                let text: Vec<&str> = response.message().collect();
                Ok(format!("{} {}", response.code(), text.join(" ")))
            }
            Err(_elapsed) => {
                self.replace_pool();
                Err(SendFailure::transient(format!(
                    "timed out: the SMTP server did not finish answering within {} s",
                    self.timeout.as_secs_f64()
                )))
            }
        }
    }

    fn current(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        match self.transport.lock() {
            Ok(transport) => transport.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A fresh pool; the old one closes once the connections still in use are given back.
    fn replace_pool(&self) {
        let fresh = self.builder.clone().build();
        match self.transport.lock() {
            Ok(mut transport) => *transport = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }
}

/// Parses `ONESTOP_MAIL_FROM`.
pub fn sender(config: &Config) -> anyhow::Result<Mailbox> {
    config.mail_from.parse().with_context(|| {
        format!(
            "ONESTOP_MAIL_FROM / --mail-from: {:?} is not a sender",
            config.mail_from
        )
    })
}

/// A message with plain-text and HTML parts, a Date and a Message-ID. Header values are encoded by
/// lettre, so nothing in them can start a new header.
pub fn build_message(
    from: &Mailbox,
    to: &str,
    subject: &str,
    text: String,
    html: String,
) -> Result<Message, SendFailure> {
    let to: Mailbox = to.parse().map_err(|error| {
        SendFailure::permanent(format!("the recipient address is not valid: {error}"))
    })?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .date_now()
        .message_id(None)
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|error| SendFailure::permanent(format!("the message could not be built: {error}")))
}
