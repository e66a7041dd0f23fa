//! PATCH (RFC 7644 §3.5.2): the operations are applied to the user as SCIM shows them, and the
//! result is read like a PUT body, so PATCH and PUT share every check.
//!
//! Understood: `add`, `replace`, `remove` in any letter case (Microsoft Entra ID sends `Replace`);
//! paths `attr`, `attr.sub`, `attr[x eq "v"]`, `attr[x eq "v"].sub`, with or without the core
//! schema's URN, and the 1Stop extension's `urn:…:1stop:2.0:User:profile` / `:role`; a path-less
//! `add`/`replace` whose value is an object of attributes (Okta's and Entra's
//! `{"active": false}`), whose keys may themselves be paths (`"name.givenName"`). Paths into
//! other extensions (enterprise) are accepted and ignored, as are attributes we do not keep.

use super::errors::ScimResponse;
use super::resource::{EXTENSION, get_ci};
use serde_json::{Map, Value};

const CORE_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// A parsed path: `attribute[filter].sub`, inside the extension object when `in_extension`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    in_extension: bool,
    /// Another schema's extension: accepted and ignored.
    ignored: bool,
    attribute: String,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

fn invalid_path(path: &str) -> ScimResponse {
    ScimResponse::new(
        axum::http::StatusCode::BAD_REQUEST,
        Some("invalidPath"),
        format!(
            "path \"{path}\" is not understood. Use attribute, attribute.subAttribute or attribute[type eq \"work\"].subAttribute."
        ),
    )
}

fn parse_path(raw: &str) -> Result<Path, ScimResponse> {
    let trimmed = raw.trim();
    let lower = trimmed.to_ascii_lowercase();
    let extension_prefix = format!("{}:", EXTENSION.to_ascii_lowercase());
    let (in_extension, rest) = if lower.starts_with(&extension_prefix) {
        (true, &trimmed[extension_prefix.len()..])
    } else if lower.starts_with(CORE_PREFIX) {
        (false, &trimmed[CORE_PREFIX.len()..])
    } else if lower.starts_with("urn:") {
        return Ok(Path {
            in_extension: false,
            ignored: true,
            attribute: String::new(),
            filter: None,
            sub: None,
        });
    } else {
        (false, trimmed)
    };
    let (head, sub_after_bracket, filter) = match rest.split_once('[') {
        Some((attribute, after)) => {
            let (inside, tail) = after.split_once(']').ok_or_else(|| invalid_path(raw))?;
            let mut words = inside.trim().splitn(3, ' ');
            let (Some(key), Some(op), Some(value)) = (words.next(), words.next(), words.next())
            else {
                return Err(invalid_path(raw));
            };
            if !op.eq_ignore_ascii_case("eq") {
                return Err(invalid_path(raw));
            }
            let value = value.trim().trim_matches('"').to_owned();
            let sub = match tail.strip_prefix('.') {
                Some(sub) if !sub.is_empty() => Some(sub.to_owned()),
                None if tail.is_empty() => None,
                _ => return Err(invalid_path(raw)),
            };
            (attribute.to_owned(), sub, Some((key.to_owned(), value)))
        }
        None => match rest.split_once('.') {
            Some((attribute, sub)) => (attribute.to_owned(), Some(sub.to_owned()), None),
            None => (rest.to_owned(), None, None),
        },
    };
    if head.is_empty() || head.contains(' ') {
        return Err(invalid_path(raw));
    }
    Ok(Path {
        in_extension,
        ignored: false,
        attribute: head,
        filter,
        sub: sub_after_bracket,
    })
}

