//! Email: typed templates, the transports (SMTP or .eml files), and the outbox worker that sends
//! what use cases queue. Nothing here runs on a request path.

pub mod templates;
pub mod transport;
pub mod worker;

pub use transport::{Mailer, SendFailure};
pub use worker::OutboxWorker;
