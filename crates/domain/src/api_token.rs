//! API and SCIM tokens: the secret a script or an identity provider presents, and what it is for.
//!
//! A token is `1stop_` followed by 256 random bits in base64url (49 characters in all). The prefix
//! lets secret scanners and people recognise a leaked one; only its SHA-256 is stored, like every
//! other token of ours, so the database never holds a usable token.

use crate::token::{SecretToken, TokenHash, sha256_hex};
use std::fmt;

const PREFIX: &str = "1stop_";

/// The secret of an API token. Its `Debug` form prints nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiTokenSecret(String);

impl ApiTokenSecret {
    /// A fresh token (see [`SecretToken::generate`]).
    pub fn generate() -> Self {
        Self(format!("{PREFIX}{}", SecretToken::generate().expose()))
    }

    /// Accepts exactly the shape [`generate`](Self::generate) makes; anything else is refused
    /// before any lookup.
    pub fn parse(input: &str) -> Option<Self> {
        let random = input.strip_prefix(PREFIX)?;
        SecretToken::parse(random).map(|_| Self(input.to_owned()))
    }

    /// The token, to show once to its creator.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::from_hex(sha256_hex(self.0.as_bytes()))
    }
}

impl fmt::Debug for ApiTokenSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ApiTokenSecret(..)")
    }
}

/// Where a token works. A token opens one door: a SCIM token given to an identity provider cannot
/// call the JSON API, and an API token cannot provision through SCIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiTokenKind {
    /// `/api/v1`, with the permissions chosen for it.
    Api,
    /// `/scim/v2`, for an identity provider: it manages users and nothing else.
    Scim,
}

impl ApiTokenKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Scim => "scim",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "api" => Some(Self::Api),
            "scim" => Some(Self::Scim),
            _ => None,
        }
    }

    /// How pages name it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Api => "API",
            Self::Scim => "SCIM",
        }
    }
}

/// What the token is for, in its creator's words ("Payroll sync", "Okta").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiTokenNameError {
    #[error("Enter a name that says what the token is for, such as \"Payroll sync\".")]
    Empty,
    #[error("Use at most {max} characters for the token's name.", max = ApiTokenName::MAX_CHARS)]
    TooLong,
    #[error("Use letters, digits, spaces and punctuation only in the token's name.")]
    ControlCharacter,
}

impl ApiTokenName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, ApiTokenNameError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(ApiTokenNameError::Empty);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ApiTokenNameError::TooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(ApiTokenNameError::ControlCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_back_and_hashes_whole() {
        let token = ApiTokenSecret::generate();
        assert!(token.expose().starts_with("1stop_"));
        assert_eq!(token.expose().len(), 49);
        let parsed = ApiTokenSecret::parse(token.expose()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
        assert_ne!(token.hash(), ApiTokenSecret::generate().hash());
        assert_eq!(format!("{token:?}"), "ApiTokenSecret(..)");
    }

    #[test]
    fn anything_but_the_exact_shape_is_refused() {
        let token = ApiTokenSecret::generate();
        let random = &token.expose()[6..];
        for bad in [
            "",
            "1stop_",
            random,
            &format!("1stop_{random}x"),
            &format!("2stop_{random}"),
            &format!("1stop_{}", &random[1..]),
        ] {
            assert!(ApiTokenSecret::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(ApiTokenName::parse("  Okta ").unwrap().as_str(), "Okta");
        assert_eq!(ApiTokenName::parse(" "), Err(ApiTokenNameError::Empty));
        assert_eq!(
            ApiTokenName::parse(&"x".repeat(101)),
            Err(ApiTokenNameError::TooLong)
        );
        assert_eq!(
            ApiTokenName::parse("a\nb"),
            Err(ApiTokenNameError::ControlCharacter)
        );
    }
}
