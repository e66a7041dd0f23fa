//! A user as a SCIM resource (RFC 7643 §4.1): written from a stored user, and read from a request
//! body (POST, PUT, or PATCH applied to the resource) into [`ScimUserInput`].
//!
//! Mapping: `userName` is the username once the user has joined (Active or Deactivated with a
//! username), else the email; `name.givenName`/`familyName` are first/last name; the one email is
//! `emails[type eq "work"]`; `active` is "not Deactivated" (an invited user who has not
//! joined yet is active); profile and role are in [`EXTENSION`].

use super::errors::ScimResponse;
use crate::store::ScimUserRow;
use crate::usecases::scim::ScimUserInput;
use onestop_domain::UserStatus;
use onestop_domain::token::sha256_hex;
use serde_json::{Map, Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Our extension: the user's profile and role, by name.
pub const EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:1stop:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// RFC 3339, as SCIM's dateTime.
fn date_time(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|moment| moment.to_string())
        .unwrap_or_default()
}

/// The user as SCIM shows them, with `meta.version` (the ETag) filled in.
pub fn user_json(user: &ScimUserRow, base: &str) -> Value {
    let status = user.status().ok();
    let user_name = match (&user.username, status) {
        (Some(username), Some(UserStatus::Active | UserStatus::Deactivated)) => username.clone(),
        _ => user.email.clone(),
    };
    let given = user.first_name.clone().unwrap_or_default();
    let formatted = if given.is_empty() {
        user.last_name.clone()
    } else {
        format!("{given} {}", user.last_name)
    };
    let mut name = Map::new();
    if !given.is_empty() {
        name.insert("givenName".into(), Value::from(given));
    }
    name.insert("familyName".into(), Value::from(user.last_name.clone()));
    let mut body = json!({
        "schemas": [USER_SCHEMA, EXTENSION],
        "id": user.id.as_str(),
        "userName": user_name,
        "name": name,
        "displayName": formatted,
        "emails": [{"value": user.email, "type": "work"}],
        "active": status != Some(UserStatus::Deactivated),
        EXTENSION: {"profile": user.profile_name, "role": user.role_name},
        "meta": {
            "resourceType": "User",
            "created": date_time(user.created_at),
            "lastModified": date_time(user.last_modified),
            "location": format!("{base}/Users/{}", user.id.as_str()),
        },
    });
    if let Some(external_id) = &user.external_id {
        body["externalId"] = Value::from(external_id.clone());
    }
    let version = etag_of(&body);
    body["meta"]["version"] = Value::from(version);
    body
}

/// A weak ETag of the resource as shown (before `meta.version` is added): any change SCIM can see
/// changes it, and nothing else does.
fn etag_of(body: &Value) -> String {
    let digest = sha256_hex(body.to_string().as_bytes());
    format!("W/\"{}\"", &digest[..16])
}

/// The ETag of a resource from [`user_json`].
pub fn etag(body: &Value) -> String {
    body["meta"]["version"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `key` of `object`, case-insensitively (SCIM attribute names are).
pub fn get_ci<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, value)| value)
}

fn text(
    object: &Map<String, Value>,
    key: &str,
    label: &str,
) -> Result<Option<String>, ScimResponse> {
    match get_ci(object, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ScimResponse::invalid_value(format!(
            "{label}: send it as a JSON string."
        ))),
    }
}

/// `active` as sent: a boolean, or (Microsoft Entra ID) the strings "True" / "False".
pub fn boolean(value: &Value, label: &str) -> Result<Option<bool>, ScimResponse> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(*flag)),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(ScimResponse::invalid_value(format!(
            "{label}: send true or false."
        ))),
    }
}

/// The work email: the primary one, else the one of type "work", else the first.
fn email_of(emails: &Value) -> Result<Option<String>, ScimResponse> {
    let Value::Array(emails) = emails else {
        return match emails {
            Value::Null => Ok(None),
            _ => Err(ScimResponse::invalid_value(
                "emails: send a list such as [{\"value\": \"ada@example.com\", \"type\": \"work\", \"primary\": true}].",
            )),
        };
    };
    let objects: Vec<&Map<String, Value>> = emails.iter().filter_map(Value::as_object).collect();
    let is = |email: &&&Map<String, Value>, key: &str, wanted: &Value| {
        get_ci(email, key).is_some_and(|value| {
            value == wanted
                || matches!((value, wanted), (Value::String(a), Value::String(b)) if a.eq_ignore_ascii_case(b))
        })
    };
    let chosen = objects
        .iter()
        .find(|email| is(email, "primary", &Value::Bool(true)))
        .or_else(|| {
            objects
                .iter()
                .find(|email| is(email, "type", &Value::from("work")))
        })
        .or_else(|| objects.first());
    match chosen {
        Some(email) => text(email, "value", "emails.value"),
        None => Ok(None),
    }
}

