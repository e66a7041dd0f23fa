//! Tenancy as a type. Every store function that reads or changes a company's rows for a person
//! takes an [`OrganizationScope`], and the only ways to get one are a signed-in session
//! ([`crate::usecases::sessions::resolve_session`]), a live API or SCIM token
//! ([`crate::usecases::api_tokens::authenticate`]) and, for whoever runs the server, the command
//! line ([`OrganizationScope::operator`]). A handler cannot make one from an id in a form or a path,
//! so it cannot act in another company's account: such code does not compile.
//!
//! Paths authorized by a secret rather than a session (Join Now, password reset, the outbox
//! worker) name the organization of the row their token found, as an [`OrganizationId`].

use onestop_domain::OrganizationId;

/// The organization a request or command acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationScope(OrganizationId);

impl OrganizationScope {
    /// The organization of a live session's user (sessions are resolved in
    /// `usecases::sessions`, the only caller).
    pub(crate) fn of_session(organization: OrganizationId) -> Self {
        Self(organization)
    }

    /// The organization of a live API or SCIM token's creator (tokens are resolved in
    /// `usecases::api_tokens`, the only caller).
    pub(crate) fn of_api_token(organization: OrganizationId) -> Self {
        Self(organization)
    }

    /// Whoever runs the server acts in any organization: the command line (`org create`, and
    /// later imports and exports by `--org ID`) and the tests. Never called from the web face
    /// (a test scans `src/web` for it).
    pub fn operator(organization: OrganizationId) -> Self {
        Self(organization)
    }

    pub fn id(&self) -> &OrganizationId {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    /// The web face gets its scope from the session, never by naming an organization.
    #[test]
    fn no_web_module_makes_an_operator_scope() {
        fn scan(directory: &std::path::Path, offenders: &mut Vec<String>) {
            for entry in std::fs::read_dir(directory).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    scan(&path, offenders);
                } else if std::fs::read_to_string(&path)
                    .unwrap()
                    .contains(&["OrganizationScope::", "operator"].concat())
                {
                    offenders.push(path.display().to_string());
                }
            }
        }
        let mut offenders = Vec::new();
        scan(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"),
            &mut offenders,
        );
        assert!(offenders.is_empty(), "{offenders:?}");
    }
}
