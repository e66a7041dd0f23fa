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

/// Trims, then checks length and control characters. Markup, quotes, any script and
/// bidirectional controls (overrides, embeddings, isolates: people write right-to-left names) are
/// allowed and kept as typed: templates escape names on output, and show each name in its own
/// `<bdi>` (or table cell), so that a direction override reorders nothing around it. Line breaks (including
/// U+2028 and U+2029) and other control characters are refused.
fn parse_text(input: &str, field: &'static str, limit: usize) -> Result<Option<String>, NameError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
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
    use proptest::prelude::*;

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
    fn line_breaks_and_control_characters_are_refused() {
        for input in [
            "Smith\r\nBcc: x@evil.example",
            "Smith\nJones",
            "Smith\u{2028}Jones",
            "Smith\u{2029}Jones",
            "Smith\u{85}Jones",
            "Smith\0",
            "Smith\u{1b}[31m",
        ] {
            assert_eq!(
                LastName::parse(input),
                Err(NameError::ControlCharacter("last name")),
                "{input:?}"
            );
        }
    }

    #[test]
    fn direction_overrides_and_isolates_are_kept_as_typed() {
        for input in [
            "abc\u{202E}fdp.exe",
            "\u{202B}\u{5e9}\u{5dc}\u{5d5}\u{5dd}\u{202C}",
            "\u{2067}\u{627}\u{62d}\u{645}\u{62f}\u{2069}",
            "\u{200F}Levi",
        ] {
            assert_eq!(
                FirstName::parse(input).unwrap().as_option(),
                Some(input),
                "{input:?}"
            );
            assert_eq!(LastName::parse(input).unwrap().as_str(), input);
        }
    }

    /// Any text, weighted towards what names are made of and what attacks them: markup, quotes,
    /// line breaks, other controls, bidirectional controls, CJK and right-to-left letters,
    /// surrounding spaces.
    fn name_like() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[A-Za-z' .-]{1,6}",
            1 => Just("<script>".to_owned()),
            1 => Just("\"".to_owned()),
            1 => prop::sample::select(vec![
                "\r", "\n", "\r\n", "\0", "\t", "\u{85}", "\u{2028}", "\u{2029}", "\u{1b}",
            ])
            .prop_map(str::to_owned),
            1 => prop::sample::select(vec![
                "\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}", "\u{2066}",
                "\u{2067}", "\u{2068}", "\u{2069}", "\u{200E}", "\u{200F}",
            ])
            .prop_map(str::to_owned),
            2 => "[\u{4e00}-\u{9fff}\u{5d0}-\u{5ea}\u{627}-\u{64a}]{1,4}",
            1 => "[ \u{3000}\u{a0}]{1,3}",
            1 => "\\PC{1,4}",
            1 => ".{1,4}",
        ];
        prop::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in "(?s).{0,200}") {
            let _ = FirstName::parse(&input);
            let _ = LastName::parse(&input);
            let _ = CompanyName::parse(&input);
            let _ = AccountName::parse(&input);
        }

        #[test]
        fn accepted_names_re_parse_to_themselves(input in name_like()) {
            if let Ok(last) = LastName::parse(&input) {
                prop_assert_eq!(LastName::parse(last.as_str()), Ok(last.clone()));
                prop_assert!(last.as_str().chars().count() <= LastName::MAX_LENGTH);
                let line_break_or_control = last
                    .as_str()
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'));
                prop_assert!(!line_break_or_control);
                prop_assert_eq!(last.as_str(), input.trim());
            }
            if let Ok(first) = FirstName::parse(&input) {
                prop_assert_eq!(FirstName::parse(first.as_option().unwrap_or_default()), Ok(first.clone()));
            }
            if let Ok(company) = CompanyName::parse(&input) {
                prop_assert_eq!(CompanyName::parse(company.as_str()), Ok(company.clone()));
            }
        }

        #[test]
        fn names_without_line_breaks_or_controls_are_accepted_as_typed(
            input in "[^\\p{Cc}\u{2028}\u{2029}]{1,80}"
        ) {
            // Every character that is not a control or a line break is allowed, bidirectional
            // controls included; only the trimmed spaces are dropped.
            match LastName::parse(&input) {
                Ok(last) => prop_assert_eq!(last.as_str(), input.trim()),
                Err(error) => prop_assert_eq!(error, NameError::Empty("last name")),
            }
        }
    }
}