/// Reads a User resource sent by an identity provider. Attributes we do not keep (title,
/// addresses, phone numbers, the enterprise extension, password...) are accepted and ignored.
pub fn user_input(body: &Value) -> Result<ScimUserInput, ScimResponse> {
    let Value::Object(object) = body else {
        return Err(ScimResponse::invalid_syntax(
            "Send a JSON object: a SCIM User resource.",
        ));
    };
    let mut input = ScimUserInput {
        user_name: text(object, "userName", "userName")?,
        display_name: text(object, "displayName", "displayName")?,
        external_id: text(object, "externalId", "externalId")?,
        ..ScimUserInput::default()
    };
    match get_ci(object, "name") {
        None | Some(Value::Null) => {}
        Some(Value::Object(name)) => {
            input.given_name = text(name, "givenName", "name.givenName")?;
            input.family_name = text(name, "familyName", "name.familyName")?;
        }
        Some(_) => {
            return Err(ScimResponse::invalid_value(
                "name: send an object such as {\"givenName\": \"Ada\", \"familyName\": \"Lovelace\"}.",
            ));
        }
    }
    if let Some(emails) = get_ci(object, "emails") {
        input.email = email_of(emails)?;
    }
    if let Some(active) = get_ci(object, "active") {
        input.active = boolean(active, "active")?;
    }
    match get_ci(object, EXTENSION) {
        None | Some(Value::Null) => {}
        Some(Value::Object(extension)) => {
            input.profile = text(extension, "profile", "profile (extension)")?;
            input.role = text(extension, "role", "role (extension)")?;
        }
        Some(_) => {
            return Err(ScimResponse::invalid_value(format!(
                "{EXTENSION}: send an object such as {{\"profile\": \"Standard\", \"role\": \"Sales\"}}."
            )));
        }
    }
    Ok(input)
}

/// The attribute names of an `attributes` or `excludedAttributes` parameter, lower-cased, without
/// the core schema's URN; an extension's attribute as `urn:…:user:profile`.
fn attribute_names(list: &str) -> Vec<String> {
    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
    list.split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .map(|name| name.strip_prefix(CORE).map(str::to_owned).unwrap_or(name))
        .collect()
}

/// Whether `key` (a top-level attribute) with `sub` (one of its sub-attributes, if any) is named.
fn named(names: &[String], key: &str, sub: Option<&str>) -> bool {
    let key = key.to_ascii_lowercase();
    names.iter().any(|name| match sub {
        None => *name == key,
        Some(sub) => {
            let sub = sub.to_ascii_lowercase();
            *name == format!("{key}.{sub}") || *name == format!("{key}:{sub}")
        }
    })
}

/// Applies `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) to a resource: `id`,
/// `schemas` and `meta` are always returned.
pub fn project(body: &mut Value, attributes: Option<&str>, excluded: Option<&str>) {
    const ALWAYS: [&str; 3] = ["id", "schemas", "meta"];
    let Some(object) = body.as_object_mut() else {
        return;
    };
    if let Some(list) = attributes.filter(|list| !list.trim().is_empty()) {
        let names = attribute_names(list);
        object.retain(|key, value| {
            if ALWAYS.contains(&key.as_str()) || named(&names, key, None) {
                return true;
            }
            match value.as_object_mut() {
                Some(inner) => {
                    inner.retain(|sub, _| named(&names, key, Some(sub)));
                    !inner.is_empty()
                }
                None => false,
            }
        });
    }
    if let Some(list) = excluded.filter(|list| !list.trim().is_empty()) {
        let names = attribute_names(list);
        object.retain(|key, value| {
            if ALWAYS.contains(&key.as_str()) {
                return true;
            }
            if named(&names, key, None) {
                return false;
            }
            if let Some(inner) = value.as_object_mut() {
                inner.retain(|sub, _| !named(&names, key, Some(sub)));
            }
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_okta_body_is_read() {
        let body = json!({
            "schemas": [USER_SCHEMA],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        });
        let input = user_input(&body).unwrap();
        assert_eq!(input.email.as_deref(), Some("test.user@okta.local"));
        assert_eq!(input.given_name.as_deref(), Some("Test"));
        assert_eq!(input.family_name.as_deref(), Some("User"));
        assert_eq!(input.active, Some(true));
        assert_eq!(input.external_id.as_deref(), Some("00ujl29u0le5T6Aj10h7"));
    }

    #[test]
    fn names_are_case_insensitive_and_string_booleans_are_read() {
        let body = json!({"USERNAME": "a@b.c", "Active": "False",
            "Emails": [{"Type": "home", "value": "h@b.c"}, {"type": "Work", "value": "w@b.c"}]});
        let input = user_input(&body).unwrap();
        assert_eq!(input.user_name.as_deref(), Some("a@b.c"));
        assert_eq!(input.active, Some(false));
        assert_eq!(input.email.as_deref(), Some("w@b.c"));
    }

    #[test]
    fn wrong_types_name_the_attribute() {
        let error = user_input(&json!({"userName": 5})).unwrap_err();
        assert!(error.detail.starts_with("userName"), "{}", error.detail);
        let error = user_input(&json!({"active": "maybe"})).unwrap_err();
        assert_eq!(error.scim_type, Some("invalidValue"));
    }

    #[test]
    fn attributes_and_excluded_attributes_shape_the_answer() {
        let full = json!({"schemas": [USER_SCHEMA], "id": "u1", "meta": {"version": "W/\"1\""},
            "userName": "ada", "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "active": true, EXTENSION: {"profile": "Standard", "role": "CEO"}});
        let mut only = full.clone();
        project(&mut only, Some("userName,name.familyName"), None);
        assert_eq!(
            only,
            json!({"schemas": [USER_SCHEMA], "id": "u1", "meta": {"version": "W/\"1\""},
            "userName": "ada", "name": {"familyName": "Lovelace"}})
        );
        let mut without = full.clone();
        project(
            &mut without,
            None,
            Some("active,urn:ietf:params:scim:schemas:extension:1stop:2.0:User:role,id"),
        );
        assert!(without.get("active").is_none());
        assert_eq!(without["id"], "u1", "id is always returned");
        assert_eq!(without[EXTENSION], json!({"profile": "Standard"}));
    }
}
