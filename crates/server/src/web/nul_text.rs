//! The NUL character (U+0000) in a request's text. PostgreSQL's text cannot hold it (the query
//! fails), SQLite would keep it and cut it off elsewhere, and no person types it. So every way text
//! comes in refuses it at the edge, naming where it was, on both databases alike:
//! - query strings: [`refuse_nul_in_query`], a layer over every route;
//! - form bodies: `csrf::read_form` through [`urlencoded_name_with_nul`];
//! - JSON bodies (the API and SCIM): [`json_path_with_nul`].
//!
//! Elsewhere text is parsed before it is used: ids in paths are UUIDs or "not found"
//! (`session::IdPath`), one-time tokens in paths are only hashed, an API cursor holding a NUL is
//! no cursor (`api::json::decode_cursor`), an ID token whose `sub` or email holds one is refused
//! (`usecases::sso_callback`), header values cannot hold one (the `http` crate refuses them), and
//! an uploaded CSV with a NUL is not text (`usecases::user_import`).

use super::Face;
use super::api::Problem;
use super::error::WebError;
use super::scim::ScimResponse;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Says what is wrong and the fix, after the name of the place it was found.
pub const REFUSAL: &str =
    "contains the NUL character (%00), which no text can hold. Remove it and send again.";

/// The name of the first `name=value` pair of a urlencoded text (a query string or a form body)
/// whose name or value decodes to text holding a NUL, if there is one.
pub fn urlencoded_name_with_nul(encoded: &[u8]) -> Option<String> {
    // `%00` is the only way to write a NUL there: a raw NUL byte is not allowed in a URI, and a
    // form body with one is as well refused.
    let may_hold_nul = encoded.contains(&0) || encoded.windows(3).any(|three| three == b"%00");
    if !may_hold_nul {
        return None;
    }
    url::form_urlencoded::parse(encoded)
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| name.replace('\0', "\u{2400}"))
}

/// Where in a JSON document (`name.familyName`, `emails[0].value`) the first string or key
/// holding a NUL is, if one does.
pub fn json_path_with_nul(value: &Value) -> Option<String> {
    fn find(value: &Value, path: &str) -> Option<String> {
        match value {
            Value::String(text) => text.contains('\0').then(|| path.to_owned()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(index, item)| find(item, &format!("{path}[{index}]"))),
            Value::Object(members) => members.iter().find_map(|(key, member)| {
                let key_shown = key.replace('\0', "\u{2400}");
                let inner = if path.is_empty() {
                    key_shown
                } else {
                    format!("{path}.{key_shown}")
                };
                if key.contains('\0') {
                    Some(inner)
                } else {
                    find(member, &inner)
                }
            }),
            Value::Null | Value::Bool(_) | Value::Number(_) => None,
        }
    }
    let path = find(value, "")?;
    Some(if path.is_empty() {
        "body".to_owned()
    } else {
        path
    })
}

/// Whether a JSON body may hold a NUL: JSON can only write it escaped, as `\u0000`. Saves
/// walking the document of the bodies that cannot.
pub fn json_may_hold_nul(body: &[u8]) -> bool {
    body.windows(6).any(|six| six == b"\\u0000")
}

/// Refuses a request whose query string holds a NUL, in the answer its caller reads: a problem
/// document under `/api/`, a SCIM error under `/scim/`, a page elsewhere.
pub async fn refuse_nul_in_query(request: Request, next: Next) -> Response {
    let query = request.uri().query().unwrap_or_default();
    let Some(name) = urlencoded_name_with_nul(query.as_bytes()) else {
        return next.run(request).await;
    };
    match Face::of(request.uri().path()) {
        Face::Api => Problem::bad_parameter(&name, format!("The value {REFUSAL}")).into_response(),
        Face::Scim => {
            ScimResponse::invalid_value(format!("The parameter `{name}` {REFUSAL}")).into_response()
        }
        Face::Pages => WebError::BadRequest(format!("The address’s parameter “{name}” {REFUSAL}"))
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_place_of_a_nul_is_named_and_text_without_one_passes() {
        assert_eq!(
            urlencoded_name_with_nul(b"view=all&q=a%00b").as_deref(),
            Some("q")
        );
        assert_eq!(
            urlencoded_name_with_nul(b"a%00=1").as_deref(),
            Some("a\u{2400}")
        );
        assert_eq!(urlencoded_name_with_nul(b"q=100%25&r=%2500"), None);
        assert_eq!(urlencoded_name_with_nul(b"q=%C3%A0"), None);

        let document = json!({"name": {"givenName": "A", "familyName": "B\u{0}"}});
        assert_eq!(
            json_path_with_nul(&document).as_deref(),
            Some("name.familyName")
        );
        let document = json!({"emails": [{"value": "a"}, {"value": "\u{0}"}]});
        assert_eq!(
            json_path_with_nul(&document).as_deref(),
            Some("emails[1].value")
        );
        assert_eq!(json_path_with_nul(&json!("\u{0}")).as_deref(), Some("body"));
        assert_eq!(json_path_with_nul(&json!({"a": [1, "b", null]})), None);
        assert!(json_may_hold_nul(br#"{"a":"\u0000"}"#));
        assert!(!json_may_hold_nul(br#"{"a":"u0000"}"#));
    }
}
