//! Test helpers for the token surfaces (JSON API, SCIM): making tokens and calling with them.

use crate::helpers::{Organization, TestApp, scope};
use onestop_domain::UserId;
use onestop_server::usecases::api_tokens::{NewTokenInput, TokenCreator, create_api_token};

impl TestApp {
    /// An API token of `user_id` (their permissions as they are now) carrying `permissions`
    /// (keys; empty for all of the user's), valid 90 days.
    pub async fn api_token_of(&self, org_id: &str, user_id: &str, permissions: &[&str]) -> String {
        self.token_of(org_id, user_id, "api", permissions).await
    }

    /// An API token of the organization's administrator carrying `permissions` (empty: all).
    pub async fn api_token(&self, organization: &Organization, permissions: &[&str]) -> String {
        self.api_token_of(&organization.org_id, &organization.admin_id, permissions)
            .await
    }

    /// A SCIM token of the organization's administrator.
    pub async fn scim_token(&self, organization: &Organization) -> String {
        self.token_of(&organization.org_id, &organization.admin_id, "scim", &[])
            .await
    }

    async fn token_of(
        &self,
        org_id: &str,
        user_id: &str,
        kind: &str,
        permissions: &[&str],
    ) -> String {
        let permissions_now = self
            .text_value(
                "SELECT p.permissions FROM users u JOIN profiles p ON p.id = u.profile_id WHERE u.id = $1",
                user_id,
            )
            .await
            .expect("the user exists");
        let creator = TokenCreator {
            scope: scope(org_id),
            user_id: UserId::from_trusted(user_id.to_owned()),
            permissions: onestop_domain::PermissionSet::parse_stored(&permissions_now).unwrap(),
        };
        let input = NewTokenInput {
            name: format!("{kind} test token"),
            kind: kind.to_owned(),
            permissions: permissions.iter().map(|key| (*key).to_owned()).collect(),
            lifetime_days: "90".to_owned(),
        };
        create_api_token(&self.services, &creator, &input, None)
            .await
            .expect("the token is created")
            .secret
            .expose()
            .to_owned()
    }

    /// A request to `path` with `Authorization: Bearer token`, from a client without cookies.
    pub fn with_token(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.new_client()
            .request(method, self.url(path))
            .bearer_auth(token)
    }
}
