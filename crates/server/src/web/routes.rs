//! Every route with its access rule ([`Access`]), in one table: [`routes`] builds the router
//! from it, and [`route_table`] lists it for the route-table tests.

use super::{AppState, api, assets, metrics_endpoint, operations, pages, scim, security, uploads};
use crate::web::BODY_LIMIT_BYTES;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use onestop_domain::Permission;

/// The Terms of Service form carries up to 100,000 characters, percent-encoded.
const TERMS_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Who may use a route. Every route declares it where it is added, and the route-table tests
/// (`tests/api/route_table.rs`) try each route as every kind of visitor and check that what it
/// answers matches: a route cannot be added without a declaration, nor declared wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: signing in, joining, resetting a password, help, health, static files.
    Public,
    /// A signed-in user.
    SignedIn,
    /// A session whose password was checked and whose second step is still owed (the
    /// second-step page); anyone else is sent on.
    SecondStep,
    /// A Setup page: signed in, Terms accepted, View Setup, and this permission.
    Setup(Permission),
    /// The JSON API: an API token (never a session) carrying this permission, if one is named.
    ApiToken(Option<Permission>),
    /// SCIM: a SCIM token (never a session).
    ScimToken,
    /// The operator's monitoring: `Authorization: Bearer` with `ONESTOP_METRICS_TOKEN`; 404
    /// when no token is configured. Sessions play no part.
    MetricsToken,
}

impl Access {
    /// An API or SCIM route: authorized by a company's token in the `Authorization` header, not
    /// by a session cookie (`/metrics`, the operator's, has its own rule).
    pub fn is_token(self) -> bool {
        matches!(self, Self::ApiToken(_) | Self::ScimToken)
    }
}

/// One method of one route, as the router serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// Builds the router and, beside it, the table of what it serves.
pub(super) struct Routes {
    pub(super) router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Routes {
    fn new() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn add(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        route: MethodRouter<AppState>,
    ) -> Self {
        self.table.push(RouteInfo {
            method,
            path,
            access,
        });
        self.router = self.router.route(path, route);
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::GET, path, access, get(handler))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.post_with_body_limit(path, access, handler, BODY_LIMIT_BYTES)
    }

    /// A POST route of the JSON API: its body extractor ([`api::json::ApiJson`]) answers a body
    /// over the limit with a problem document rather than the pages' error page.
    fn api_post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::POST, path, access, post(handler))
    }

    /// A PATCH route (the JSON API's and SCIM's). Bodies are bounded by the router's limit; their
    /// extractors answer one over it in their own format.
    fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::PATCH, path, access, patch(handler))
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::DELETE, path, access, delete(handler))
    }

    /// A POST route whose body may have up to `limit` bytes. A larger declared length
    /// (`Content-Length`) is refused at once, before any of the body is read; a body sent
    /// without one (chunked) is cut off when reading passes the limit.
    fn post_with_body_limit<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
        limit: usize,
    ) -> Self {
        let route = post(handler).layer(DefaultBodyLimit::max(limit)).layer(
            axum::middleware::from_fn_with_state(limit, security::refuse_oversized_declared_body),
        );
        self.add(Method::POST, path, access, route)
    }

    /// A PUT route (bodies up to [`BODY_LIMIT_BYTES`], refused early like POST's).
    fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        let route = put(handler).layer(axum::middleware::from_fn_with_state(
            BODY_LIMIT_BYTES,
            security::refuse_oversized_declared_body,
        ));
        self.add(Method::PUT, path, access, route)
    }

    /// A POST route taking a picture ([`uploads::CsrfUpload`]), which reads and bounds the body
    /// itself so that a file over the limit gets the form back with a message, not a bare 413.
    fn post_upload<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.post_upload_within(path, access, handler, uploads::UPLOAD_BODY_LIMIT)
    }

    /// A POST route taking a file of up to `limit` bytes with its framing, which its extractor
    /// reads and bounds itself ([`uploads::CsrfCsvUpload`]).
    fn post_upload_within<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
        limit: usize,
    ) -> Self {
        let route = post(handler).layer(DefaultBodyLimit::max(limit));
        self.add(Method::POST, path, access, route)
    }
}

/// Every route with its access rule (the route-table tests read this).
pub fn route_table() -> Vec<RouteInfo> {
    routes().table
}

