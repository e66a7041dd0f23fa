//! SMTP servers for tests: a real one (aiosmtpd, from PyPI, writing a Maildir) for the happy path,
//! and a small scripted one for faults a real server will not produce on demand.

use mail_parser::MessageParser;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as a person reads it.
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub has_message_id: bool,
    pub has_date: bool,
}

impl ReceivedEmail {
    /// The Join Now link in the text part.
    pub fn join_link(&self) -> String {
        self.link_after("Join Now: ")
    }

    /// The link that follows `label` in the text part.
    pub fn link_after(&self, label: &str) -> String {
        let start = self
            .text
            .find(label)
            .unwrap_or_else(|| panic!("the text part has {label:?}: {}", self.text))
            + label.len();
        self.text[start..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Parses a raw message (an `.eml` file, say).
    pub fn parse(raw: &[u8]) -> Self {
        let message = MessageParser::default()
            .parse(raw)
            .expect("a parsable email");
        let address = |list: Option<&mail_parser::Address>| {
            list.and_then(|address| address.first())
                .and_then(|address| address.address())
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            to: address(message.to()),
            from: address(message.from()),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message
                .body_text(0)
                .map(|text| text.into_owned())
                .unwrap_or_default(),
            html: message
                .body_html(0)
                .map(|html| html.into_owned())
                .unwrap_or_default(),
            has_message_id: message.message_id().is_some(),
            has_date: message.date().is_some(),
        }
    }
}

/// The Python interpreter of the project's `.venv`, where `scripts/test` installs aiosmtpd.
fn python() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let works = Command::new(&path)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    works.then_some(path)
}

pub struct RealSmtpServer {
    pub port: u16,
    process: Child,
    maildir: tempfile::TempDir,
}

impl Drop for RealSmtpServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl RealSmtpServer {
    /// `None` (loudly) without aiosmtpd outside CI; in CI a failure.
    pub async fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port).await
    }

    pub async fn start_on(port: u16) -> Option<Self> {
        let Some(python) = python() else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "aiosmtpd is not installed in .venv, and in CI the SMTP tests must run (scripts/test installs it)"
                );
            }
            eprintln!(
                "\n*** SKIPPED: SMTP test; run scripts/test once to install aiosmtpd into .venv ***\n"
            );
            return None;
        };
        let maildir = tempfile::tempdir().unwrap();
        let process = Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen within 15 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Self {
            port,
            process,
            maildir,
        })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedEmail> {
        self.raw_messages()
            .iter()
            .map(|raw| ReceivedEmail::parse(raw))
            .collect()
    }

    /// Every message received so far, as stored: the headers as sent, and those the server
    /// added, among them `X-RcptTo`, the envelope's recipients.
    pub fn raw_messages(&self) -> Vec<Vec<u8>> {
        let new = self.maildir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.map(|entry| entry.unwrap().path()).collect();
        files.sort();
        files
            .iter()
            .map(|file| std::fs::read(file).unwrap())
            .collect()
    }

    /// Waits up to 10 s for `count` messages.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedEmail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// How the scripted server answers the end of DATA.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// "451 4.3.0 Mailbox temporarily unavailable"
    Transient,
    /// "550 5.1.1 No such user here"
    Permanent,
    /// Accepts the data, then drops the connection without answering.
    DropAfterData,
    /// Offers AUTH, then refuses every credential: "535 5.7.8 Authentication credentials invalid".
    AuthenticationFails,
}

/// Answers every message with `fault`; returns its port.
pub async fn scripted_smtp_server(fault: Fault) -> u16 {
    ScriptedSmtpServer::start(move |_| Some(fault)).await.port
}

/// A small SMTP server that answers the end of each message's DATA as its script says: `script(n)`
/// for the `n`th message (from 0) is the fault to answer with, `None` to accept it with "250". It
/// keeps every message it received whole, also those whose answer it never sent (a real server may
/// have queued a message when the connection dropped: that is how duplicates happen).
pub struct ScriptedSmtpServer {
    pub port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<ReceivedEmail>>>,
}

