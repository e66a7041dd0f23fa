//! Secret tokens (sessions, invitations, set-up links, CSRF) and the hashes we store instead.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

const TOKEN_BYTES: usize = 32;

/// 256 bits from the operating system's CSPRNG, written as base64url without padding (43
/// characters). Its `Debug` form prints nothing; only its [`TokenHash`] is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// A fresh token.
    ///
    /// Panics only if the operating system cannot supply randomness, in which case nothing
    /// secure can be done at all.
    #[allow(clippy::expect_used)]
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system must provide random bytes");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts text that has the exact shape of a token; anything else (truncated, padded, 10 KB)
    /// is refused before any lookup.
    pub fn parse(input: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(input).ok()?;
        (decoded.len() == TOKEN_BYTES && input.len() == 43).then(|| Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(sha256_hex(self.0.as_bytes()))
    }

    /// Compares in constant time (for CSRF tokens compared in memory).
    pub fn matches(&self, other: &str) -> bool {
        constant_time_eq(&self.0, other)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SecretToken(..)")
    }
}

/// The SHA-256 of a token, in lower-case hex: what the database stores and looks up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// A hash computed elsewhere in this crate (API tokens hash their whole text).
    pub(crate) fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Compares two secrets without revealing through timing how much of them matched.
pub fn constant_time_eq(left: &str, right: &str) -> bool {
    left.as_bytes().ct_eq(right.as_bytes()).into()
}

/// SHA-256 in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn one_hundred_thousand_tokens_are_unique() {
        let tokens: HashSet<String> = (0..100_000).map(|_| SecretToken::generate().0).collect();
        assert_eq!(tokens.len(), 100_000);
    }

    #[test]
    fn a_token_is_43_url_safe_characters_and_parses_back() {
        let token = SecretToken::generate();
        assert_eq!(token.expose().len(), 43);
        assert!(
            token
                .expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(SecretToken::parse(token.expose()), Some(token));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let token = SecretToken::generate();
        let text = token.expose();
        for bad in [
            String::new(),
            text[..42].to_owned(),
            format!("{text}="),
            format!("{text}A"),
            "A".repeat(10_000),
            text.replace(|_| true, "!"),
        ] {
            assert!(SecretToken::parse(&bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_hash_is_sha256_hex_and_never_the_token() {
        let token = SecretToken::generate();
        let hash = token.hash();
        assert_eq!(hash.as_str().len(), 64);
        assert!(!hash.as_str().contains(token.expose()));
        assert_eq!(hash, token.hash());
        assert_ne!(hash, SecretToken::generate().hash());
        assert_eq!(format!("{token:?}"), "SecretToken(..)");
    }

    proptest! {
        #[test]
        fn a_token_made_of_any_32_bytes_parses_back_to_itself(bytes in any::<[u8; TOKEN_BYTES]>()) {
            // `generate` with the randomness replaced by proptest's.
            let token = SecretToken(URL_SAFE_NO_PAD.encode(bytes));
            let parsed = SecretToken::parse(token.expose());
            prop_assert_eq!(parsed.as_ref(), Some(&token));
            prop_assert_eq!(parsed.map(|parsed| parsed.hash()), Some(token.hash()));
        }

        #[test]
        fn parsing_never_panics_and_accepts_only_the_exact_shape(
            input in prop_oneof!["(?s).{0,100}", "[A-Za-z0-9_=+/-]{41,45}"]
        ) {
            if let Some(token) = SecretToken::parse(&input) {
                prop_assert_eq!(token.expose(), input.as_str());
                prop_assert_eq!(input.len(), 43);
                // Canonical: the decoded bytes encode back to the very same text.
                let decoded = URL_SAFE_NO_PAD.decode(&input).unwrap_or_default();
                prop_assert_eq!(URL_SAFE_NO_PAD.encode(decoded), input);
            }
        }

        #[test]
        fn a_generated_token_with_one_character_changed_or_added_is_another_token_or_none(
            position in 0usize..43,
            replacement in "[A-Za-z0-9_=+/.~-]",
        ) {
            let token = SecretToken::generate();
            let mut altered = token.expose().to_owned();
            altered.replace_range(position..=position, &replacement);
            let url_safe = replacement.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            match SecretToken::parse(&altered) {
                Some(other) => {
                    prop_assert!(url_safe);
                    prop_assert_eq!(other.hash() == token.hash(), altered == token.expose());
                }
                // The last character carries 4 spare bits: only canonical values parse.
                None => prop_assert!(!url_safe || position == 42),
            }
            let longer = format!("{}{replacement}", token.expose());
            prop_assert!(SecretToken::parse(&longer).is_none());
        }
    }
}
