//! Typed ids. Every row is named by a UUID; giving each kind its own type means a user's id
//! cannot be passed where a profile's is expected, and an id from a form or a path is parsed
//! once, at the edge (a malformed one is simply "not found").

use std::fmt;

/// Whether `text` is a UUID in its usual hyphenated form (what we generate: v7, lowercase).
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// What every id type can do, for code generic over them (a path extractor, say).
pub trait TypedId: Sized {
    fn parse(text: &str) -> Option<Self>;
}

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
            pub struct $name(String);

            impl $name {
                /// An id as typed in a path or form: a UUID, or nothing.
                pub fn parse(text: &str) -> Option<Self> {
                    let text = text.trim();
                    is_uuid(text).then(|| Self(text.to_ascii_lowercase()))
                }

                /// An id this program generated or read from its own database.
                pub fn from_trusted(text: String) -> Self {
                    Self(text)
                }

                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }

            impl TypedId for $name {
                fn parse(text: &str) -> Option<Self> {
                    Self::parse(text)
                }
            }

            impl fmt::Display for $name {
                fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                    formatter.write_str(&self.0)
                }
            }

            impl AsRef<str> for $name {
                fn as_ref(&self) -> &str {
                    &self.0
                }
            }

            impl PartialEq<str> for $name {
                fn eq(&self, other: &str) -> bool {
                    self.0 == other
                }
            }

            impl PartialEq<String> for $name {
                fn eq(&self, other: &String) -> bool {
                    &self.0 == other
                }
            }

            impl PartialEq<&str> for $name {
                fn eq(&self, other: &&str) -> bool {
                    self.0 == *other
                }
            }
        )*
    };
}

id_type! {
    /// A company's account.
    OrganizationId,
    /// A person in an organization.
    UserId,
    /// A profile (a set of permissions).
    ProfileId,
    /// A role in an organization's hierarchy.
    RoleId,
    /// One invitation link of a user.
    InvitationId,
    /// An API or SCIM token (its id, never its secret).
    ApiTokenId,
    /// An upload of the CSV import and the job it becomes.
    ImportId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_or_nothing() {
        let id = UserId::parse("0192F3A4-5b6c-7d8e-9f01-23456789abcd").unwrap();
        assert_eq!(id.as_str(), "0192f3a4-5b6c-7d8e-9f01-23456789abcd");
        for bad in [
            "",
            "1",
            "../etc/passwd",
            "0192f3a4-5b6c-7d8e-9f01-23456789abcg",
            "0192f3a45b6c7d8e9f0123456789abcd",
        ] {
            assert!(UserId::parse(bad).is_none(), "{bad}");
        }
    }
}
