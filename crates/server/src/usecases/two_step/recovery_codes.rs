//! Recovery codes: ten single-use codes of 80 random bits each, shown once as
//! `xxxx-xxxx-xxxx-xxxx` (base32, lower case) and stored only as the SHA-256 of their
//! normalized form.

use onestop_domain::token::sha256_hex;

/// How many codes a user gets at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Characters of a code without its dashes: 16 base32 characters carry 80 bits.
const CODE_CHARS: usize = 16;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Ten new codes, as shown (`xxxx-xxxx-xxxx-xxxx`); `None` when the system has no randomness.
pub fn generate() -> Option<Vec<String>> {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut bytes = [0u8; 10];
            getrandom::fill(&mut bytes).ok()?;
            Some(format_code(&encode(&bytes)))
        })
        .collect()
}

/// The stored form of a code: the SHA-256 (hex) of its normalized characters.
pub fn hash(normalized: &str) -> String {
    sha256_hex(normalized.as_bytes())
}

/// A code as typed, with or without dashes and spaces, in any case; `None` when it cannot be
/// one of ours (wrong length or characters).
pub fn normalize(typed: &str) -> Option<String> {
    let normalized: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = normalized.chars().count() == CODE_CHARS
        && normalized.bytes().all(|byte| BASE32.contains(&byte));
    valid.then_some(normalized)
}

fn encode(bytes: &[u8; 10]) -> String {
    let mut bits: u128 = 0;
    for byte in bytes {
        bits = (bits << 8) | u128::from(*byte);
    }
    (0..CODE_CHARS)
        .rev()
        .map(|index| {
            let value = (bits >> (index * 5)) & 0x1f;
            char::from(BASE32[usize::try_from(value).unwrap_or(0)])
        })
        .collect()
}

fn format_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The codes as a text file, for the download link of the page that shows them.
pub fn as_text_file(codes: &[String], account: &str) -> String {
    let mut text = format!(
        "1Stop recovery codes for {account}\n\nEach code signs you in once when your authenticator app or passkey is not at hand.\nKeep them somewhere safe.\n\n"
    );
    for code in codes {
        text.push_str(code);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_of_sixteen_characters_in_groups_of_four() {
        let codes = generate().unwrap();
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(code.matches('-').count(), 3, "{code}");
            assert!(normalize(code).is_some(), "{code}");
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
    }

    #[test]
    fn a_code_is_accepted_with_or_without_dashes_and_spaces_in_any_case() {
        let code = "abcd-efgh-ijkl-mn23";
        let expected = Some("abcdefghijklmn23".to_owned());
        assert_eq!(normalize(code), expected);
        assert_eq!(normalize("ABCD EFGH IJKL MN23"), expected);
        assert_eq!(normalize(" abcdefghijklmn23 "), expected);
        assert_eq!(normalize("abcd-efgh-ijkl-mn2"), None);
        assert_eq!(normalize("abcd-efgh-ijkl-mn21"), None, "1 is not base32");
    }
}
