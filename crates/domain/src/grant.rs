//! The grant rule: what one user may hand to another. One rule, used by every path that assigns
//! a profile or a role (New User, Edit User, bulk actions, moving users off a deleted profile, and
//! every future API, SCIM or import path).

use crate::{PermissionSet, RoleId, RoleTree};

/// A profile as far as granting it goes: its permissions, and whether it is the built-in
/// Administrator profile, which carries power beyond its permission bits (no role limits, the
/// last-administrator protection, the administrators' notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileGrant {
    pub permissions: PermissionSet,
    pub builtin_administrator: bool,
}

/// The person granting: their own profile, and their role.
#[derive(Debug, Clone, Copy)]
pub struct Grantor<'a> {
    pub profile: ProfileGrant,
    pub role_id: &'a RoleId,
}

impl Grantor<'_> {
    /// A profile may be granted when the grantor holds every one of its permissions, and the
    /// built-in Administrator profile only by a built-in Administrator.
    pub fn may_grant_profile(&self, profile: ProfileGrant) -> bool {
        profile.permissions.is_subset_of(self.profile.permissions)
            && (!profile.builtin_administrator || self.profile.builtin_administrator)
    }

    /// Administrators assign any role; everyone else only roles strictly below their own.
    pub fn may_grant_role(&self, tree: &RoleTree, role_id: &RoleId) -> bool {
        self.profile.builtin_administrator || tree.is_strictly_below(role_id, self.role_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Permission;

    fn id(name: &str) -> RoleId {
        RoleId::from_trusted(name.to_owned())
    }

    fn profile(permissions: &[Permission], builtin_administrator: bool) -> ProfileGrant {
        ProfileGrant {
            permissions: permissions.iter().copied().collect(),
            builtin_administrator,
        }
    }

    #[test]
    fn a_clone_of_administrator_with_every_permission_cannot_grant_the_builtin_administrator() {
        let regional_admin = Grantor {
            profile: profile(&Permission::ALL, false),
            role_id: &id("manager"),
        };
        assert!(!regional_admin.may_grant_profile(profile(&Permission::ALL, true)));
        assert!(regional_admin.may_grant_profile(profile(&Permission::ALL, false)));
        let administrator = Grantor {
            profile: profile(&Permission::ALL, true),
            role_id: &id("ceo"),
        };
        assert!(administrator.may_grant_profile(profile(&Permission::ALL, true)));
    }

    #[test]
    fn nobody_grants_a_permission_they_lack() {
        let user_manager = Grantor {
            profile: profile(&[Permission::ViewSetup, Permission::ManageUsers], false),
            role_id: &id("manager"),
        };
        assert!(user_manager.may_grant_profile(profile(&[Permission::ViewSetup], false)));
        assert!(!user_manager.may_grant_profile(profile(
            &[Permission::ViewSetup, Permission::ManageProfiles],
            false
        )));
    }

    #[test]
    fn roles_only_below_ones_own_unless_administrator() {
        let tree = RoleTree::new([
            (id("ceo"), None),
            (id("manager"), Some(id("ceo"))),
            (id("crew"), Some(id("manager"))),
        ]);
        let manager = Grantor {
            profile: profile(&Permission::ALL, false),
            role_id: &id("manager"),
        };
        assert!(manager.may_grant_role(&tree, &id("crew")));
        assert!(!manager.may_grant_role(&tree, &id("manager")));
        assert!(!manager.may_grant_role(&tree, &id("ceo")));
        let administrator = Grantor {
            profile: profile(&[], true),
            role_id: &id("crew"),
        };
        assert!(administrator.may_grant_role(&tree, &id("ceo")));
    }
}
