//! Handing messages to a mail server over SMTP (pooled, plain, STARTTLS or TLS), or writing them
//! as `.eml` files when no SMTP server is configured.

use crate::config::Config;
use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// Where email goes.
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
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

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("ONESTOP_SMTP_URL / --smtp-url could not be used")?
                    .timeout(Some(Duration::from_secs(30)))
                    .build();
                Ok(Self::Smtp(transport))
            }
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

    /// Sends one message; on success says what the server answered, or where the file went.
    pub async fn send(&self, message: Message) -> Result<String, SendFailure> {
        match self {
            Self::Smtp(transport) => {
                let response = transport.send(message).await?;
                let text: Vec<&str> = response.message().collect();
                Ok(format!("{} {}", response.code(), text.join(" ")))
            }
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
