//! `/scim/v2/Users`: list (with `filter`, `startIndex`, `count`), create, get, replace (PUT),
//! patch, delete. Single-resource answers carry an `ETag`; PUT, PATCH and DELETE honour
//! `If-Match` (412 when the user has changed since).

use super::errors::{ScimResponse, scim_json};
use super::resource::{LIST_SCHEMA, etag, project, user_input, user_json};
use super::{ScimCaller, base_url, patch};
use crate::usecases::scim::{create_user, delete_user, get_user, list_users, replace_user};
use crate::web::{AppState, nul_text};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

fn parse_body(body: &Bytes) -> Result<Value, ScimResponse> {
    let document: Value = serde_json::from_slice(body).map_err(|error| {
        ScimResponse::invalid_syntax(format!(
            "The body is not valid JSON ({error}). Send a SCIM resource with Content-Type: application/scim+json."
        ))
    })?;
    match nul_text::json_path_with_nul(&document) {
        Some(attribute) => Err(ScimResponse::invalid_value(format!(
            "The attribute `{attribute}` {}",
            nul_text::REFUSAL
        ))),
        None => Ok(document),
    }
}

/// A single user with its `ETag` (and `Location` when created).
fn resource_response(status: StatusCode, body: &Value) -> Response {
    let mut response = scim_json(status, body);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag(body)) {
        headers.insert(header::ETAG, value);
    }
    if status == StatusCode::CREATED
        && let Some(location) = body["meta"]["location"].as_str()
        && let Ok(value) = HeaderValue::from_str(location)
    {
        headers.insert(header::LOCATION, value);
    }
    response
}

/// Refuses the request when `If-Match` names another version than the user's current one.
fn check_if_match(headers: &HeaderMap, current: &Value) -> Result<(), ScimResponse> {
    let Some(wanted) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let wanted = wanted.to_str().unwrap_or_default();
    let now = etag(current);
    let strip = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let matches = wanted
        .split(',')
        .any(|tag| tag.trim() == "*" || strip(tag) == strip(&now));
    if matches {
        Ok(())
    } else {
        Err(ScimResponse::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            format!(
                "The user has changed since version {wanted}; it is now {now}. GET the user and try again."
            ),
        ))
    }
}

fn parameter<'a>(query: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn number(query: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ScimResponse> {
    match parameter(query, name) {
        None => Ok(None),
        Some(text) => text.trim().parse::<i64>().map(Some).map_err(|_| {
            ScimResponse::invalid_value(format!("{name}: send a whole number, such as {name}=1."))
        }),
    }
}

pub async fn list(
    State(state): State<AppState>,
    ScimCaller { caller, .. }: ScimCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimResponse> {
    let page = list_users(
        &state.services,
        &caller.actor,
        parameter(&query, "filter"),
        number(&query, "startIndex")?,
        number(&query, "count")?,
    )
    .await?;
    let base = base_url(&state);
    let resources: Vec<Value> = page
        .users
        .iter()
        .map(|user| {
            let mut body = user_json(user, &base);
            project(
                &mut body,
                parameter(&query, "attributes"),
                parameter(&query, "excludedAttributes"),
            );
            body
        })
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": page.total,
            "startIndex": page.start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    ScimCaller { caller, ip }: ScimCaller,
    body: Bytes,
) -> Result<Response, ScimResponse> {
    let input = user_input(&parse_body(&body)?)?;
    let user = create_user(&state.services, &caller.actor, &input, Some(&ip)).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &user_json(&user, &base_url(&state)),
    ))
}

pub async fn show(
    State(state): State<AppState>,
    ScimCaller { caller, .. }: ScimCaller,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimResponse> {
    let user = get_user(&state.services, &caller.actor, &id).await?;
    let mut body = user_json(&user, &base_url(&state));
    project(
        &mut body,
        parameter(&query, "attributes"),
        parameter(&query, "excludedAttributes"),
    );
    Ok(resource_response(StatusCode::OK, &body))
}

pub async fn replace(
    State(state): State<AppState>,
    ScimCaller { caller, ip }: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ScimResponse> {
    let base = base_url(&state);
    let current = get_user(&state.services, &caller.actor, &id).await?;
    check_if_match(&headers, &user_json(&current, &base))?;
    let input = user_input(&parse_body(&body)?)?;
    let user = replace_user(&state.services, &caller.actor, &id, &input, Some(&ip)).await?;
    Ok(resource_response(StatusCode::OK, &user_json(&user, &base)))
}

pub async fn modify(
    State(state): State<AppState>,
    ScimCaller { caller, ip }: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ScimResponse> {
    let base = base_url(&state);
    let current = get_user(&state.services, &caller.actor, &id).await?;
    let mut resource = user_json(&current, &base);
    check_if_match(&headers, &resource)?;
    patch::apply(&mut resource, &parse_body(&body)?)?;
    let input = user_input(&resource)?;
    let user = replace_user(&state.services, &caller.actor, &id, &input, Some(&ip)).await?;
    Ok(resource_response(StatusCode::OK, &user_json(&user, &base)))
}

pub async fn remove(
    State(state): State<AppState>,
    ScimCaller { caller, ip }: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimResponse> {
    let current = get_user(&state.services, &caller.actor, &id).await?;
    check_if_match(&headers, &user_json(&current, &base_url(&state)))?;
    delete_user(&state.services, &caller.actor, &id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
