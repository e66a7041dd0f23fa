//! What a Profile allows.

use std::fmt;
use std::str::FromStr;

/// One permission a Profile may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    ViewSetup,
    ManageUsers,
    ManageProfiles,
    ManageRoles,
    ManageTermsOfService,
    ManageCompanyDetails,
    ViewAuditLog,
    ManageApiTokens,
}

impl Permission {
    pub const ALL: [Permission; 8] = [
        Self::ViewSetup,
        Self::ManageUsers,
        Self::ManageProfiles,
        Self::ManageRoles,
        Self::ManageTermsOfService,
        Self::ManageCompanyDetails,
        Self::ViewAuditLog,
        Self::ManageApiTokens,
    ];

    /// The stored form.
    pub const fn key(self) -> &'static str {
        match self {
            Self::ViewSetup => "view_setup",
            Self::ManageUsers => "manage_users",
            Self::ManageProfiles => "manage_profiles",
            Self::ManageRoles => "manage_roles",
            Self::ManageTermsOfService => "manage_terms_of_service",
            Self::ManageCompanyDetails => "manage_company_details",
            Self::ViewAuditLog => "view_audit_log",
            Self::ManageApiTokens => "manage_api_tokens",
        }
    }

    /// The name shown on pages.
    pub const fn label(self) -> &'static str {
        match self {
            Self::ViewSetup => "View Setup",
            Self::ManageUsers => "Manage Users",
            Self::ManageProfiles => "Manage Profiles",
            Self::ManageRoles => "Manage Roles",
            Self::ManageTermsOfService => "Manage Terms of Service",
            Self::ManageCompanyDetails => "Manage Company Details",
            Self::ViewAuditLog => "View Audit Log",
            Self::ManageApiTokens => "Manage API Tokens",
        }
    }

    /// The heading it is listed under on the profile form.
    pub const fn group(self) -> &'static str {
        match self {
            Self::ViewSetup => "Setup",
            Self::ManageUsers | Self::ManageProfiles | Self::ManageRoles => "Users and Control",
            Self::ManageTermsOfService | Self::ManageCompanyDetails | Self::ViewAuditLog => {
                "Company"
            }
            Self::ManageApiTokens => "Developer Space",
        }
    }

    /// One line on what the permission allows, shown beside its check box.
    pub const fn explanation(self) -> &'static str {
        match self {
            Self::ViewSetup => "Open Setup through the gear icon.",
            Self::ManageUsers => "Invite, reinvite, edit, deactivate and delete users.",
            Self::ManageProfiles => "Create, change and delete custom profiles.",
            Self::ManageRoles => "Shape the role hierarchy and each role's homepage.",
            Self::ManageTermsOfService => "Publish new Terms of Service and see who accepted them.",
            Self::ManageCompanyDetails => {
                "Change the company and account names and the invitation lifetime."
            }
            Self::ViewAuditLog => "Read the record of administrative and security events.",
            Self::ManageApiTokens => "Create and revoke API tokens.",
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown permission {0:?}")]
pub struct UnknownPermission(String);

impl FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|permission| permission.key() == text)
            .ok_or_else(|| UnknownPermission(text.to_owned()))
    }
}

/// A set of permissions, stored as a space-separated list of keys.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PermissionSet(u16);

impl PermissionSet {
    pub const fn empty() -> Self {
        Self(0)
    }

    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    pub const fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub const fn with(self, permission: Permission) -> Self {
        Self(self.0 | permission.bit())
    }

    /// The permissions in both sets: what a token carries when its creator's profile has since
    /// lost some of the token's.
    pub const fn intersection(self, other: PermissionSet) -> Self {
        Self(self.0 & other.0)
    }

    /// True when every permission of `self` is also in `other`: what a user may grant.
    pub const fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |permission| self.contains(*permission))
    }

    /// Parses the stored form; unknown keys (from a newer version) are an error, not ignored.
    pub fn parse_stored(text: &str) -> Result<Self, UnknownPermission> {
        text.split_whitespace()
            .map(Permission::from_str)
            .collect::<Result<_, _>>()
    }

    pub fn to_stored(self) -> String {
        self.iter()
            .map(Permission::key)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(permissions: I) -> Self {
        permissions.into_iter().fold(Self::empty(), Self::with)
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips() {
        let set: PermissionSet = [Permission::ViewSetup, Permission::ManageUsers]
            .into_iter()
            .collect();
        assert_eq!(set.to_stored(), "view_setup manage_users");
        assert_eq!(PermissionSet::parse_stored(&set.to_stored()).unwrap(), set);
        assert_eq!(
            PermissionSet::parse_stored(&PermissionSet::all().to_stored()).unwrap(),
            PermissionSet::all()
        );
        assert!(PermissionSet::parse_stored("view_setup fly").is_err());
    }

    #[test]
    fn a_subset_is_what_may_be_granted() {
        let users_only = PermissionSet::empty().with(Permission::ManageUsers);
        assert!(users_only.is_subset_of(PermissionSet::all()));
        assert!(!PermissionSet::all().is_subset_of(users_only));
        assert!(PermissionSet::empty().is_subset_of(users_only));
    }
}
