//! Idempotency keys of the JSON API (migration 0015): the first request with a key claims it,
//! its answer is kept for 24 hours, and a retry with the same key gets that answer again.

use super::{Store, StoreError, in_transaction, on_writer};
use onestop_domain::{ApiTokenId, Timestamp};

/// An answer kept for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

/// What a request finds when it claims its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is this request's: run it, then [`Store::record_idempotent_response`] (or
    /// [`Store::release_idempotency_key`] when it failed and may be tried again).
    Claimed,
    /// The same request ran before: its answer.
    Replay(StoredResponse),
    /// The same key is held by a request that has not answered yet.
    InProgress,
    /// The key was used with another request (another body or address).
    OtherRequest,
}

/// The key's row as a later request reads it.
#[derive(Debug, sqlx::FromRow)]
struct KeyRow {
    request_hash: String,
    response_status: Option<i64>,
    response_body: Option<String>,
    response_location: Option<String>,
}

impl KeyRow {
    fn claim_for(self, request_hash: &str) -> IdempotencyClaim {
        if self.request_hash != request_hash {
            return IdempotencyClaim::OtherRequest;
        }
        match (self.response_status, self.response_body) {
            (Some(status), Some(body)) => IdempotencyClaim::Replay(StoredResponse {
                status: u16::try_from(status).unwrap_or(500),
                body,
                location: self.response_location,
            }),
            _ => IdempotencyClaim::InProgress,
        }
    }
}

impl Store {
    /// Claims `key` of the token for the request whose hash is `request_hash`, until
    /// `expires_at`; an expired claim of the token's is removed first. The primary key decides
    /// between two requests that claim one key at once: the second finds the first's row.
    pub async fn claim_idempotency_key(
        &self,
        token_id: &ApiTokenId,
        key: &str,
        request_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<IdempotencyClaim, StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query(
                "DELETE FROM api_idempotency_keys WHERE token_id = $1 AND expires_at <= $2",
            )
            .bind(token_id.as_str())
            .bind(now.unix_millis())
            .execute(&mut *transaction)
            .await?;
            let inserted = sqlx::query(
                "INSERT INTO api_idempotency_keys \
                 (token_id, idempotency_key, request_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (token_id, idempotency_key) DO NOTHING",
            )
            .bind(token_id.as_str())
            .bind(key)
            .bind(request_hash)
            .bind(now.unix_millis())
            .bind(expires_at.unix_millis())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            let claim = if inserted == 1 {
                IdempotencyClaim::Claimed
            } else {
                sqlx::query_as::<_, KeyRow>(
                    "SELECT request_hash, response_status, response_body, response_location \
                     FROM api_idempotency_keys WHERE token_id = $1 AND idempotency_key = $2",
                )
                .bind(token_id.as_str())
                .bind(key)
                .fetch_one(&mut *transaction)
                .await?
                .claim_for(request_hash)
            };
            Ok::<_, StoreError>(claim)
        })
    }

    /// Keeps the answer of the request that claimed `key`.
    pub async fn record_idempotent_response(
        &self,
        token_id: &ApiTokenId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE api_idempotency_keys \
                 SET response_status = $3, response_body = $4, response_location = $5 \
                 WHERE token_id = $1 AND idempotency_key = $2",
            )
            .bind(token_id.as_str())
            .bind(key)
            .bind(i64::from(response.status))
            .bind(&response.body)
            .bind(response.location.as_deref())
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// Gives `key` up (its request failed and changed nothing): a retry may run again.
    pub async fn release_idempotency_key(
        &self,
        token_id: &ApiTokenId,
        key: &str,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(
                "DELETE FROM api_idempotency_keys WHERE token_id = $1 AND idempotency_key = $2 \
                 AND response_status IS NULL",
            )
            .bind(token_id.as_str())
            .bind(key)
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }
}
