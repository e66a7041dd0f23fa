//! The one-time codes of the first-run link.

use super::{Store, StoreError, in_transaction, on_pool};
use onestop_domain::{Timestamp, TokenHash};

impl Store {
    /// Stores a new code and removes every older one: only the newest printed link works.
    pub async fn replace_first_run_code(
        &self,
        code_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query("DELETE FROM first_run_codes")
                .execute(&mut *transaction)
                .await?;
            sqlx::query("INSERT INTO first_run_codes (code_hash, created_at) VALUES ($1, $2)")
                .bind(code_hash.as_str())
                .bind(now.unix_millis())
                .execute(&mut *transaction)
                .await?;
            Ok::<_, StoreError>(())
        })
    }

    /// True while the code exists, was issued after `issued_after`, and no organization exists.
    pub async fn first_run_code_is_valid(
        &self,
        code_hash: &TokenHash,
        issued_after: Timestamp,
    ) -> Result<bool, StoreError> {
        let valid: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM first_run_codes WHERE code_hash = $1 AND created_at > $2 \
                    AND NOT EXISTS (SELECT 1 FROM organizations)",
            )
            .bind(code_hash.as_str())
            .bind(issued_after.unix_millis())
            .fetch_one(pool)
            .await
        })?;
        Ok(valid == 1)
    }
}
