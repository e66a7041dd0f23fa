//! File uploads: a `multipart/form-data` body with its CSRF token, read by [`CsrfUpload`] (a
//! picture) and [`CsrfCsvUpload`] (a file of users to import), each with its own limit.
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

/// The multipart framing around a file (boundaries, the token, headers of each part).
const FRAMING_BYTES: usize = 64 * 1024;
/// A picture and its framing.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + FRAMING_BYTES;
/// A CSV file to import and its framing.
pub const CSV_UPLOAD_BODY_LIMIT: usize =
    crate::usecases::user_import::csv_file::MAX_FILE_BYTES + FRAMING_BYTES;
/// Beyond its limit, a body is read and discarded up to this many times it before the answer.
const DISCARD_FACTOR: usize = 4;

/// What an upload form sent.
#[derive(Debug)]
pub enum Upload {
    /// The file of the form's file field (empty when none was chosen), its token checked.
    File(Vec<u8>),
    /// The body was over the route's limit. Nothing of it was used, so its token was not
    /// checked: the handler only says so and changes nothing.
    TooLarge,
}

/// A `multipart/form-data` upload with a valid CSRF token; see the module's documentation.
#[derive(Debug)]
pub struct CsrfUpload(pub Upload);

impl FromRequest<AppState> for CsrfUpload {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        read_upload(request, state, "picture", UPLOAD_BODY_LIMIT)
            .await
            .map(Self)
    }
}

/// A `multipart/form-data` upload of a CSV file (field `file`, up to
/// [`CSV_UPLOAD_BODY_LIMIT`]) with a valid CSRF token.
#[derive(Debug)]
pub struct CsrfCsvUpload(pub Upload);

impl FromRequest<AppState> for CsrfCsvUpload {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        read_upload(request, state, "file", CSV_UPLOAD_BODY_LIMIT)
            .await
            .map(Self)
    }
}

/// Reads the body (see the module's documentation) and takes the file of `file_field` from it.
async fn read_upload(
    request: Request,
    state: &AppState,
    file_field: &str,
    limit: usize,
) -> Result<Upload, WebError> {
    let expected = ExpectedToken::of(&request, state);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > (DISCARD_FACTOR * limit) as u64) {
        tracing::info!(declared, "upload too large to read");
        return Ok(Upload::TooLarge);
    }
    let (parts, body) = request.into_parts();
    let Some(body) = read_within_limit(body, limit).await? else {
        tracing::info!(declared, "upload over the limit");
        return Ok(Upload::TooLarge);
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
            Some(name) if name == file_field && file.is_none() => {
                file = Some(field.bytes().await.map_err(|error| malformed(&error))?);
            }
            Some(name) if name == "csrf_token" || name == file_field => {
                return Err(malformed(&"a field given twice"));
            }
            _ => {}
        }
    }
    expected.check(token.as_deref().unwrap_or_default())?;
    Ok(Upload::File(file.map(Vec::from).unwrap_or_default()))
}

/// The body, if it is at most `limit` bytes; `None` (after reading on up to
/// [`DISCARD_FACTOR`] times the limit) if it is larger.
async fn read_within_limit(body: Body, limit: usize) -> Result<Option<Vec<u8>>, WebError> {
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            tracing::info!(%error, "reading an upload failed");
            WebError::BadRequest(MALFORMED_FORM.to_owned())
        })?;
        total = total.saturating_add(chunk.len());
        if total > DISCARD_FACTOR * limit {
            return Ok(None);
        }
        if total <= limit {
            kept.extend_from_slice(&chunk);
        } else if !kept.is_empty() {
            kept = Vec::new();
        }
    }
    Ok((total <= limit).then_some(kept))
}
