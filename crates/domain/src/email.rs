//! Email addresses as typed into forms: trimmed, checked, and compared case-insensitively.

use std::fmt;

/// The longest address that fits SMTP's forward-path (RFC 5321, 4.5.3.1.3).
const MAX_LENGTH: usize = 254;
const MAX_LOCAL_PART_LENGTH: usize = 64;

/// A syntactically plausible email address. Only a delivered email proves more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    as_typed: String,
    normalized: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailAddressError {
    #[error("Enter an email address.")]
    Empty,
    #[error("An email address can be at most {MAX_LENGTH} characters; this one has {0}.")]
    TooLong(usize),
    #[error("Enter one email address, like name@example.com, with a single @.")]
    NotOneAt,
    #[error("An email address cannot contain spaces or control characters.")]
    ForbiddenCharacter,
    #[error("Add the part before the @, like name@example.com.")]
    MissingLocalPart,
    #[error("The part before the @ can be at most {MAX_LOCAL_PART_LENGTH} characters.")]
    LocalPartTooLong,
    #[error("Add the domain after the @, like name@example.com.")]
    InvalidDomain,
    #[error(
        "The part before the @ can hold letters, digits, dots and ! # $ % & ' * + / = ? ^ _ ` {{ | }} ~ -; remove other characters such as commas or brackets."
    )]
    InvalidLocalPart,
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, EmailAddressError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailAddressError::Empty);
        }
        let length = trimmed.chars().count();
        if length > MAX_LENGTH {
            return Err(EmailAddressError::TooLong(length));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailAddressError::ForbiddenCharacter);
        }
        let mut parts = trimmed.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailAddressError::NotOneAt);
        };
        if local.is_empty() {
            return Err(EmailAddressError::MissingLocalPart);
        }
        if local.chars().count() > MAX_LOCAL_PART_LENGTH {
            return Err(EmailAddressError::LocalPartTooLong);
        }
        if !is_plausible_domain(domain) || !email_address::EmailAddress::is_valid_domain(domain) {
            return Err(EmailAddressError::InvalidDomain);
        }
        // The mailer (lettre) checks addresses with this same parser when it sends: accepting
        // here only what it accepts means no user is created whose invitation cannot go out.
        // Quoted local parts (`"a,b"@example.com`) pass that parser, but lettre's `Mailbox`
        // strips the quotes and refuses what is left: only a dot-atom is sendable.
        if local.starts_with('"') || !email_address::EmailAddress::is_valid_local_part(local) {
            return Err(EmailAddressError::InvalidLocalPart);
        }
        Ok(Self {
            as_typed: trimmed.to_owned(),
            normalized: trimmed.to_lowercase(),
        })
    }

    /// The address as the person typed it (trimmed); used when sending.
    pub fn as_str(&self) -> &str {
        &self.as_typed
    }

    /// The form used for uniqueness: trimmed and case-folded.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The part before the `@`, for the personal-password check.
    pub fn local_part(&self) -> &str {
        self.as_typed.split('@').next().unwrap_or_default()
    }
}

fn is_plausible_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.as_typed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_plain_address_is_accepted_trimmed_and_normalized() {
        let email = EmailAddress::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace@Example.COM");
        assert_eq!(email.normalized(), "ada.lovelace@example.com");
        assert_eq!(email.local_part(), "Ada.Lovelace");
    }

    #[test]
    fn international_addresses_are_accepted() {
        assert!(EmailAddress::parse("josé@exämple.de").is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_reason() {
        let cases = [
            ("", EmailAddressError::Empty),
            ("   ", EmailAddressError::Empty),
            ("ada.example.com", EmailAddressError::NotOneAt),
            ("ada@@example.com", EmailAddressError::NotOneAt),
            ("a@b@example.com", EmailAddressError::NotOneAt),
            (
                "ada lovelace@example.com",
                EmailAddressError::ForbiddenCharacter,
            ),
            (
                "ada@example.com\r\nBcc: x@evil.example",
                EmailAddressError::ForbiddenCharacter,
            ),
            ("ada\0@example.com", EmailAddressError::ForbiddenCharacter),
            ("@example.com", EmailAddressError::MissingLocalPart),
            ("ada@", EmailAddressError::InvalidDomain),
            ("ada@localhost", EmailAddressError::InvalidDomain),
            ("ada@exa_mple.com", EmailAddressError::InvalidDomain),
            ("ada@example..com", EmailAddressError::InvalidDomain),
            ("a,b@example.com", EmailAddressError::InvalidLocalPart),
            ("a(b)@example.com", EmailAddressError::InvalidLocalPart),
            ("ada.@example.com", EmailAddressError::InvalidLocalPart),
            ("<ada>@example.com", EmailAddressError::InvalidLocalPart),
            ("\"a,b\"@example.com", EmailAddressError::InvalidLocalPart),
            ("\"a]b\"@example.com", EmailAddressError::InvalidLocalPart),
        ];
        for (input, expected) in cases {
            assert_eq!(EmailAddress::parse(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn addresses_over_254_characters_are_refused() {
        let local = "a".repeat(64);
        // DNS labels hold at most 63 characters.
        let domain = format!(
            "{}.{}.{}.com",
            "b".repeat(62),
            "c".repeat(61),
            "d".repeat(61)
        );
        let at_limit = format!("{local}@{domain}");
        assert_eq!(at_limit.len(), 255);
        assert_eq!(
            EmailAddress::parse(&at_limit),
            Err(EmailAddressError::TooLong(255))
        );
        assert!(EmailAddress::parse(&at_limit[1..]).is_ok());
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in ".{0,300}") {
            let _ = EmailAddress::parse(&input);
        }

        #[test]
        fn accepted_addresses_never_contain_line_breaks(input in ".{0,80}") {
            if let Ok(email) = EmailAddress::parse(&input) {
                prop_assert!(!email.as_str().contains(['\r', '\n']));
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
            }
        }
    }
}
