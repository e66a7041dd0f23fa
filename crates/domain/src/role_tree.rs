//! The company hierarchy of Roles, for the rule that a user manager without the Administrator
//! profile may assign only roles below their own.

use std::collections::HashMap;

/// Roles by id with their parent ("reports to").
#[derive(Debug, Clone, Default)]
pub struct RoleTree {
    parent_of: HashMap<String, Option<String>>,
}

impl RoleTree {
    pub fn new(roles: impl IntoIterator<Item = (String, Option<String>)>) -> Self {
        Self {
            parent_of: roles.into_iter().collect(),
        }
    }

    /// True when `role` reports, directly or through others, to `ancestor` (and is not it).
    pub fn is_strictly_below(&self, role: &str, ancestor: &str) -> bool {
        let mut current = self.parent_of.get(role).cloned().flatten();
        // A malformed tree with a cycle must not loop forever: no chain is longer than the tree.
        for _ in 0..self.parent_of.len() {
            match current {
                Some(parent) if parent == ancestor => return true,
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

    fn tree() -> RoleTree {
        RoleTree::new([
            ("ceo".to_owned(), None),
            ("manager".to_owned(), Some("ceo".to_owned())),
            ("installer".to_owned(), Some("manager".to_owned())),
            ("sales".to_owned(), Some("ceo".to_owned())),
        ])
    }

    #[test]
    fn descendants_are_below_and_peers_and_self_are_not() {
        let tree = tree();
        assert!(tree.is_strictly_below("installer", "ceo"));
        assert!(tree.is_strictly_below("installer", "manager"));
        assert!(!tree.is_strictly_below("manager", "manager"));
        assert!(!tree.is_strictly_below("sales", "manager"));
        assert!(!tree.is_strictly_below("ceo", "manager"));
        assert!(!tree.is_strictly_below("unknown", "ceo"));
    }

    #[test]
    fn a_cycle_does_not_hang() {
        let tree = RoleTree::new([
            ("a".to_owned(), Some("b".to_owned())),
            ("b".to_owned(), Some("a".to_owned())),
        ]);
        assert!(!tree.is_strictly_below("a", "c"));
    }
}
