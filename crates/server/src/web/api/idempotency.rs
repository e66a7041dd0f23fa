//! `Idempotency-Key` on the API's creating requests (POST /api/v1/users, POST
//! /api/v1/users/reinvite): a script that retries with the same key and the same request gets the
//! first answer again and nobody is invited twice; the same key with another request is refused.
//! Keys are the token's own and live 24 hours (migration 0015).
//!
//! The key is claimed before the request runs and its answer kept after, in separate
//! transactions: a second request with the key, sent while the first still runs, answers 409 (the
//! primary key decides which is first). If the server stops between the change and keeping the
//! answer, the key stays claimed without one and answers 409 until it expires: never a second
//! invitation.

use super::{FieldProblem, Problem};
use crate::store::{IdempotencyClaim, StoredResponse};
use crate::usecases::api_tokens::ApiCaller;
use crate::web::AppState;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::future::Future;
use std::time::Duration;

pub const HEADER: &str = "Idempotency-Key";
/// How long a key's answer is kept.
pub const LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest key accepted.
pub const LONGEST_KEY: usize = 255;

/// The header `Idempotency-Key`, documented on the requests that take it.
// Read by `key_of` from the headers; this type only documents the header.
#[allow(dead_code)]
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Any text up to 255 visible ASCII characters, unique per intended request (a UUID, say).
    /// Retrying with the same key and body within 24 hours returns the first answer again.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    pub key: Option<String>,
}

/// An answer that can be kept for its key and sent again as it was.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
}

impl Answer {
    pub fn json<T: Serialize>(status: StatusCode, value: &T, location: Option<String>) -> Self {
        match serde_json::to_string(value) {
            Ok(body) => Self {
                status,
                body,
                location,
            },
            Err(error) => Problem::internal(&error).into(),
        }
    }
}

impl From<Problem> for Answer {
    fn from(problem: Problem) -> Self {
        Self {
            status: StatusCode::from_u16(problem.status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: serde_json::to_string(&problem).unwrap_or_default(),
            location: None,
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let content_type = if self.status.is_client_error() || self.status.is_server_error() {
            "application/problem+json"
        } else {
            "application/json"
        };
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(location) = self
            .location
            .and_then(|location| HeaderValue::from_str(&location).ok())
        {
            headers.insert(LOCATION, location);
        }
        response
    }
}

/// The request's key, if it sent one that can be used.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let refused = || {
        Problem::bad_parameter(
            HEADER,
            format!(
                "Use 1 to {LONGEST_KEY} visible ASCII characters without spaces (a UUID, say)."
            ),
        )
    };
    let key = value.to_str().map_err(|_| refused())?.trim();
    if key.is_empty() || key.len() > LONGEST_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refused());
    }
    Ok(Some(key.to_owned()))
}

/// Runs `request` (named like `POST /api/v1/users`, with its parsed `input`) once per key: the
/// first time it runs and its answer is kept (unless it failed on our side, 5xx, which a retry
/// may run again); a retry with the same key and request gets that answer again.
pub async fn once<T, F, Fut>(
    state: &AppState,
    caller: &ApiCaller,
    key: Option<String>,
    request: &str,
    input: &T,
    run: F,
) -> Response
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Answer>,
{
    let Some(key) = key else {
        return run().await.into_response();
    };
    let mut described = format!("{request}\n").into_bytes();
    described.extend(serde_json::to_vec(input).unwrap_or_default());
    let request_hash = onestop_domain::sha256_hex(&described);
    let store = &state.services.store;
    let now = state.services.clock.now();
    let claim = store
        .claim_idempotency_key(
            &caller.token_id,
            &key,
            &request_hash,
            now,
            now.plus(LIFETIME),
        )
        .await;
    match claim {
        Err(error) => Problem::internal(&error).into_response(),
        Ok(IdempotencyClaim::Claimed) => {
            let answer = run().await;
            let kept = if answer.status.is_server_error() {
                store.release_idempotency_key(&caller.token_id, &key).await
            } else {
                let stored = StoredResponse {
                    status: answer.status.as_u16(),
                    body: answer.body.clone(),
                    location: answer.location.clone(),
                };
                store
                    .record_idempotent_response(&caller.token_id, &key, &stored)
                    .await
            };
            if let Err(error) = kept {
                tracing::error!(%error, "the answer of an idempotency key was not kept");
            }
            answer.into_response()
        }
        Ok(IdempotencyClaim::Replay(stored)) => {
            let mut response = Answer {
                status: StatusCode::from_u16(stored.status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                body: stored.body,
                location: stored.location,
            }
            .into_response();
            response.headers_mut().insert(
                HeaderName::from_static("idempotent-replayed"),
                HeaderValue::from_static("true"),
            );
            response
        }
        Ok(IdempotencyClaim::InProgress) => Problem::conflict(
            "A request with this Idempotency-Key is still running. Wait a moment and retry with \
             the same key.",
        )
        .into_response(),
        Ok(IdempotencyClaim::OtherRequest) => Problem::invalid_fields(vec![FieldProblem {
            field: HEADER.to_owned(),
            message: "This key was used with a different request in the last 24 hours. Use a \
                      new key for a new request."
                .to_owned(),
        }])
        .into_response(),
    }
}
