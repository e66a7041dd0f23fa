//! Discovery (RFC 7644 §4): `ServiceProviderConfig`, `ResourceTypes` and `Schemas`, which tell an
//! identity provider what this server supports. And `/Groups`, which it does not.

use super::errors::{ScimResponse, scim_json};
use super::resource::{EXTENSION, LIST_SCHEMA, USER_SCHEMA};
use super::{ScimCaller, base_url};
use crate::usecases::invite_user::grant_options;
use crate::usecases::scim::MAX_RESULTS;
use crate::web::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

pub async fn service_provider_config(
    State(state): State<AppState>,
    _caller: ScimCaller,
) -> Response {
    let base = base_url(&state);
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [CONFIG_SCHEMA],
            "documentationUri": format!("{}help", state.services.public_url),
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A SCIM token from Setup > API Tokens (or `onestop api-token create --scim`), sent as Authorization: Bearer <token>.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": true
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{base}/ServiceProviderConfig"),
            },
        }),
    )
}

fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A person of the company. Creating one invites them by email.",
        "schema": USER_SCHEMA,
        // Every user has a profile and a role: on creation, the defaults of Setup > SCIM
        // provisioning stand in for missing ones, and they cannot be removed.
        "schemaExtensions": [{"schema": EXTENSION, "required": true}],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
    })
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

pub async fn resource_types(State(state): State<AppState>, _caller: ScimCaller) -> Response {
    scim_json(
        StatusCode::OK,
        &list(vec![user_resource_type(&base_url(&state))]),
    )
}

pub async fn resource_type(
    State(state): State<AppState>,
    _caller: ScimCaller,
    Path(id): Path<String>,
) -> Result<Response, ScimResponse> {
    if id == "User" {
        Ok(scim_json(
            StatusCode::OK,
            &user_resource_type(&base_url(&state)),
        ))
    } else {
        Err(ScimResponse::new(
            StatusCode::NOT_FOUND,
            None,
            format!("There is no resource type \"{id}\"; only User is supported."),
        ))
    }
}

/// An attribute definition (RFC 7643 §7) with the usual defaults.
fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut attribute: Value, changes: Value) -> Value {
    if let (Some(target), Value::Object(changes)) = (attribute.as_object_mut(), changes) {
        target.extend(changes);
    }
    attribute
}

fn user_schema(base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person of the company.",
        "attributes": [
            with(attribute("userName", "string", "The username once the user has joined, else their email address; set by 1Stop, not changed by SCIM after creation. Filters on userName match either."),
                json!({"required": true, "uniqueness": "server", "mutability": "immutable"})),
            with(attribute("name", "complex", "The user's name (displayName stands in when it is missing)."), json!({"required": true, "subAttributes": [
                attribute("givenName", "string", "First name."),
                with(attribute("familyName", "string", "Last name."), json!({"required": true})),
            ]})),
            with(attribute("displayName", "string", "First and last name, as 1Stop shows them. On creation it stands in for a missing name."), json!({"mutability": "readOnly"})),
            with(attribute("emails", "complex", "The user's one email address, of type work (a primary flag sent is accepted and not kept). It can be changed until they join."),
                json!({"multiValued": true, "required": true, "subAttributes": [
                    with(attribute("value", "string", "The email address."), json!({"required": true})),
                    with(attribute("type", "string", "Always work."), json!({"canonicalValues": ["work"]})),
                ]})),
            with(attribute("active", "boolean", "false: Deactivated (cannot sign in). An invited user who has not joined is active. Taken as true on creation when missing."), json!({"required": true})),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}")},
    })
}

/// The extension's schema; `profiles` and `roles` are the names the caller may grant, offered as
/// canonical values.
fn extension_schema(base: &str, profiles: &[String], roles: &[String]) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": EXTENSION,
        "name": "1Stop User",
        "description": "The user's profile and role in 1Stop, by name. Without them, the defaults chosen in Setup > SCIM provisioning apply.",
        "attributes": [
            with(attribute("profile", "string", "The profile's name (Setup > Profiles); one this token may grant."),
                json!({"canonicalValues": profiles, "required": true})),
            with(attribute("role", "string", "The role's name (Setup > Roles); one this token may grant."),
                json!({"canonicalValues": roles, "required": true})),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{EXTENSION}")},
    })
}

/// The names of the profiles and roles the caller may grant.
async fn grantable(
    state: &AppState,
    caller: &ScimCaller,
) -> Result<(Vec<String>, Vec<String>), ScimResponse> {
    let options = grant_options(&state.services, &caller.caller.actor).await?;
    Ok((
        options
            .profiles
            .into_iter()
            .map(|profile| profile.name)
            .collect(),
        options.roles.into_iter().map(|role| role.name).collect(),
    ))
}

pub async fn schemas(
    State(state): State<AppState>,
    caller: ScimCaller,
) -> Result<Response, ScimResponse> {
    let base = base_url(&state);
    let (profiles, roles) = grantable(&state, &caller).await?;
    Ok(scim_json(
        StatusCode::OK,
        &list(vec![
            user_schema(&base),
            extension_schema(&base, &profiles, &roles),
        ]),
    ))
}

pub async fn schema(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
) -> Result<Response, ScimResponse> {
    let base = base_url(&state);
    if id.eq_ignore_ascii_case(USER_SCHEMA) {
        Ok(scim_json(StatusCode::OK, &user_schema(&base)))
    } else if id.eq_ignore_ascii_case(EXTENSION) {
        let (profiles, roles) = grantable(&state, &caller).await?;
        Ok(scim_json(
            StatusCode::OK,
            &extension_schema(&base, &profiles, &roles),
        ))
    } else {
        Err(ScimResponse::new(
            StatusCode::NOT_FOUND,
            None,
            format!("There is no schema \"{id}\"."),
        ))
    }
}

/// Any other address under `/scim/v2`: a SCIM 404.
pub async fn unknown(_caller: ScimCaller) -> ScimResponse {
    ScimResponse::new(
        StatusCode::NOT_FOUND,
        None,
        "There is nothing at this SCIM address. The endpoints are /Users, /ServiceProviderConfig, /ResourceTypes and /Schemas.",
    )
}

/// `POST /.search` at the root (searching several resource types at once) is not supported:
/// 501, as RFC 7644 §3.12 says. `GET /Users?filter=...` searches users.
pub async fn root_search(_caller: ScimCaller) -> ScimResponse {
    ScimResponse::new(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "Searching several resource types at once is not supported; search users with GET /Users?filter=...",
    )
}

/// Groups are not supported: every `/Groups` request gets a SCIM 404 saying so.
pub async fn groups(_caller: ScimCaller) -> ScimResponse {
    ScimResponse::new(
        StatusCode::NOT_FOUND,
        None,
        "Groups are not supported by 1Stop's SCIM service; provision users only (profiles and roles come from the user extension or the Setup defaults).",
    )
}