/// The key of `object` equal to `name` case-insensitively, or `name` itself.
fn key_in(object: &Map<String, Value>, name: &str) -> String {
    object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

fn matches_filter(element: &Value, filter: &(String, String)) -> bool {
    element
        .as_object()
        .and_then(|object| get_ci(object, &filter.0))
        .is_some_and(|value| match value {
            Value::String(text) => text.eq_ignore_ascii_case(&filter.1),
            other => other.to_string().eq_ignore_ascii_case(&filter.1),
        })
}

fn apply_at(
    resource: &mut Value,
    op: Op,
    path: &Path,
    value: Option<&Value>,
) -> Result<(), ScimResponse> {
    if path.ignored {
        return Ok(());
    }
    let Some(root) = resource.as_object_mut() else {
        return Ok(());
    };
    let target = if path.in_extension {
        let key = key_in(root, EXTENSION);
        let extension = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !extension.is_object() {
            *extension = Value::Object(Map::new());
        }
        match extension.as_object_mut() {
            Some(object) => object,
            None => return Ok(()),
        }
    } else {
        root
    };
    let key = key_in(target, &path.attribute);
    match (&path.filter, &path.sub) {
        (None, None) => match op {
            Op::Remove => {
                target.remove(&key);
            }
            Op::Add | Op::Replace => {
                let value = value.cloned().unwrap_or(Value::Null);
                match (target.get_mut(&key), value) {
                    (Some(Value::Object(existing)), Value::Object(new)) if op == Op::Add => {
                        existing.extend(new);
                    }
                    (_, value) => {
                        target.insert(key, value);
                    }
                }
            }
        },
        (None, Some(sub)) => {
            let parent = target
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !parent.is_object() {
                *parent = Value::Object(Map::new());
            }
            if let Some(parent) = parent.as_object_mut() {
                let sub_key = key_in(parent, sub);
                match op {
                    Op::Remove => {
                        parent.remove(&sub_key);
                    }
                    Op::Add | Op::Replace => {
                        parent.insert(sub_key, value.cloned().unwrap_or(Value::Null));
                    }
                }
            }
        }
        (Some(filter), sub) => {
            let list = target
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !list.is_array() {
                *list = Value::Array(Vec::new());
            }
            let Some(list) = list.as_array_mut() else {
                return Ok(());
            };
            match (op, sub) {
                (Op::Remove, None) => list.retain(|element| !matches_filter(element, filter)),
                (Op::Remove, Some(sub)) => {
                    for element in list.iter_mut().filter(|e| matches_filter(e, filter)) {
                        if let Some(object) = element.as_object_mut() {
                            let sub_key = key_in(object, sub);
                            object.remove(&sub_key);
                        }
                    }
                }
                (Op::Add | Op::Replace, sub) => {
                    if !list.iter().any(|element| matches_filter(element, filter)) {
                        let mut element = Map::new();
                        element.insert(filter.0.clone(), Value::from(filter.1.clone()));
                        list.push(Value::Object(element));
                    }
                    for element in list.iter_mut().filter(|e| matches_filter(e, filter)) {
                        match (sub, value) {
                            (Some(sub), value) => {
                                if let Some(object) = element.as_object_mut() {
                                    let sub_key = key_in(object, sub);
                                    object.insert(sub_key, value.cloned().unwrap_or(Value::Null));
                                }
                            }
                            (None, Some(Value::Object(new))) => {
                                if let Some(object) = element.as_object_mut() {
                                    object.extend(new.clone());
                                }
                            }
                            (None, _) => {
                                return Err(ScimResponse::invalid_value(
                                    "value: send an object for a path that selects list entries.",
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Applies a PatchOp body to `resource`.
pub fn apply(resource: &mut Value, body: &Value) -> Result<(), ScimResponse> {
    let operations = body
        .as_object()
        .and_then(|object| get_ci(object, "Operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ScimResponse::invalid_syntax(
                "Send a PatchOp: {\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"], \"Operations\": [{\"op\": \"replace\", \"path\": \"active\", \"value\": false}]}.",
            )
        })?;
    for operation in operations {
        let Some(operation) = operation.as_object() else {
            return Err(ScimResponse::invalid_syntax(
                "Operations: each operation is an object.",
            ));
        };
        let op = match get_ci(operation, "op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
        {
            Some(op) if op == "add" => Op::Add,
            Some(op) if op == "replace" => Op::Replace,
            Some(op) if op == "remove" => Op::Remove,
            _ => {
                return Err(ScimResponse::invalid_syntax(
                    "op: use \"add\", \"replace\" or \"remove\".",
                ));
            }
        };
        let value = get_ci(operation, "value");
        match get_ci(operation, "path").and_then(Value::as_str) {
            Some(path) => apply_at(resource, op, &parse_path(path)?, value)?,
            None if op == Op::Remove => {
                return Err(ScimResponse::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    Some("noTarget"),
                    "path: a remove operation needs one.",
                ));
            }
            None => {
                let Some(Value::Object(attributes)) = value else {
                    return Err(ScimResponse::invalid_value(
                        "value: without a path, send an object of attributes, such as {\"active\": false}.",
                    ));
                };
                for (name, value) in attributes {
                    if name.eq_ignore_ascii_case(EXTENSION) {
                        if let Value::Object(fields) = value {
                            for (field, value) in fields {
                                let path = parse_path(&format!("{EXTENSION}:{field}"))?;
                                apply_at(resource, op, &path, Some(value))?;
                            }
                        }
                        continue;
                    }
                    let path = parse_path(name)?;
                    // A path-less replace of a complex attribute replaces the sub-attributes
                    // it names and keeps the others.
                    let merged_op =
                        if path.filter.is_none() && path.sub.is_none() && value.is_object() {
                            Op::Add
                        } else {
                            op
                        };
                    apply_at(resource, merged_op, &path, Some(value))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1",
            "userName": "ada@example.com",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
            "active": true,
            "externalId": "x1",
            EXTENSION: {"profile": "Standard", "role": "CEO"}
        })
    }

    fn patched(operations: Value) -> Value {
        let mut resource = user();
        apply(
            &mut resource,
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}),
        )
        .unwrap();
        resource
    }

    #[test]
    fn okta_deactivates_with_a_pathless_replace() {
        let resource = patched(json!([{"op": "replace", "value": {"active": false}}]));
        assert_eq!(resource["active"], false);
        assert_eq!(resource["name"]["givenName"], "Ada");
    }

    #[test]
    fn entra_replaces_with_capitals_paths_and_string_booleans() {
        let resource = patched(json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Byron"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"}
        ]));
        assert_eq!(resource["active"], "False");
        assert_eq!(resource["emails"][0]["value"], "new@example.com");
        assert_eq!(resource["name"]["familyName"], "Byron");
    }

    #[test]
    fn a_pathless_value_may_hold_paths_and_the_extension() {
        let resource = patched(json!([{"op": "replace", "value": {
            "name.givenName": "Augusta",
            "name": {"familyName": "King"},
            EXTENSION: {"role": "Sales"}
        }}]));
        assert_eq!(resource["name"]["givenName"], "Augusta");
        assert_eq!(resource["name"]["familyName"], "King");
        assert_eq!(resource[EXTENSION]["role"], "Sales");
        assert_eq!(resource[EXTENSION]["profile"], "Standard");
    }

    #[test]
    fn remove_clears_an_attribute_and_extension_paths_work() {
        let resource = patched(json!([
            {"op": "remove", "path": "externalId"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:1stop:2.0:User:profile", "value": "Administrator"}
        ]));
        assert!(resource.get("externalId").is_none());
        assert_eq!(resource[EXTENSION]["profile"], "Administrator");
    }

    #[test]
    fn bad_operations_are_refused_with_their_scim_type() {
        let mut resource = user();
        for (body, scim_type) in [
            (
                json!({"Operations": [{"op": "move", "path": "active"}]}),
                "invalidSyntax",
            ),
            (json!({"Operations": [{"op": "remove"}]}), "noTarget"),
            (
                json!({"Operations": [{"op": "replace", "path": "emails[type ne \"x\"].value", "value": "a"}]}),
                "invalidPath",
            ),
            (json!({"ops": []}), "invalidSyntax"),
        ] {
            let error = apply(&mut resource, &body).unwrap_err();
            assert_eq!(error.scim_type, Some(scim_type), "{body}");
        }
    }
}
