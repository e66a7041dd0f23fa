//! Email: typed templates, the transports (SMTP or .eml files), and the outbox worker that sends
//! what use cases queue. Nothing here runs on a request path.

pub mod templates;
pub mod transport;
pub mod worker;

pub use transport::{Mailer, SendFailure};

use std::sync::{Arc, Mutex};

/// Whether email can currently be sent: set by the outbox worker, read by `/readyz`.
#[derive(Debug, Clone, Default)]
pub struct MailHealth(Arc<Mutex<Option<String>>>);

impl MailHealth {
    /// Mail is degraded for `reason` (say, the SMTP server refuses our credentials).
    pub fn degraded(&self, reason: &str) {
        if let Ok(mut problem) = self.0.lock() {
            *problem = Some(reason.to_owned());
        }
    }

    pub fn healthy(&self) {
        if let Ok(mut problem) = self.0.lock() {
            *problem = None;
        }
    }

    pub fn problem(&self) -> Option<String> {
        self.0.lock().ok().and_then(|problem| problem.clone())
    }
}
pub use worker::OutboxWorker;