pub(super) fn routes() -> Routes {
    use Access::{ApiToken, Public, ScimToken, SecondStep, Setup, SignedIn};
    use Permission::{
        ManageApiTokens, ManageCompanyDetails, ManageProfiles, ManageRoles, ManageTermsOfService,
        ManageUsers, ViewAuditLog, ViewSetup,
    };
    Routes::new()
        .get("/", SignedIn, pages::home::show)
        .get("/account", SignedIn, pages::account::show)
        .post("/account", SignedIn, pages::account::save)
        .get("/login", Public, pages::login::show)
        .post("/login", Public, pages::login::submit)
        .post("/logout", SignedIn, pages::login::sign_out)
        .get("/login/two-step", SecondStep, pages::second_step::show)
        .post("/login/two-step", SecondStep, pages::second_step::submit)
        .post(
            "/login/two-step/passkey/options",
            SecondStep,
            pages::passkeys::sign_in_options,
        )
        .get("/account/two-step", SignedIn, pages::two_step::show)
        .get("/account/two-step/setup", SignedIn, pages::two_step::setup)
        .get(
            "/account/two-step/authenticator",
            SignedIn,
            pages::two_step::add_form,
        )
        .post(
            "/account/two-step/authenticator",
            SignedIn,
            pages::two_step::add,
        )
        .post(
            "/account/two-step/methods",
            SignedIn,
            pages::two_step::change_method,
        )
        .post(
            "/account/two-step/recovery-codes",
            SignedIn,
            pages::two_step::regenerate,
        )
        .get("/password/forgot", Public, pages::password::forgot_form)
        .post("/password/forgot", Public, pages::password::forgot_submit)
        .get(
            "/password/reset/{token}",
            Public,
            pages::password::open_link,
        )
        .get("/password/reset/", Public, pages::password::open_empty_link)
        .get("/password/reset", Public, pages::password::reset_form)
        .post("/password/reset", Public, pages::password::reset_submit)
        .get("/terms", SignedIn, pages::terms::show)
        .post("/terms/accept", SignedIn, pages::terms::accept)
        .post("/terms/decline", SignedIn, pages::terms::decline)
        .post("/first-steps", SignedIn, pages::home::mark_first_step)
        .post_upload("/account/picture", SignedIn, pages::pictures::upload_own)
        .post(
            "/account/picture/remove",
            SignedIn,
            pages::pictures::remove_own,
        )
        .get("/users/{user_id}/picture", SignedIn, pages::pictures::serve)
        .post(
            "/account/two-step/passkeys/options",
            SignedIn,
            pages::passkeys::register_options,
        )
        .post(
            "/account/two-step/passkeys",
            SignedIn,
            pages::passkeys::register,
        )
        .get("/setup", Setup(ViewSetup), pages::setup::show)
        .get("/setup/users", Setup(ManageUsers), pages::users_list::list)
        .get(
            "/setup/users/export.csv",
            Setup(ManageUsers),
            pages::users_export::export_csv,
        )
        .get(
            "/setup/users/new",
            Setup(ManageUsers),
            pages::users::new_form,
        )
        .post("/setup/users/new", Setup(ManageUsers), pages::users::create)
        .get(
            "/setup/users/import",
            Setup(ManageUsers),
            pages::user_import::upload_form,
        )
        .post_upload_within(
            "/setup/users/import",
            Setup(ManageUsers),
            pages::user_import::upload,
            uploads::CSV_UPLOAD_BODY_LIMIT,
        )
        .get(
            "/setup/users/import/{import_id}",
            Setup(ManageUsers),
            pages::user_import::show,
        )
        .post(
            "/setup/users/import/{import_id}/preview",
            Setup(ManageUsers),
            pages::user_import::preview,
        )
        .post(
            "/setup/users/import/{import_id}/start",
            Setup(ManageUsers),
            pages::user_import::start,
        )
        .get(
            "/setup/users/import/{import_id}/result.csv",
            Setup(ManageUsers),
            pages::user_import::result_csv,
        )
        .post(
            "/setup/users/new/preview",
            Setup(ManageUsers),
            pages::users::preview,
        )
        .post(
            "/setup/users/bulk",
            Setup(ManageUsers),
            pages::users_bulk::bulk,
        )
        .get(
            "/setup/users/{user_id}",
            Setup(ManageUsers),
            pages::user_page::show,
        )
        .get(
            "/setup/users/{user_id}/edit",
            Setup(ManageUsers),
            pages::edit_user::edit_form,
        )
        .post(
            "/setup/users/{user_id}/edit",
            Setup(ManageUsers),
            pages::edit_user::update,
        )
        .post(
            "/setup/users/{user_id}/actions",
            Setup(ManageUsers),
            pages::user_page::act,
        )
        .post_upload(
            "/setup/users/{user_id}/picture",
            Setup(ManageUsers),
            pages::pictures::upload_for_user,
        )
        .post(
            "/setup/users/{user_id}/picture/remove",
            Setup(ManageUsers),
            pages::pictures::remove_for_user,
        )
        .get(
            "/setup/profiles",
            Setup(ManageProfiles),
            pages::profiles::list,
        )
        .post(
            "/setup/profiles",
            Setup(ManageProfiles),
            pages::profiles::create,
        )
        .get(
            "/setup/profiles/{profile_id}",
            Setup(ManageProfiles),
            pages::profiles::edit_form,
        )
        .post(
            "/setup/profiles/{profile_id}",
            Setup(ManageProfiles),
            pages::profiles::update,
        )
        .get(
            "/setup/profiles/{profile_id}/clone",
            Setup(ManageProfiles),
            pages::profiles::clone_form,
        )
        .post(
            "/setup/profiles/{profile_id}/delete",
            Setup(ManageProfiles),
            pages::profiles::delete,
        )
        .post(
            "/setup/profiles/{profile_id}/two-step",
            Setup(ManageProfiles),
            pages::profiles::set_two_step,
        )
        .get("/setup/roles", Setup(ManageRoles), pages::roles::list)
        .post("/setup/roles", Setup(ManageRoles), pages::roles::create)
        .get(
            "/setup/roles/new",
            Setup(ManageRoles),
            pages::roles::new_form,
        )
        .get(
            "/setup/roles/{role_id}",
            Setup(ManageRoles),
            pages::roles::edit_form,
        )
        .post(
            "/setup/roles/{role_id}",
            Setup(ManageRoles),
            pages::roles::update,
        )
        .post(
            "/setup/roles/{role_id}/delete",
            Setup(ManageRoles),
            pages::roles::delete,
        )
        .get(
            "/setup/terms",
            Setup(ManageTermsOfService),
            pages::terms_admin::show,
        )
        .post_with_body_limit(
            "/setup/terms",
            Setup(ManageTermsOfService),
            pages::terms_admin::publish,
            TERMS_BODY_LIMIT_BYTES,
        )
        .get(
            "/setup/terms/acceptances.csv",
            Setup(ManageTermsOfService),
            pages::terms_admin::acceptances_csv,
        )
        .get("/setup/audit", Setup(ViewAuditLog), pages::audit::show)
        .get(
            "/setup/company",
            Setup(ManageCompanyDetails),
            pages::company::show,
        )
        .post(
            "/setup/company",
            Setup(ManageCompanyDetails),
            pages::company::save,
        )
        .get(
            "/setup/api-tokens",
            Setup(ManageApiTokens),
            pages::api_tokens::list,
        )
        .get(
            "/setup/api-tokens/new",
            Setup(ManageApiTokens),
            pages::api_token_new::new_form,
        )
        .post(
            "/setup/api-tokens/new",
            Setup(ManageApiTokens),
            pages::api_token_new::create,
        )
        .post(
            "/setup/api-tokens/{token_id}/revoke",
            Setup(ManageApiTokens),
            pages::api_tokens::revoke,
        )
        .get(
            "/setup/scim",
            Setup(ManageApiTokens),
            pages::scim_setup::show,
        )
        .post(
            "/setup/scim",
            Setup(ManageApiTokens),
            pages::scim_setup::save,
        )
        .get(
            "/setup/sso",
            Setup(ManageCompanyDetails),
            pages::sso_setup::show,
        )
        .post(
            "/setup/sso",
            Setup(ManageCompanyDetails),
            pages::sso_setup::save,
        )
        .post("/sso/start", Public, pages::sso::start)
        .get("/sso/callback", Public, pages::sso::callback)
        .post("/join/sso", Public, pages::sso::join)
        .post("/join/request", Public, pages::join::request_new)
        .get("/join/{token}", Public, pages::join::open_link)
        .get("/join/", Public, pages::join::open_empty_link)
        .get("/join", Public, pages::join::show)
        .post("/join", Public, pages::join::submit)
        .get("/help", Public, pages::help::index)
        .get("/help/{slug}", Public, pages::help::article)
        .get("/first-run/{code}", Public, pages::first_run::show)
        .post("/first-run", Public, pages::first_run::submit)
        .get("/api/v1/me", ApiToken(None), api::me::show)
        .get("/api/v1/openapi.json", Public, api::openapi::document)
        .get(
            "/api/v1/users",
            ApiToken(Some(ManageUsers)),
            api::users::list,
        )
        .api_post(
            "/api/v1/users",
            ApiToken(Some(ManageUsers)),
            api::user_changes::create,
        )
        .api_post(
            "/api/v1/users/reinvite",
            ApiToken(Some(ManageUsers)),
            api::user_changes::reinvite,
        )
        .get(
            "/api/v1/users/{user_id}",
            ApiToken(Some(ManageUsers)),
            api::users::show,
        )
        .patch(
            "/api/v1/users/{user_id}",
            ApiToken(Some(ManageUsers)),
            api::user_changes::update,
        )
        .delete(
            "/api/v1/users/{user_id}",
            ApiToken(Some(ManageUsers)),
            api::user_changes::delete,
        )
        .api_post(
            "/api/v1/users/{user_id}/deactivate",
            ApiToken(Some(ManageUsers)),
            api::user_changes::deactivate,
        )
        .api_post(
            "/api/v1/users/{user_id}/activate",
            ApiToken(Some(ManageUsers)),
            api::user_changes::activate,
        )
        .get(
            "/api/v1/profiles",
            ApiToken(Some(ManageUsers)),
            api::profiles::list,
        )
        .get(
            "/api/v1/roles",
            ApiToken(Some(ManageUsers)),
            api::roles::list,
        )
        .get(
            "/api/v1/audit-events",
            ApiToken(Some(ViewAuditLog)),
            api::audit_events::list,
        )
        .get("/scim/v2/Users", ScimToken, scim::users::list)
        .post("/scim/v2/Users", ScimToken, scim::users::create)
        .get("/scim/v2/Users/{id}", ScimToken, scim::users::show)
        .put("/scim/v2/Users/{id}", ScimToken, scim::users::replace)
        .patch("/scim/v2/Users/{id}", ScimToken, scim::users::modify)
        .delete("/scim/v2/Users/{id}", ScimToken, scim::users::remove)
        .get(
            "/scim/v2/ServiceProviderConfig",
            ScimToken,
            scim::discovery::service_provider_config,
        )
        .get(
            "/scim/v2/ResourceTypes",
            ScimToken,
            scim::discovery::resource_types,
        )
        .get(
            "/scim/v2/ResourceTypes/{id}",
            ScimToken,
            scim::discovery::resource_type,
        )
        .get("/scim/v2/Schemas", ScimToken, scim::discovery::schemas)
        .get("/scim/v2/Schemas/{id}", ScimToken, scim::discovery::schema)
        .get("/scim/v2/Groups", ScimToken, scim::discovery::groups)
        .post("/scim/v2/Groups", ScimToken, scim::discovery::groups)
        .get("/scim/v2/Groups/{id}", ScimToken, scim::discovery::groups)
        .post("/scim/v2/.search", ScimToken, scim::discovery::root_search)
        .get("/scim/v2/{*rest}", ScimToken, scim::discovery::unknown)
        .get("/healthz", Public, operations::healthz)
        .get("/readyz", Public, operations::readyz)
        .get(
            "/metrics",
            Access::MetricsToken,
            metrics_endpoint::metrics_with_token,
        )
        .get("/static/app.css", Public, assets::stylesheet)
        .get("/static/favicon.svg", Public, assets::favicon)
        .get("/static/new_user.js", Public, assets::new_user_script)
        .get("/static/users.js", Public, assets::users_script)
        .get("/static/copy_token.js", Public, assets::copy_token_script)
        .get("/static/passkeys.js", Public, assets::passkeys_script)
        .get(
            "/static/time_zone_guess.js",
            Public,
            assets::time_zone_guess_script,
        )
}
