//! The one-time codes of the first-run link.

use super::{Store, StoreError, on_pool};
use onestop_domain::{Timestamp, TokenHash};

impl Store {
    pub async fn add_first_run_code(
        &self,
        code_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("INSERT INTO first_run_codes (code_hash, created_at) VALUES ($1, $2)")
                .bind(code_hash.as_str())
                .bind(now.unix_millis())
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// True while the code exists and no organization does.
    pub async fn first_run_code_is_valid(&self, code_hash: &TokenHash) -> Result<bool, StoreError> {
        let valid: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM first_run_codes WHERE code_hash = $1 \
                    AND NOT EXISTS (SELECT 1 FROM organizations)",
            )
            .bind(code_hash.as_str())
            .fetch_one(pool)
            .await
        })?;
        Ok(valid == 1)
    }
}
