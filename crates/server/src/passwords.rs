//! Hashing and verifying passwords with argon2id, off the async runtime and bounded, so that a
//! burst of sign-ins cannot starve other requests or exhaust memory (19 MiB per hash).

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use onestop_domain::Password;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

#[derive(Clone, Debug)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// How many permits there are: the most hashes that may ever run at once.
    concurrency: usize,
    /// Hashes running right now, and the most that ever ran at once: two atomic operations a hash
    /// (which itself takes tens of milliseconds), for tests and metrics.
    running: Arc<AtomicUsize>,
    most_running: Arc<AtomicUsize>,
    /// Verified against when the account does not exist or cannot sign in, so that such
    /// attempts take as long as real ones.
    dummy_hash: Arc<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashingError(String);

impl PasswordHasher {
    /// At most `concurrency` hashes run at once; the rest wait their turn.
    pub fn new(concurrency: usize) -> Result<Self, HashingError> {
        let dummy_hash = hash_now(
            &Password::for_sign_in("dummy password for timing")
                .ok_or_else(|| HashingError("dummy".into()))?,
        )?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            concurrency: concurrency.max(1),
            running: Arc::default(),
            most_running: Arc::default(),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// Returns an argon2id PHC string (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
    pub async fn hash(&self, password: &Password) -> Result<String, HashingError> {
        let password = password.clone();
        self.run(move || hash_now(&password)).await?
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is none; a
    /// corrupt stored hash counts as a mismatch.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, HashingError> {
        let password = password.clone();
        let (stored, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.as_str().to_owned(), false),
        };
        let matched = self
            .run(move || {
                PasswordHash::new(&stored)
                    .map(|parsed| {
                        Argon2::default()
                            .verify_password(password.expose().as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(matched && real)
    }

    /// Runs `work` on a blocking thread once a permit is free. The permit moves into the
    /// blocking task and is released only when the hash is done, so a request dropped by its
    /// timeout while hashing does not free a slot early: never more hashes than permits.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|error| HashingError(error.to_string()))?;
        let running = self.running.clone();
        let most_running = self.most_running.clone();
        tokio::task::spawn_blocking(move || {
            let now_running = running.fetch_add(1, Ordering::SeqCst) + 1;
            most_running.fetch_max(now_running, Ordering::SeqCst);
            let result = work();
            running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            result
        })
        .await
        .map_err(|error| HashingError(error.to_string()))
    }

    /// Hashes running or waiting to start right now (for tests and metrics).
    pub fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }

    /// The most hashes that may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The most hashes that ever ran at the same moment (for tests and metrics): never more than
    /// [`Self::concurrency`].
    pub fn most_running_at_once(&self) -> usize {
        self.most_running.load(Ordering::SeqCst)
    }
}

fn hash_now(password: &Password) -> Result<String, HashingError> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map_err(|error| HashingError(error.to_string()))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hash_abandoned_by_its_request_keeps_its_permit_until_it_is_done() {
        let hasher = PasswordHasher::new(1).unwrap();
        let password = Password::for_sign_in("a password long enough").unwrap();
        // The request's timeout drops the future while argon2 runs on its blocking thread.
        let abandoned =
            tokio::time::timeout(Duration::from_millis(1), hasher.hash(&password)).await;
        assert!(abandoned.is_err(), "argon2 takes longer than a millisecond");
        assert_eq!(
            hasher.available_permits(),
            0,
            "the permit stays with the hash still running"
        );
        // Once that hash ends, the permit is back, and a next hash runs.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while hasher.available_permits() == 0 {
            assert!(std::time::Instant::now() < deadline, "the permit came back");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(hasher.hash(&password).await.is_ok());
    }
}
