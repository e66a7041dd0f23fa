//! What the product does, one module per use case. No HTTP types here: the web pages, the CLI
//! (and later the JSON API) call these functions with values they have taken from their input.

pub mod company;
pub mod create_organization;
pub mod first_run;
pub mod invite_user;
pub mod join;
pub mod manage_users;
pub mod password_reset;
pub mod profiles;
pub mod roles;
pub mod sessions;
pub mod sign_in;
pub mod terms;

use crate::passwords::PasswordHasher;
use crate::store::Store;
use onestop_domain::Clock;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Notify;
use url::Url;

/// What every use case may need: storage, time, the password hasher, and a way to wake the
/// outbox worker when an email is queued.
#[derive(Clone, Debug)]
pub struct Services {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub outbox_signal: Arc<Notify>,
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
