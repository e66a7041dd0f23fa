//! SCIM error responses (RFC 7644 §3.12): `application/scim+json` with the Error schema, the
//! status as a string, `scimType` where one applies, and a detail saying what to do.

use super::SCIM_CONTENT_TYPE;
use crate::usecases::scim::ScimError;
use crate::web::bearer::BearerProblem;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error to send.
#[derive(Debug)]
pub struct ScimResponse {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimResponse {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            None,
            "There is no such user in this company (or SCIM no longer provisions them). Check the id.",
        )
    }

    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "SCIM request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "We could not complete this request. Please try again in a moment.",
        )
    }

    fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = Value::from(scim_type);
        }
        body
    }
}

/// A SCIM body with the SCIM media type.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_CONTENT_TYPE),
    );
    response
}

impl IntoResponse for ScimResponse {
    fn into_response(self) -> Response {
        let mut response = scim_json(self.status, &self.body());
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"1Stop SCIM\""),
            );
        }
        response
    }
}

impl From<BearerProblem> for ScimResponse {
    fn from(problem: BearerProblem) -> Self {
        if let BearerProblem::Store(cause) = &problem {
            return Self::internal(cause);
        }
        let status =
            StatusCode::from_u16(problem.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(status, None, problem.message())
    }
}

impl From<ScimError> for ScimResponse {
    fn from(error: ScimError) -> Self {
        match error {
            ScimError::NotFound => Self::not_found(),
            ScimError::Invalid { scim_type, detail } => {
                Self::new(StatusCode::BAD_REQUEST, scim_type, detail)
            }
            ScimError::Uniqueness(detail) => {
                Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
            }
            ScimError::Forbidden(detail) => Self::new(StatusCode::FORBIDDEN, None, detail),
            ScimError::Internal(cause) => Self::internal(&cause),
        }
    }
}

impl From<crate::store::StoreError> for ScimResponse {
    fn from(error: crate::store::StoreError) -> Self {
        Self::internal(&error)
    }
}
