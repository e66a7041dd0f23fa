//! Counting attempts per key in fixed windows (sign-ins per account and per address, invalid
//! join links per address), in the database so that every instance of the server shares the count.

use super::{Store, StoreError, in_transaction, on_pool};
use onestop_domain::Timestamp;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimit {
    pub attempts: i64,
    pub window: Duration,
}

impl Store {
    /// Counts one attempt against each key and returns, for the first key over its limit, how
    /// long until its window ends. The attempt is counted before the password is checked, so
    /// parallel guesses cannot all slip in before the first failure is recorded.
    pub async fn register_attempt(
        &self,
        keys: &[(&str, ThrottleLimit)],
        now: Timestamp,
    ) -> Result<Option<Duration>, StoreError> {
        in_transaction!(self, |transaction| {
            let mut blocked_for = None;
            for (key, limit) in keys {
                let window_start_floor = now.minus(limit.window).unix_millis();
                let (attempts, window_started_at): (i64, i64) = sqlx::query_as(
                    "INSERT INTO sign_in_throttle (key, window_started_at, attempts) VALUES ($1, $2, 1) \
                     ON CONFLICT (key) DO UPDATE SET \
                       attempts = CASE WHEN sign_in_throttle.window_started_at <= $3 THEN 1 \
                                       ELSE sign_in_throttle.attempts + 1 END, \
                       window_started_at = CASE WHEN sign_in_throttle.window_started_at <= $3 THEN $2 \
                                                ELSE sign_in_throttle.window_started_at END \
                     RETURNING attempts, window_started_at",
                )
                .bind(key)
                .bind(now.unix_millis())
                .bind(window_start_floor)
                .fetch_one(&mut *transaction)
                .await?;
                if attempts > limit.attempts && blocked_for.is_none() {
                    let window_end =
                        Timestamp::from_unix_millis(window_started_at).plus(limit.window);
                    blocked_for = Some(now.until(window_end).max(Duration::from_secs(1)));
                }
            }
            Ok::<_, StoreError>(blocked_for)
        })
    }

    /// How long `key` must still wait, without counting anything.
    pub async fn throttle_wait(
        &self,
        key: &str,
        limit: ThrottleLimit,
        now: Timestamp,
    ) -> Result<Option<Duration>, StoreError> {
        let row: Option<(i64, i64)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT attempts, window_started_at FROM sign_in_throttle WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.and_then(|(attempts, window_started_at)| {
            let window_end = Timestamp::from_unix_millis(window_started_at).plus(limit.window);
            (attempts >= limit.attempts && now < window_end)
                .then(|| now.until(window_end).max(Duration::from_secs(1)))
        }))
    }

    /// Takes back one counted attempt (a successful sign-in should not count against an
    /// address), or all of them with `reset`.
    pub async fn forgive_attempt(&self, key: &str, reset: bool) -> Result<(), StoreError> {
        let sql = if reset {
            "DELETE FROM sign_in_throttle WHERE key = $1"
        } else {
            "UPDATE sign_in_throttle SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0"
        };
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(key)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
