//! RFC 9457 problem documents: what every API error looks like.

use crate::usecases::FieldErrors;
use crate::web::bearer::BearerProblem;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One field's problem: which field, and what to do about it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The field as named in the request body (`email`, `profile_id`...).
    pub field: String,
    pub message: String,
}

/// `application/problem+json`: a title for the kind of problem, a detail for this occurrence,
/// and, for invalid input, every field's problem at once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// 404, in the same words whether the row does not exist or belongs to another company.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "There is nothing at this address in your company. Check the id.",
        )
    }

    /// 422: the fields that need attention, with the same messages as the pages.
    pub fn invalid(errors: &FieldErrors) -> Self {
        Self::invalid_fields(
            errors
                .iter()
                .map(|(field, message)| FieldProblem {
                    field: field.to_owned(),
                    message: message.to_owned(),
                })
                .collect(),
        )
    }

    /// 422 for these fields.
    pub fn invalid_fields(errors: Vec<FieldProblem>) -> Self {
        let detail = match errors.as_slice() {
            [only] => format!("`{}`: {}", only.field, only.message),
            _ => "Some fields need attention; see `errors`.".to_owned(),
        };
        Self {
            errors,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }

    /// 400 for one query parameter or header that cannot be read.
    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            errors: vec![FieldProblem {
                field: name.to_owned(),
                message: message.clone(),
            }],
            ..Self::new(StatusCode::BAD_REQUEST, format!("`{name}`: {message}"))
        }
    }

    /// 409: the request is understood but does not apply to the resource as it is now.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 500: the cause is logged, never shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "We could not complete this request. Please try again in a moment.",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if unauthorized {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"1Stop API\""),
            );
        }
        response
    }
}

impl From<BearerProblem> for Problem {
    fn from(problem: BearerProblem) -> Self {
        if let BearerProblem::Store(cause) = &problem {
            return Self::internal(cause);
        }
        let status =
            StatusCode::from_u16(problem.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(status, problem.message())
    }
}
