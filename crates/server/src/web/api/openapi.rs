//! `GET /api/v1/openapi.json`: the API's OpenAPI 3.1 document, generated from the handlers'
//! annotations and the types they take and answer, so it cannot drift from the code. It documents
//! and reveals no data: anyone may read it.

use super::{Problem, audit_events, me, profiles, roles, user_changes, users};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "1Stop API",
        version = "1",
        license(name = "Proprietary"),
        description = "Users, profiles, roles and the audit log of one company, for scripts \
            holding an API token (Setup > API Tokens, or `onestop api-token create`). Errors are \
            RFC 9457 problem documents. See docs/API.md."
    ),
    paths(
        me::show,
        users::list,
        users::show,
        user_changes::create,
        user_changes::update,
        user_changes::delete,
        user_changes::deactivate,
        user_changes::activate,
        user_changes::reinvite,
        profiles::list,
        roles::list,
        audit_events::list,
        document,
    ),
    components(schemas(Problem, super::FieldProblem, users::View, users::Sort, users::Direction)),
    modifiers(&BearerAuthentication),
    security(("bearerAuth" = []))
)]
pub struct ApiDocument;

/// The `bearerAuth` scheme every operation names.
struct BearerAuthentication;

impl Modify for BearerAuthentication {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("1stop_…")
                    .description(Some(
                        "An API token: `Authorization: Bearer 1stop_…`. It acts as its creator, \
                         with the permissions chosen for it that the creator still holds.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document itself (public).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "document",
    responses((status = 200, description = "This OpenAPI 3.1 document", body = Object)),
    security(())
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDocument::openapi())
}
