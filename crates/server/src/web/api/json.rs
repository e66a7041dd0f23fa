//! JSON in and out of the API: request bodies whose every problem (not JSON, a wrong type, an
//! unknown or missing field) is a problem document naming the field, query strings likewise, and
//! the times and cursors every resource shares.

use super::Problem;
use crate::web::nul_text;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A JSON request body of type `T`. Refused with a problem document: 415 when it is not sent as
/// JSON, 400 when it is not well-formed JSON, 422 naming the field when it does not fit `T`
/// (a wrong type, a missing field, a field `T` does not have).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as JSON, with the header `Content-Type: application/json`.",
            ));
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "The body is over 64 KiB. Send fewer users at a time.",
                    ),
                    status => Problem::new(status, rejection.body_text()),
                })?;
        parse_body(&bytes).map(Self)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"))
}

/// Reads a body as `T`, or says what is wrong with it and where.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        body_problem(&path, error.into_inner())
    })?;
    deserializer
        .end()
        .map_err(|error| body_problem(".", error))?;
    if nul_text::json_may_hold_nul(bytes)
        && let Ok(document) = serde_json::from_slice(bytes)
        && let Some(field) = nul_text::json_path_with_nul(&document)
    {
        return Err(Problem::invalid_fields(vec![super::FieldProblem {
            field,
            message: format!("The value {}", nul_text::REFUSAL),
        }]));
    }
    Ok(value)
}

fn body_problem(path: &str, error: serde_json::Error) -> Problem {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => {
            let message = error.to_string();
            // Position ("at line 1 column 12") means nothing to a script that built a value.
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            let field = if path == "." {
                named_in(&message).unwrap_or_else(|| "body".to_owned())
            } else {
                path.to_owned()
            };
            Problem::invalid_fields(vec![super::FieldProblem {
                field,
                message: sentence(&message),
            }])
        }
        Category::Syntax | Category::Eof | Category::Io => Problem::new(
            StatusCode::BAD_REQUEST,
            format!("The body is not valid JSON: {error}."),
        ),
    }
}

/// The field serde names in "missing field `x`" or "unknown field `x`, expected ...".
fn named_in(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split('`').next().map(str::to_owned)
}

/// serde's message as a sentence, with what to do for the two common cases.
fn sentence(message: &str) -> String {
    if message.starts_with("missing field") {
        "This field is required.".to_owned()
    } else if message.starts_with("unknown field") {
        format!("This request has no such field; remove it ({message}).")
    } else {
        let mut letters = message.chars();
        letters.next().map_or_else(String::new, |first| {
            format!("{}{}.", first.to_uppercase(), letters.as_str())
        })
    }
}

/// A query string of type `T` (whose fields are text, checked by the handler), or a 400
/// problem document.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let unreadable = |error: serde_html_form::de::Error| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                format!("The query string cannot be read: {error}."),
            )
        };
        // An empty value would read as an absent one; only the search may be empty.
        let pairs: Vec<(String, String)> = serde_html_form::from_str(query).map_err(unreadable)?;
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, value)| value.is_empty() && name != "q")
        {
            return Err(Problem::bad_parameter(
                name,
                "Give a value, or leave the parameter out.",
            ));
        }
        serde_html_form::from_str(query)
            .map(Self)
            .map_err(unreadable)
    }
}

/// A time as the API writes it: RFC 3339 in UTC (`2026-12-01T21:00:00Z`).
pub fn time(unix_millis: i64) -> String {
    jiff::Timestamp::from_millisecond(unix_millis)
        .map(|time| time.to_string())
        .unwrap_or_default()
}

/// An opaque cursor: the position to go on from, as hex-encoded JSON. Scripts pass it back
/// unchanged; its content is ours to change.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    serde_json::to_vec(position)
        .unwrap_or_default()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The position a cursor of [`encode_cursor`] holds; `None` for anything else, a cursor whose
/// text holds a NUL among them (none of ours does, and its text goes to the database).
pub fn decode_cursor<T: DeserializeOwned>(cursor: &str) -> Option<T> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 4096 {
        return None;
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(cursor.get(index..index + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    if nul_text::json_may_hold_nul(&bytes) {
        return None;
    }
    serde_json::from_slice(&bytes).ok()
}

/// `limit`: 1 to `max`, `default` when absent.
pub fn limit(text: Option<&str>, default: i64, max: i64) -> Result<i64, Problem> {
    match text {
        None => Ok(default),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(limit) if (1..=max).contains(&limit) => Ok(limit),
            _ => Err(Problem::bad_parameter(
                "limit",
                format!("Give a whole number from 1 to {max}."),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        name: String,
        count: Option<u32>,
    }

    #[test]
    fn every_body_problem_names_its_field() {
        let wrong_type = parse_body::<Body>(br#"{"name": 5}"#).unwrap_err();
        assert_eq!(
            (wrong_type.status, wrong_type.errors[0].field.as_str()),
            (422, "name")
        );
        let unknown = parse_body::<Body>(br#"{"name": "a", "colour": 1}"#).unwrap_err();
        assert_eq!(
            (unknown.status, unknown.errors[0].field.as_str()),
            (422, "colour")
        );
        let missing = parse_body::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(missing.errors[0].field, "name");
        assert_eq!(missing.errors[0].message, "This field is required.");
        assert_eq!(parse_body::<Body>(b"{\"name\":").unwrap_err().status, 400);
        assert_eq!(
            parse_body::<Body>(br#"{"name": "a"} {}"#)
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn a_cursor_comes_back_as_it_went_and_nothing_else_is_one() {
        let body = Body {
            name: "Lovelace: Ada".to_owned(),
            count: Some(3),
        };
        assert_eq!(decode_cursor::<Body>(&encode_cursor(&body)), Some(body));
        assert_eq!(decode_cursor::<Body>("zz"), None);
        assert_eq!(decode_cursor::<Body>("7b7d0"), None);
        assert_eq!(decode_cursor::<Body>("é"), None);
    }
}
