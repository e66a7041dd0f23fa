//! People's and companies' names: stored as typed, shown escaped, bounded in length.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("Enter the {0}.")]
    Empty(&'static str),
    #[error("The {field} can be at most {limit} characters; this one has {length}.")]
    TooLong {
        field: &'static str,
        limit: usize,
        length: usize,
    },
    #[error("The {0} cannot contain line breaks or control characters.")]
    ControlCharacter(&'static str),
}

/// Trims, then checks length and control characters. Markup, quotes and any script are allowed:
/// templates escape them on output.
fn parse_text(input: &str, field: &'static str, limit: usize) -> Result<Option<String>, NameError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    // Bidirectional overrides would let a name display differently from what it is.
    if trimmed.chars().any(|c| {
        c.is_control()
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }) {
        return Err(NameError::ControlCharacter(field));
    }
    let length = trimmed.chars().count();
    if length > limit {
        return Err(NameError::TooLong {
            field,
            limit,
            length,
        });
    }
    Ok(Some(trimmed.to_owned()))
}

macro_rules! required_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $limit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MAX_LENGTH: usize = $limit;

            pub fn parse(input: &str) -> Result<Self, NameError> {
                parse_text(input, $field, $limit)?
                    .map(Self)
                    .ok_or(NameError::Empty($field))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}

required_text!(
    /// A user's last name (required).
    LastName, "last name", 80
);
required_text!(
    /// The company's legal or trading name, as used in the invitation subject.
    CompanyName, "company name", 100
);
required_text!(
    /// The name of the company's 1Stop account (defaults to the company name).
    AccountName, "account name", 100
);

/// A user's first name: optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FirstName(Option<String>);

impl FirstName {
    pub const MAX_LENGTH: usize = 80;

    pub fn parse(input: &str) -> Result<Self, NameError> {
        parse_text(input, "first name", Self::MAX_LENGTH).map(Self)
    }

    pub fn as_option(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// "first last" folded to lower case (all of Unicode), the form people search by.
pub fn search_key(first_name: &FirstName, last_name: &LastName) -> String {
    match first_name.as_option() {
        Some(first) => format!("{first} {}", last_name.as_str()).to_lowercase(),
        None => format!(" {}", last_name.as_str()).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_key_folds_every_script() {
        let first = FirstName::parse("Élodie").unwrap();
        let last = LastName::parse("Ångström").unwrap();
        assert_eq!(search_key(&first, &last), "élodie ångström");
    }

    #[test]
    fn names_are_trimmed_and_kept_as_typed() {
        assert_eq!(
            LastName::parse("  O'Brien <b>  ").unwrap().as_str(),
            "O'Brien <b>"
        );
        assert_eq!(LastName::parse("王").unwrap().as_str(), "王");
        assert_eq!(FirstName::parse("   ").unwrap().as_option(), None);
        assert_eq!(FirstName::parse("Ada").unwrap().as_option(), Some("Ada"));
    }

    #[test]
    fn a_missing_last_name_says_so() {
        assert_eq!(LastName::parse(" "), Err(NameError::Empty("last name")));
        assert_eq!(
            LastName::parse(" ").unwrap_err().to_string(),
            "Enter the last name."
        );
    }

    #[test]
    fn over_long_names_state_the_limit() {
        let error = CompanyName::parse(&"x".repeat(101)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "The company name can be at most 100 characters; this one has 101."
        );
        assert!(CompanyName::parse(&"x".repeat(100)).is_ok());
    }

    #[test]
    fn line_breaks_and_direction_overrides_are_refused() {
        assert_eq!(
            LastName::parse("Smith\r\nBcc: x@evil.example"),
            Err(NameError::ControlCharacter("last name"))
        );
        assert_eq!(
            FirstName::parse("abc\u{202E}fdp.exe"),
            Err(NameError::ControlCharacter("first name"))
        );
    }
}
