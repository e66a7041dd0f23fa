//! What the product does, one module per use case. No HTTP types here: the web pages, the CLI
//! (and later the JSON API) call these functions with values they have taken from their input.

pub mod account;
pub mod api_tokens;
pub mod company;
pub mod create_organization;
pub mod edit_user;
pub mod export_users;
pub mod first_run;
pub mod invalid_links;
pub mod invite_user;
pub mod join;
pub mod manage_users;
pub mod passkeys;
pub mod password_reset;
pub mod pictures;
pub mod profiles;
pub mod roles;
pub mod scim;
pub mod scim_setup;
pub mod seed;
pub mod sessions;
pub mod sign_in;
pub mod sso;
pub mod sso_callback;
pub mod sso_client;
pub mod sso_setup;
pub mod terms;
pub mod two_step;
pub mod two_step_admin;
pub mod user_account;
pub mod user_import;

use crate::passwords::PasswordHasher;
use crate::store::Store;
use onestop_domain::Clock;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use url::Url;

/// What every use case may need: storage, time, the password hasher, a way to wake the outbox
/// worker when an email is queued, and the work requests leave running after they answer.
#[derive(Clone, Debug)]
pub struct Services {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub outbox_signal: Arc<Notify>,
    /// Wakes the import runner when an import is queued.
    pub import_signal: Arc<Notify>,
    pub background: BackgroundTasks,
    /// Base of every link in emails (ends with `/`); never taken from a request.
    pub public_url: Url,
    pub reinvite_limits: manage_users::ReinviteLimits,
    pub mail_health: crate::mail::MailHealth,
    /// Seals outbox payloads with the key kept outside the database.
    pub sealer: crate::sealing::Sealer,
}

impl Services {
    /// Seals a rendered email for the outbox.
    pub fn seal(
        &self,
        email: crate::store::NewEmail,
    ) -> Result<crate::store::SealedEmail, crate::sealing::SealError> {
        email.seal(&self.sealer)
    }
}

/// Work a request starts and does not wait for ("Forgot password?" answers before it looks the
/// account up), counted so that whoever needs to can wait until all of it is done: the tests,
/// instead of sleeping and hoping.
#[derive(Clone, Debug)]
pub struct BackgroundTasks {
    running: Arc<watch::Sender<usize>>,
}

impl Default for BackgroundTasks {
    fn default() -> Self {
        Self {
            running: Arc::new(watch::Sender::new(0)),
        }
    }
}

/// Counts one task while it lives (a panicking task is uncounted too, as it unwinds).
struct Running(Arc<watch::Sender<usize>>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.send_modify(|running| *running -= 1);
    }
}

impl BackgroundTasks {
    /// Runs `work` on its own task. It is counted from this call on, so once the request that
    /// spawned it has answered, [`Self::all_done`] waits for it.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.running.send_modify(|running| *running += 1);
        let running = Running(self.running.clone());
        tokio::spawn(async move {
            let _running = running;
            work.await;
        });
    }

    /// Completes when no background task is running.
    pub async fn all_done(&self) {
        let mut running = self.running.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = running.wait_for(|running| *running == 0).await;
    }
}

/// Messages for form fields, keyed by the field's name in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0
            .iter()
            .map(|(field, message)| (*field, message.as_str()))
    }

    /// Parses one field, recording its error message if it fails.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &'static str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed
            .map_err(|error| self.add(field, error.to_string()))
            .ok()
    }
}
