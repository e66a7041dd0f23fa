//! The company hierarchy of Roles, for the rule that a user manager without the Administrator
//! profile may assign only roles below their own.

use crate::RoleId;
use std::collections::HashMap;

/// Roles by id with their parent ("reports to").
#[derive(Debug, Clone, Default)]
pub struct RoleTree {
    parent_of: HashMap<RoleId, Option<RoleId>>,
}

impl RoleTree {
    pub fn new(roles: impl IntoIterator<Item = (RoleId, Option<RoleId>)>) -> Self {
        Self {
            parent_of: roles.into_iter().collect(),
        }
    }

    /// True when `role` reports, directly or through others, to `ancestor` (and is not it).
    pub fn is_strictly_below(&self, role: &RoleId, ancestor: &RoleId) -> bool {
        let mut current = self.parent_of.get(role).cloned().flatten();
        // A malformed tree with a cycle must not loop forever: no chain is longer than the tree.
        for _ in 0..self.parent_of.len() {
            match current {
                Some(parent) if &parent == ancestor => return true,
                Some(parent) => current = self.parent_of.get(&parent).cloned().flatten(),
                None => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> RoleId {
        RoleId::from_trusted(name.to_owned())
    }

    fn tree() -> RoleTree {
        RoleTree::new([
            (id("ceo"), None),
            (id("manager"), Some(id("ceo"))),
            (id("installer"), Some(id("manager"))),
            (id("sales"), Some(id("ceo"))),
        ])
    }

    #[test]
    fn descendants_are_below_and_peers_and_self_are_not() {
        let tree = tree();
        assert!(tree.is_strictly_below(&id("installer"), &id("ceo")));
        assert!(tree.is_strictly_below(&id("installer"), &id("manager")));
        assert!(!tree.is_strictly_below(&id("manager"), &id("manager")));
        assert!(!tree.is_strictly_below(&id("sales"), &id("manager")));
        assert!(!tree.is_strictly_below(&id("ceo"), &id("manager")));
        assert!(!tree.is_strictly_below(&id("unknown"), &id("ceo")));
    }

    #[test]
    fn a_cycle_does_not_hang() {
        let tree = RoleTree::new([(id("a"), Some(id("b"))), (id("b"), Some(id("a")))]);
        assert!(!tree.is_strictly_below(&id("a"), &id("c")));
    }
}