impl ScriptedSmtpServer {
    pub async fn start(script: impl Fn(usize) -> Option<Fault> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = std::sync::Arc::new(script);
        let server = Self {
            port,
            received: received.clone(),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let received = received.clone();
                let script = script.clone();
                tokio::spawn(async move {
                    let (reader, mut writer) = stream.into_split();
                    let mut lines = BufReader::new(reader).lines();
                    let _ = writer.write_all(b"220 scripted.test ESMTP\r\n").await;
                    // The fault of this connection's first message decides how it greets (AUTH).
                    let greeting_fault = script(received.lock().unwrap().len());
                    let mut data: Option<Vec<String>> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(message) = data.as_mut() {
                            if line != "." {
                                // Dot-stuffing: the sender doubled every leading ".".
                                message.push(match line.strip_prefix('.') {
                                    Some(rest) => rest.to_owned(),
                                    None => line,
                                });
                                continue;
                            }
                            let raw = data.take().unwrap_or_default().join("\r\n");
                            let fault = {
                                let mut received = received.lock().unwrap();
                                received.push(ReceivedEmail::parse(raw.as_bytes()));
                                script(received.len() - 1)
                            };
                            let reply: &[u8] = match fault {
                                Some(Fault::Transient) => {
                                    b"451 4.3.0 Mailbox temporarily unavailable\r\n"
                                }
                                Some(Fault::Permanent) => b"550 5.1.1 No such user here\r\n",
                                Some(Fault::DropAfterData) => return,
                                Some(Fault::AuthenticationFails) | None => {
                                    b"250 2.0.0 OK queued\r\n"
                                }
                            };
                            let _ = writer.write_all(reply).await;
                            continue;
                        }
                        let command = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                        let reply: &[u8] = match command.as_str() {
                            "EHLO" | "HELO"
                                if matches!(greeting_fault, Some(Fault::AuthenticationFails)) =>
                            {
                                b"250-scripted.test\r\n250 AUTH PLAIN LOGIN\r\n"
                            }
                            "EHLO" | "HELO" => b"250 scripted.test\r\n",
                            "AUTH" => b"535 5.7.8 Authentication credentials invalid\r\n",
                            "DATA" => {
                                data = Some(Vec::new());
                                b"354 End data with <CR><LF>.<CR><LF>\r\n"
                            }
                            "QUIT" => {
                                let _ = writer.write_all(b"221 Bye\r\n").await;
                                return;
                            }
                            _ => b"250 OK\r\n",
                        };
                        let _ = writer.write_all(reply).await;
                    }
                });
            }
        });
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received whole so far, answered or not.
    pub fn received(&self) -> Vec<ReceivedEmail> {
        self.received.lock().unwrap().clone()
    }
}

/// One message a [`StallingSmtpServer`] received whole.
#[derive(Debug, Clone)]
pub struct DataReceived {
    pub email: ReceivedEmail,
    /// Received while stalling: the sender never heard "250" while it was connected.
    pub stalled: bool,
}

/// An SMTP server that can hang in DATA: it reads the whole message, then, while stalling, does
/// not answer until told to stop stalling (a mail server that hangs mid-transaction). Otherwise
/// it accepts every message with "250".
pub struct StallingSmtpServer {
    pub port: u16,
    stalling: tokio::sync::watch::Sender<bool>,
    /// How many messages are being held right now.
    held: tokio::sync::watch::Sender<usize>,
    received: std::sync::Arc<std::sync::Mutex<Vec<DataReceived>>>,
}

impl StallingSmtpServer {
    pub async fn start(stalling: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Self {
            port,
            stalling: tokio::sync::watch::Sender::new(stalling),
            held: tokio::sync::watch::Sender::new(0),
            received: std::sync::Arc::default(),
        };
        let stalling = server.stalling.clone();
        let held = server.held.clone();
        let received = server.received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let stalling = stalling.clone();
                let held = held.clone();
                let received = received.clone();
                tokio::spawn(async move {
                    let (reader, mut writer) = stream.into_split();
                    let mut lines = BufReader::new(reader).lines();
                    let _ = writer.write_all(b"220 stalling.test ESMTP\r\n").await;
                    let mut data: Option<Vec<String>> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(message) = data.as_mut() {
                            if line != "." {
                                // Dot-stuffing: the sender doubled every leading ".".
                                message.push(match line.strip_prefix('.') {
                                    Some(rest) => rest.to_owned(),
                                    None => line,
                                });
                                continue;
                            }
                            let raw = data.take().unwrap_or_default().join("\r\n");
                            let email = ReceivedEmail::parse(raw.as_bytes());
                            let stalled = *stalling.borrow();
                            received
                                .lock()
                                .unwrap()
                                .push(DataReceived { email, stalled });
                            if stalled {
                                held.send_modify(|held| *held += 1);
                                let _ = stalling.subscribe().wait_for(|stalling| !stalling).await;
                                held.send_modify(|held| *held -= 1);
                            }
                            let _ = writer.write_all(b"250 2.0.0 OK queued\r\n").await;
                            continue;
                        }
                        let command = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                        let reply: &[u8] = match command.as_str() {
                            "EHLO" | "HELO" => b"250 stalling.test\r\n",
                            "DATA" => {
                                data = Some(Vec::new());
                                b"354 End data with <CR><LF>.<CR><LF>\r\n"
                            }
                            "QUIT" => {
                                let _ = writer.write_all(b"221 Bye\r\n").await;
                                return;
                            }
                            _ => b"250 OK\r\n",
                        };
                        let _ = writer.write_all(reply).await;
                    }
                });
            }
        });
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Waits (up to `within`) until a message is held in DATA.
    pub async fn wait_until_holding(&self, within: Duration) {
        self.wait_until_holding_at_least(1, within).await;
    }

    /// Waits (up to `within`) until `count` messages are held in DATA at once.
    pub async fn wait_until_holding_at_least(&self, count: usize, within: Duration) {
        let mut held = self.held.subscribe();
        tokio::time::timeout(within, held.wait_for(|held| *held >= count))
            .await
            .unwrap_or_else(|_| panic!("{count} messages reached DATA and are held there"))
            .expect("the server is running");
    }

    /// Answers the held messages (their senders may be gone) and every later one at once.
    pub fn stop_stalling(&self) {
        self.stalling.send_replace(false);
    }

    /// Every message received whole so far, held ones included.
    pub fn received(&self) -> Vec<DataReceived> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to `within`) until `count` messages were accepted without stalling.
    pub async fn wait_for_accepted(&self, count: usize, within: Duration) -> Vec<DataReceived> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.iter().filter(|message| !message.stalled).count() >= count
                || Instant::now() > deadline
            {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
