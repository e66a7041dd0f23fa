//! Counting attempts per key in fixed windows (sign-ins per account and per address, invalid
//! join links per address, reset requests), in the database so that every instance of the server
//! shares the count.
//!
//! Keys are stored as the SHA-256 of their text, so an attacker's 60 KB "username" costs one
//! 64-character row at most; a key that is already blocked is not written again; expired windows
//! are purged by [`Store::purge_expired_throttles`].

use super::audit::insert_audit_event;
use super::{AuditEvent, Store, StoreError, in_transaction, on_pool, on_writer};
use onestop_domain::Timestamp;
use std::time::Duration;

/// One attempt as a key counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedAttempt {
    /// How long the key must still wait, when it is over its limit.
    pub wait: Option<Duration>,
    /// The attempt's number in the key's window; `None` when nothing was counted (a key was
    /// already blocked).
    pub number: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimit {
    pub attempts: i64,
    pub window: Duration,
}

/// What is counted: a kind (`"sign-in account"`, `"join address"`, ...) and a value (a user id,
/// an address, a typed login). Only its hash is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ThrottleKey(pub(super) String);

impl std::fmt::Debug for ThrottleKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ThrottleKey(..)")
    }
}

impl ThrottleKey {
    pub fn new(kind: &str, value: &str) -> Self {
        let mut text = Vec::with_capacity(kind.len() + 1 + value.len());
        text.extend_from_slice(kind.as_bytes());
        text.push(0);
        text.extend_from_slice(value.as_bytes());
        Self(onestop_domain::token::sha256_hex(&text))
    }

    /// Sign-in attempts against one user, whether they typed the username or the email.
    pub fn sign_in_account(user_id: &str) -> Self {
        Self::new("sign-in account", user_id)
    }
}

/// A key's counter, read before every sign-in attempt.
pub const THROTTLE_COUNTER: &str =
    "SELECT attempts, window_ends_at FROM throttle_counters WHERE key_hash = $1";

/// Counts one attempt against a key, starting a new window when the old one has ended.
pub const COUNT_ATTEMPT: &str = "INSERT INTO throttle_counters (key_hash, window_ends_at, attempts) VALUES ($1, $2, 1) \
     ON CONFLICT (key_hash) DO UPDATE SET \
       attempts = CASE WHEN throttle_counters.window_ends_at <= $3 THEN 1 \
                       ELSE throttle_counters.attempts + 1 END, \
       window_ends_at = CASE WHEN throttle_counters.window_ends_at <= $3 THEN $2 \
                             ELSE throttle_counters.window_ends_at END \
     RETURNING attempts, window_ends_at";

impl Store {
    /// How long until each key's window ends, for the keys that are over their limit now.
    async fn throttle_waits(
        &self,
        keys: &[(&ThrottleKey, ThrottleLimit)],
        now: Timestamp,
    ) -> Result<Vec<Option<Duration>>, StoreError> {
        let mut waits = Vec::with_capacity(keys.len());
        for (key, limit) in keys {
            let row: Option<(i64, i64)> = on_pool!(self, |pool| {
                sqlx::query_as(THROTTLE_COUNTER)
                    .bind(&key.0)
                    .fetch_optional(pool)
                    .await
            })?;
            waits.push(row.and_then(|(attempts, window_ends_at)| {
                let window_end = Timestamp::from_unix_millis(window_ends_at);
                (attempts >= limit.attempts && now < window_end)
                    .then(|| now.until(window_end).max(Duration::from_secs(1)))
            }));
        }
        Ok(waits)
    }

    /// Counts one attempt against every key, and returns for each key how long it must still wait
    /// if it is over its limit. The attempt is counted before the secret is checked, so parallel
    /// guesses cannot all slip in before the first failure is recorded. When a key is already
    /// blocked nothing is written at all: a flood costs reads, not writes (a caller that goes on
    /// despite a blocked key counts the other keys on their own).
    pub async fn register_attempt(
        &self,
        keys: &[(&ThrottleKey, ThrottleLimit)],
        now: Timestamp,
    ) -> Result<Vec<Option<Duration>>, StoreError> {
        Ok(self
            .register_numbered_attempt(keys, now)
            .await?
            .into_iter()
            .map(|counted| counted.wait)
            .collect())
    }

    /// As [`Store::register_attempt`], with the number this attempt got in each key's window:
    /// of parallel attempts each gets its own, so exactly one is the `n`th.
    pub async fn register_numbered_attempt(
        &self,
        keys: &[(&ThrottleKey, ThrottleLimit)],
        now: Timestamp,
    ) -> Result<Vec<CountedAttempt>, StoreError> {
        let waits = self.throttle_waits(keys, now).await?;
        let mut counted: Vec<CountedAttempt> = waits
            .into_iter()
            .map(|wait| CountedAttempt { wait, number: None })
            .collect();
        if counted.iter().any(|attempt| attempt.wait.is_some()) {
            return Ok(counted);
        }
        in_transaction!(self, |transaction| {
            for ((key, limit), attempt) in keys.iter().zip(counted.iter_mut()) {
                let window_end = now.plus(limit.window).unix_millis();
                let (attempts, window_ends_at): (i64, i64) = sqlx::query_as(COUNT_ATTEMPT)
                    .bind(&key.0)
                    .bind(window_end)
                    .bind(now.unix_millis())
                    .fetch_one(&mut *transaction)
                    .await?;
                attempt.number = Some(attempts);
                if attempts > limit.attempts {
                    let window_end = Timestamp::from_unix_millis(window_ends_at);
                    attempt.wait = Some(now.until(window_end).max(Duration::from_secs(1)));
                }
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(counted)
    }

    /// How long `key` must still wait, without counting anything.
    pub async fn throttle_wait(
        &self,
        key: &ThrottleKey,
        limit: ThrottleLimit,
        now: Timestamp,
    ) -> Result<Option<Duration>, StoreError> {
        Ok(self
            .throttle_waits(&[(key, limit)], now)
            .await?
            .into_iter()
            .next()
            .flatten())
    }

    /// A failed sign-in: notes the failure on the account's counter and, for a known user,
    /// records the audit event, in one transaction. Known and unknown logins thus cost the same
    /// single commit, and their timing does not tell them apart.
    pub async fn record_failed_sign_in(
        &self,
        account_key: &ThrottleKey,
        event: Option<&AuditEvent<'_>>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("UPDATE throttle_counters SET last_failure_at = $1 WHERE key_hash = $2")
                .bind(now.unix_millis())
                .bind(&account_key.0)
                .execute(&mut *transaction)
                .await?;
            if let Some(event) = event {
                insert_audit_event!(&mut *transaction, event)?;
            }
            Ok::<_, StoreError>(())
        })
    }

    /// Takes back one counted attempt (a successful sign-in should not count against an
    /// address), or all of them with `reset`.
    pub async fn forgive_attempt(&self, key: &ThrottleKey, reset: bool) -> Result<(), StoreError> {
        let sql = if reset {
            "DELETE FROM throttle_counters WHERE key_hash = $1"
        } else {
            "UPDATE throttle_counters SET attempts = attempts - 1 WHERE key_hash = $1 AND attempts > 0"
        };
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(&key.0)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Deletes counters whose window has ended; returns how many.
    pub async fn purge_expired_throttles(&self, now: Timestamp) -> Result<u64, StoreError> {
        let purged = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM throttle_counters WHERE window_ends_at <= $1")
                .bind(now.unix_millis())
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(purged)
    }
}
