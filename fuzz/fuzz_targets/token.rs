//! `SecretToken::parse` and `TokenHash`.
//!
//! Checks: exactly the canonical base64url spelling of 32 bytes (43 characters, no padding, the
//! last character carrying no stray bits) is accepted, as typed; any 32 bytes encoded that way
//! are accepted; the hash is the SHA-256 of the token in lower-case hex, the same for the same
//! token and never containing it; `matches` is plain equality.

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use onestop_domain::token::sha256_hex;
use onestop_domain::{SecretToken, TokenHash};
use onestop_fuzz::text;

/// Base64url characters whose low two bits are zero: the only possible last characters of 32
/// bytes written in 43 characters.
const LAST_CHARACTERS: &str = "AEIMQUYcgkosw048";

fn is_token_shaped(input: &str) -> bool {
    input.len() == 43
        && input
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        && input.ends_with(|c| LAST_CHARACTERS.contains(c))
}

fn check_hash(token: &SecretToken) -> TokenHash {
    let hash = token.hash();
    assert_eq!(hash.as_str(), sha256_hex(token.expose().as_bytes()));
    assert_eq!(hash.as_str().len(), 64);
    assert!(
        hash.as_str()
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    );
    assert!(!hash.as_str().contains(token.expose()));
    assert_eq!(token.clone().hash(), hash);
    hash
}

fuzz_target!(|data: &[u8]| {
    // Any 32 bytes, written as the server writes them, are a token that round-trips.
    if let Some(bytes) = data.get(..32) {
        let written = URL_SAFE_NO_PAD.encode(bytes);
        let Some(token) = SecretToken::parse(&written) else {
            panic!("{written:?}, the encoding of {bytes:?}, is refused");
        };
        assert_eq!(token.expose(), written);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(token.expose()).ok().as_deref(),
            Some(bytes)
        );
        check_hash(&token);
    }

    let Some(input) = text(data) else { return };
    let parsed = SecretToken::parse(input);
    assert_eq!(parsed.is_some(), is_token_shaped(input), "{input:?}");
    let Some(token) = parsed else { return };
    assert_eq!(token.expose(), input);
    assert_eq!(format!("{token:?}"), "SecretToken(..)");
    assert_eq!(SecretToken::parse(token.expose()).as_ref(), Some(&token));
    assert!(token.matches(input));
    let hash = check_hash(&token);

    // A token that differs in one character is another token, with another hash.
    let mut other = input.as_bytes().to_vec();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    let other = String::from_utf8(other).unwrap_or_default();
    assert!(!token.matches(&other));
    if let Some(other) = SecretToken::parse(&other) {
        assert_ne!(other.hash(), hash);
    }
});
