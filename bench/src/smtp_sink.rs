//! A mail server that accepts every message at once and counts it, like Postfix's `smtp-sink`:
//! the outbox figure then measures our sending, not a slow receiver.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub struct SmtpSink {
    pub address: SocketAddr,
    received: Arc<AtomicU64>,
    /// How many messages each recipient got.
    recipients: Arc<Mutex<HashMap<String, u32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let received = Arc::new(AtomicU64::new(0));
        let recipients = Arc::new(Mutex::new(HashMap::new()));
        let (counter, book) = (received.clone(), recipients.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (counter, book) = (counter.clone(), book.clone());
                tokio::spawn(async move {
                    let _ = converse(stream, &counter, &book).await;
                });
            }
        });
        Ok(Self {
            address,
            received,
            recipients,
            task,
        })
    }

    /// Messages accepted so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Recipients containing `part` who got more than one message.
    pub fn duplicates(&self, part: &str) -> usize {
        self.recipients.lock().map_or(0, |book| {
            book.iter()
                .filter(|(recipient, count)| recipient.contains(part) && **count > 1)
                .count()
        })
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One SMTP session: every command is accepted; a message ends at a line holding one dot.
async fn converse(
    stream: TcpStream,
    received: &AtomicU64,
    recipients: &Mutex<HashMap<String, u32>>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader);
    writer.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    let mut in_data = false;
    let mut envelope: Vec<String> = Vec::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if in_data {
            if line == ".\r\n" || line == ".\n" {
                in_data = false;
                received.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut book) = recipients.lock() {
                    for recipient in envelope.drain(..) {
                        *book.entry(recipient).or_default() += 1;
                    }
                }
                writer.write_all(b"250 2.0.0 queued\r\n").await?;
            }
            continue;
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
            "DATA" => {
                in_data = true;
                b"354 end with <CRLF>.<CRLF>\r\n"
            }
            "RCPT" => {
                let address = line.trim_end().rsplit(':').next().unwrap_or_default();
                envelope.push(address.trim_matches(['<', '>', ' ']).to_lowercase());
                b"250 OK\r\n"
            }
            "QUIT" => {
                writer.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"250 OK\r\n",
        };
        writer.write_all(answer).await?;
    }
}
