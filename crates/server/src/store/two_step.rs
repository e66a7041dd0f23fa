//! Two-step verification: the methods a user has set up (authenticator apps; passkeys are
//! stored beside them), their recovery codes, and the browsers remembered after a second step.

use super::{Store, StoreError, on_pool};
use onestop_domain::{Timestamp, UserId};

impl Store {
    /// Does a sign-in of this user, whose password was just checked, owe a second step? It does
    /// when they have a method or an unused recovery code, unless this browser was remembered
    /// (`remembered`: the SHA-256 of its cookie's token) after an earlier second step and that
    /// has not expired.
    pub async fn second_step_owed(
        &self,
        user_id: &UserId,
        remembered: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (methods, codes, remembered): (i64, i64, i64) = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT \
                   (SELECT COUNT(*) FROM two_step_methods WHERE user_id = $1), \
                   (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL), \
                   (SELECT COUNT(*) FROM remembered_browsers \
                     WHERE user_id = $1 AND token_hash = $2 AND expires_at > $3)",
            )
            .bind(user_id)
            .bind(remembered.unwrap_or(""))
            .bind(now.unix_millis())
            .fetch_one(pool)
            .await
        })?;
        Ok((methods > 0 || codes > 0) && remembered == 0)
    }
}
