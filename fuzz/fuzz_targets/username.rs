//! `Username::parse`: what it accepts is 3 to 32 ASCII letters, digits and single `.` `_` `-`
//! starting with a letter or digit, re-parses to itself, and is accepted or refused the same
//! whatever its case (so no two accounts differ only by case).

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_domain::Username;
use onestop_fuzz::{assert_ignores_surrounding_whitespace, text};

fn is_punctuation(byte: u8) -> bool {
    matches!(byte, b'.' | b'_' | b'-')
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    assert_ignores_surrounding_whitespace(input, Username::parse);

    // Case never decides whether a name is taken, allowed or reserved.
    let parsed = Username::parse(input);
    for recased in [input.to_ascii_uppercase(), input.to_ascii_lowercase()] {
        let other = Username::parse(&recased);
        assert_eq!(
            parsed.as_ref().ok().map(Username::normalized),
            other.as_ref().ok().map(Username::normalized),
            "{input:?} and {recased:?} differ only by case but parse differently"
        );
    }
    let Ok(username) = parsed else { return };

    let name = username.as_str();
    assert_eq!(name, input.trim());
    assert_eq!(username.to_string(), name);
    assert_eq!(Username::parse(name).as_ref(), Ok(&username));
    assert!((3..=32).contains(&name.len()), "{name:?}");
    let bytes = name.as_bytes();
    assert!(
        bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || is_punctuation(*byte)),
        "accepted {name:?} has a forbidden character"
    );
    assert!(bytes[0].is_ascii_alphanumeric(), "{name:?}");
    assert!(
        !bytes
            .windows(2)
            .any(|pair| is_punctuation(pair[0]) && is_punctuation(pair[1])),
        "accepted {name:?} repeats punctuation"
    );

    // The normalized form is the lower case, and normalizing it again changes nothing.
    let normalized = username.normalized();
    assert_eq!(normalized, name.to_ascii_lowercase());
    match Username::parse(normalized) {
        Ok(again) => assert_eq!(again.normalized(), normalized),
        Err(error) => panic!("the normalized form {normalized:?} is refused: {error:?}"),
    }
});
