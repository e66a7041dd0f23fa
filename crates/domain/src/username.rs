//! Usernames chosen by invitees: unique across the deployment, compared case-insensitively.

use std::fmt;

pub const MIN_LENGTH: usize = 3;
pub const MAX_LENGTH: usize = 32;

/// Names that would impersonate the system or its staff, or collide with routes.
const RESERVED: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "support",
    "setup",
    "system",
    "sysadmin",
    "help",
    "helpdesk",
    "security",
    "abuse",
    "postmaster",
    "hostmaster",
    "webmaster",
    "noreply",
    "no-reply",
    "owner",
    "staff",
    "official",
    "onestop",
    "1stop",
    "api",
    "login",
    "logout",
    "join",
    "terms",
    "static",
    "null",
    "undefined",
    "anonymous",
    "everyone",
    "billing",
    "info",
    "mail",
];

/// A username: 3 to 32 ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit,
/// with no two punctuation marks in a row. ASCII only, so that no two names look alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    as_typed: String,
    normalized: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("Choose a username.")]
    Empty,
    #[error("A username needs at least {MIN_LENGTH} characters.")]
    TooShort,
    #[error("A username can be at most {MAX_LENGTH} characters.")]
    TooLong,
    #[error("Use only letters a-z, digits, dots, underscores and hyphens; {0:?} is not allowed.")]
    ForbiddenCharacter(char),
    #[error("Start the username with a letter or a digit.")]
    BadStart,
    #[error("Do not put two of . _ - next to each other.")]
    RepeatedPunctuation,
    #[error("\"{0}\" is reserved; choose another username.")]
    Reserved(String),
}

impl Username {
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Empty);
        }
        if let Some(bad) = trimmed
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !is_punctuation(*c))
        {
            return Err(UsernameError::ForbiddenCharacter(bad));
        }
        // From here on the text is ASCII, so bytes are characters.
        if trimmed.len() < MIN_LENGTH {
            return Err(UsernameError::TooShort);
        }
        if trimmed.len() > MAX_LENGTH {
            return Err(UsernameError::TooLong);
        }
        if !trimmed.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(UsernameError::BadStart);
        }
        if trimmed
            .as_bytes()
            .windows(2)
            .any(|pair| is_punctuation(char::from(pair[0])) && is_punctuation(char::from(pair[1])))
        {
            return Err(UsernameError::RepeatedPunctuation);
        }
        let normalized = trimmed.to_ascii_lowercase();
        if RESERVED.contains(&normalized.as_str()) {
            return Err(UsernameError::Reserved(trimmed.to_owned()));
        }
        Ok(Self {
            as_typed: trimmed.to_owned(),
            normalized,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.as_typed
    }

    /// Lower case: the form used for uniqueness and sign-in.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

fn is_punctuation(c: char) -> bool {
    matches!(c, '.' | '_' | '-')
}

impl fmt::Display for Username {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.as_typed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_usernames_are_accepted_and_compared_in_lower_case() {
        let username = Username::parse(" Ada.Lovelace_1815 ").unwrap();
        assert_eq!(username.as_str(), "Ada.Lovelace_1815");
        assert_eq!(username.normalized(), "ada.lovelace_1815");
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn bad_usernames_are_refused_with_the_reason() {
        let cases = [
            ("", UsernameError::Empty),
            ("ab", UsernameError::TooShort),
            (&"a".repeat(33) as &str, UsernameError::TooLong),
            ("ada/lovelace", UsernameError::ForbiddenCharacter('/')),
            ("ada lovelace", UsernameError::ForbiddenCharacter(' ')),
            ("ada\u{0}x", UsernameError::ForbiddenCharacter('\u{0}')),
            ("аdmin", UsernameError::ForbiddenCharacter('а')),
            ("..ada", UsernameError::BadStart),
            (".ada", UsernameError::BadStart),
            ("ada..x", UsernameError::RepeatedPunctuation),
            ("ada._x", UsernameError::RepeatedPunctuation),
            ("Admin", UsernameError::Reserved("Admin".into())),
            ("root", UsernameError::Reserved("root".into())),
        ];
        for (input, expected) in cases {
            assert_eq!(Username::parse(input), Err(expected), "input {input:?}");
        }
    }

    proptest! {
        #[test]
        fn accepted_usernames_follow_every_rule(input in "[a-zA-Z0-9._/ -]{0,40}") {
            if let Ok(username) = Username::parse(&input) {
                let name = username.as_str();
                prop_assert!((MIN_LENGTH..=MAX_LENGTH).contains(&name.len()));
                prop_assert!(name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()));
                prop_assert!(!name.contains(".."));
                prop_assert!(!name.contains('/'));
            }
        }

        #[test]
        fn parsing_never_panics(input in "\\PC{0,64}") {
            let _ = Username::parse(&input);
        }
    }
}
