//! Hashing and verifying passwords with argon2id, off the async runtime and bounded, so that a
//! burst of sign-ins cannot starve other requests or exhaust memory (19 MiB per hash).

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    memory: Arc<WorkingMemory>,
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
        let dummy_hash = dummy_phc()?;
        let memory = Arc::new(WorkingMemory::default());
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            concurrency: concurrency.max(1),
            running: Arc::default(),
            most_running: Arc::default(),
            memory,
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// Returns an argon2id PHC string (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
    pub async fn hash(&self, password: &Password) -> Result<String, HashingError> {
        let password = password.clone();
        let memory = self.memory.clone();
        self.run(move || hash_now(&password, &memory)).await?
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
        let memory = self.memory.clone();
        let matched = self
            .run(move || verify_now(&password, &stored, &memory))
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
        let waiting_since = std::time::Instant::now();
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|error| HashingError(error.to_string()))?;
        crate::metrics::record_password_hash_wait(waiting_since.elapsed());
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

/// argon2's working memory (19 MiB a hash), kept and reused rather than allocated for each hash.
/// Allocated per hash, the freed buffers stay with the allocator (glibc keeps them in the arena of
/// whichever thread ran the hash): 50 joins at once left the server holding 850 MiB although never
/// more than two hashes ran. Reused, there are never more buffers than hashes running at once, that
/// is than permits.
#[derive(Debug, Default)]
struct WorkingMemory(std::sync::Mutex<Vec<Vec<Block>>>);

impl WorkingMemory {
    /// Runs `work` on `blocks` blocks of working memory: a kept buffer when one of that size is
    /// free, else a new one, kept afterwards if it has the size our own hashes use.
    fn with<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let kept = match self.0.lock() {
            Ok(mut free) if free.last().is_some_and(|buffer| buffer.len() == blocks) => free.pop(),
            _ => None,
        };
        let mut buffer = kept.unwrap_or_else(|| vec![Block::default(); blocks]);
        let result = work(&mut buffer);
        if buffer.len() == Params::default().block_count()
            && let Ok(mut free) = self.0.lock()
        {
            free.push(buffer);
        }
        result
    }
}

fn hashing_error(error: impl std::fmt::Display) -> HashingError {
    HashingError(error.to_string())
}

/// An argon2id PHC string at the default parameters (m = 19 MiB, t = 2, p = 1), with a 16-byte
/// random salt: what `Argon2::default().hash_password` makes, on reused working memory.
fn hash_now(password: &Password, memory: &WorkingMemory) -> Result<String, HashingError> {
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(hashing_error)?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    memory
        .with(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(
                password.expose().as_bytes(),
                &salt,
                &mut output,
                blocks,
            )
        })
        .map_err(hashing_error)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(hashing_error)?,
        salt: Some(Salt::new(&salt).map_err(hashing_error)?),
        hash: Some(Output::new(&output).map_err(hashing_error)?),
    };
    Ok(hash.to_string())
}

/// A PHC string with our parameters and a random salt whose output matches no password: verifying
/// against it costs exactly what verifying a real hash costs (the work is hashing the typed
/// password with the stored parameters and salt), and making it costs nothing, so start-up does
/// not wait for an argon2 hash.
fn dummy_phc() -> Result<String, HashingError> {
    let params = Params::default();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(hashing_error)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(hashing_error)?,
        salt: Some(Salt::new(&salt).map_err(hashing_error)?),
        hash: Some(Output::new(&[0u8; Params::DEFAULT_OUTPUT_LEN]).map_err(hashing_error)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored` (whatever its argon2 parameters), computed
/// on reused working memory and compared in constant time. Anything unparsable is a mismatch.
fn verify_now(password: &Password, stored: &str, memory: &WorkingMemory) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut output = vec![0u8; expected.len()];
    let computed = memory.with(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(
            password.expose().as_bytes(),
            salt.as_ref(),
            &mut output,
            blocks,
        )
    });
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&output).is_ok_and(|computed| &computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher as _, PasswordVerifier as _};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_on_reused_memory_are_argon2ids_own_both_ways() {
        let hasher = PasswordHasher::new(2).unwrap();
        let password = Password::for_sign_in("a password long enough").unwrap();
        let wrong = Password::for_sign_in("another password entirely").unwrap();
        let ours = hasher.hash(&password).await.unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        // The crate's own verification accepts ours...
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok()
        );
        // ...and ours accepts the crate's, also at other parameters, and refuses wrong passwords.
        let theirs = Argon2::default()
            .hash_password(password.expose().as_bytes())
            .unwrap()
            .to_string();
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(password.expose().as_bytes())
        .unwrap()
        .to_string();
        for stored in [&ours, &theirs, &small] {
            assert!(hasher.verify(&password, Some(stored)).await.unwrap());
            assert!(!hasher.verify(&wrong, Some(stored)).await.unwrap());
        }
        assert!(!hasher.verify(&password, Some("not a hash")).await.unwrap());
        assert!(!hasher.verify(&password, None).await.unwrap(), "the dummy");
        // The dummy carries our own parameters, so verifying against it costs a real verify.
        let dummy = PasswordHash::new(&hasher.dummy_hash).unwrap();
        let (parsed, ours) = (Params::try_from(&dummy).unwrap(), Params::default());
        assert_eq!(
            (parsed.m_cost(), parsed.t_cost(), parsed.p_cost()),
            (ours.m_cost(), ours.t_cost(), ours.p_cost())
        );
        assert_eq!(dummy.algorithm, Algorithm::Argon2id.ident());
        assert!(
            hasher.memory.0.lock().unwrap().len() <= 2,
            "no more buffers than permits"
        );
    }

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
