//! Roles as pickers offer them: in tree order (each role under its parent), indented by level,
//! on New User, Edit User and the Users page's role filter.

use crate::store::RoleRow;
use onestop_domain::RoleId;

/// One role of a picker.
pub struct RoleChoice {
    pub id: String,
    pub name: String,
    /// Non-breaking spaces that indent the name by its level below the highest role offered (an
    /// `<option>` holds text only).
    pub indent: String,
}

/// Deeper levels are indented no further, so a long chain stays readable.
const DEEPEST_INDENT: usize = 6;

/// `roles` (any order) placed in the tree: parents before children, siblings in the given
/// order. A role whose parent is not offered starts a tree of its own at level 0.
pub fn role_choices(roles: &[RoleRow]) -> Vec<RoleChoice> {
    fn visit(parent: Option<&RoleId>, depth: usize, roles: &[RoleRow], out: &mut Vec<RoleChoice>) {
        let offered = |id: &RoleId| roles.iter().any(|role| &role.id == id);
        for role in roles.iter().filter(|role| match parent {
            Some(parent) => role.parent_id.as_ref() == Some(parent),
            None => !role.parent_id.as_ref().is_some_and(offered),
        }) {
            let level = depth.min(DEEPEST_INDENT);
            out.push(RoleChoice {
                id: role.id.to_string(),
                name: role.name.clone(),
                indent: "\u{a0}\u{a0}\u{a0}".repeat(level),
            });
            // The tree has no cycles (moves are checked); the bound only guards the stack.
            if depth < 64 {
                visit(Some(&role.id), depth + 1, roles, out);
            }
        }
    }
    let mut out = Vec::new();
    visit(None, 0, roles, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: u8, parent: Option<u8>, name: &str) -> RoleRow {
        let id_of = |n: u8| RoleId::parse(&format!("01900000-0000-7000-8000-0000000000{n:02}"));
        RoleRow {
            id: id_of(id).unwrap(),
            name: name.to_owned(),
            parent_id: parent.and_then(id_of),
            description: String::new(),
        }
    }

    #[test]
    fn children_follow_their_parent_one_level_deeper() {
        let roles = [
            role(1, None, "CEO"),
            role(2, Some(1), "Manager"),
            role(3, Some(1), "Sales"),
            role(4, Some(2), "Installer"),
        ];
        let placed: Vec<(String, usize)> = role_choices(&roles)
            .into_iter()
            .map(|choice| (choice.name, choice.indent.chars().count() / 3))
            .collect();
        assert_eq!(
            placed,
            [
                ("CEO".to_owned(), 0),
                ("Manager".to_owned(), 1),
                ("Installer".to_owned(), 2),
                ("Sales".to_owned(), 1),
            ]
        );
    }

    #[test]
    fn roles_below_an_unoffered_parent_start_at_the_top() {
        let roles = [role(2, Some(1), "Manager"), role(4, Some(2), "Installer")];
        let choices = role_choices(&roles);
        assert_eq!(choices[0].indent, "");
        assert_eq!(choices[1].indent, "\u{a0}\u{a0}\u{a0}");
    }
}
