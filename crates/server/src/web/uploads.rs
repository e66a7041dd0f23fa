//! File uploads: a `multipart/form-data` body with its CSRF token, read by [`CsrfUpload`].
//!
//! The token travels as the form's first field, `csrf_token`, and is checked exactly as
//! [`super::csrf::CsrfForm`] checks urlencoded forms ([`ExpectedToken`]): a multipart form gets
//! no easier pass. The body is read up to [`UPLOAD_BODY_LIMIT`]; a larger one is read on and
//! thrown away up to [`DISCARD_LIMIT`], so that the browser, which is still sending it, gets to
//! show the page saying the file is too large instead of a reset connection. A body declared
//! larger than that is not read at all.

use super::AppState;
use super::csrf::{ExpectedToken, MALFORMED_FORM};
use super::error::WebError;
use crate::pictures::MAX_UPLOAD_BYTES;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use futures_util::StreamExt;

/// A picture and the multipart framing around it (boundaries, the token, headers of each part).
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;
/// Beyond the limit, a body is read and discarded up to this size before the answer.
const DISCARD_LIMIT: usize = 4 * UPLOAD_BODY_LIMIT;

/// What an upload form sent.
#[derive(Debug)]
pub enum Upload {
    /// The file of the form's `picture` field (empty when none was chosen), its token checked.
    File(Vec<u8>),
    /// The body was over [`UPLOAD_BODY_LIMIT`]. Nothing of it was used, so its token was not
    /// checked: the handler only says so and changes nothing.
    TooLarge,
}

/// A `multipart/form-data` upload with a valid CSRF token; see the module's documentation.
#[derive(Debug)]
pub struct CsrfUpload(pub Upload);

impl FromRequest<AppState> for CsrfUpload {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = ExpectedToken::of(&request, state);
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > DISCARD_LIMIT as u64) {
            tracing::info!(declared, "upload too large to read");
            return Ok(Self(Upload::TooLarge));
        }
        let (parts, body) = request.into_parts();
        let Some(body) = read_within_limit(body).await? else {
            tracing::info!(declared, "upload over the limit");
            return Ok(Self(Upload::TooLarge));
        };
        let request = Request::from_parts(parts, Body::from(body));
        let malformed = |reason: &dyn std::fmt::Display| {
            tracing::info!(%reason, "malformed upload");
            WebError::BadRequest(MALFORMED_FORM.to_owned())
        };
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| malformed(&rejection))?;
        let mut token = None;
        let mut file = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|error| malformed(&error))?
        {
            match field.name() {
                Some("csrf_token") if token.is_none() => {
                    token = Some(field.text().await.map_err(|error| malformed(&error))?);
                }
                Some("picture") if file.is_none() => {
                    file = Some(field.bytes().await.map_err(|error| malformed(&error))?);
                }
                Some("csrf_token" | "picture") => return Err(malformed(&"a field given twice")),
                _ => {}
            }
        }
        expected.check(token.as_deref().unwrap_or_default())?;
        Ok(Self(Upload::File(file.map(Vec::from).unwrap_or_default())))
    }
}

/// The body, if it is at most [`UPLOAD_BODY_LIMIT`] bytes; `None` (after reading on up to
/// [`DISCARD_LIMIT`]) if it is larger.
async fn read_within_limit(body: Body) -> Result<Option<Vec<u8>>, WebError> {
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            tracing::info!(%error, "reading an upload failed");
            WebError::BadRequest(MALFORMED_FORM.to_owned())
        })?;
        total = total.saturating_add(chunk.len());
        if total > DISCARD_LIMIT {
            return Ok(None);
        }
        if total <= UPLOAD_BODY_LIMIT {
            kept.extend_from_slice(&chunk);
        } else if !kept.is_empty() {
            kept = Vec::new();
        }
    }
    Ok((total <= UPLOAD_BODY_LIMIT).then_some(kept))
}
