//! `FirstName`, `LastName`, `CompanyName` and `AccountName` parsing: an accepted name is the
//! trimmed input, not empty, within its length in code points, free of control characters and
//! line breaks (bidirectional controls are kept as typed: pages isolate names), and re-parses to
//! itself; the four agree with each other; the search key is stable under lower-casing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_domain::names::search_key;
use onestop_domain::{AccountName, CompanyName, FirstName, LastName, NameError};
use onestop_fuzz::{assert_ignores_surrounding_whitespace, assert_no_control_characters, text};

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Checks what every name type shares; `Ok(None)` is an empty optional name.
fn check_accepted(input: &str, accepted: Option<&str>, limit: usize) {
    let trimmed = input.trim();
    match accepted {
        None => assert!(trimmed.is_empty(), "{input:?}"),
        Some(name) => {
            assert_eq!(name, trimmed);
            assert!(!name.is_empty());
            assert!(name.chars().count() <= limit, "{name:?}");
            assert_no_control_characters("name", name);
            assert!(!name.chars().any(is_line_break), "{name:?}");
        }
    }
}

/// The outcome without the field name, which differs between the types.
fn verdict<T>(result: &Result<T, NameError>) -> Result<(), Option<usize>> {
    match result {
        Ok(_) => Ok(()),
        Err(NameError::Empty(_)) => Err(None),
        Err(NameError::TooLong { length, .. }) => Err(Some(*length)),
        Err(NameError::ControlCharacter(_)) => Err(Some(0)),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let trimmed = input.trim();
    assert_ignores_surrounding_whitespace(input, FirstName::parse);
    assert_ignores_surrounding_whitespace(input, LastName::parse);
    assert_ignores_surrounding_whitespace(input, CompanyName::parse);
    assert_ignores_surrounding_whitespace(input, AccountName::parse);

    let first = FirstName::parse(input);
    let last = LastName::parse(input);
    let company = CompanyName::parse(input);
    let account = AccountName::parse(input);

    if let Ok(name) = &first {
        check_accepted(input, name.as_option(), FirstName::MAX_LENGTH);
        assert_eq!(
            FirstName::parse(name.as_option().unwrap_or("")).as_ref(),
            Ok(name)
        );
    }
    if let Ok(name) = &last {
        check_accepted(input, Some(name.as_str()), LastName::MAX_LENGTH);
        assert_eq!(name.to_string(), name.as_str());
        assert_eq!(LastName::parse(name.as_str()).as_ref(), Ok(name));
    }
    if let Ok(name) = &company {
        check_accepted(input, Some(name.as_str()), CompanyName::MAX_LENGTH);
        assert_eq!(CompanyName::parse(name.as_str()).as_ref(), Ok(name));
    }
    if let Ok(name) = &account {
        check_accepted(input, Some(name.as_str()), AccountName::MAX_LENGTH);
        assert_eq!(AccountName::parse(name.as_str()).as_ref(), Ok(name));
    }

    // Only an empty first name is allowed; the required names refuse it, and say so.
    if trimmed.is_empty() {
        assert_eq!(first.as_ref().map(FirstName::as_option), Ok(None));
        assert_eq!(last, Err(NameError::Empty("last name")));
    } else {
        assert_eq!(verdict(&first), verdict(&last), "{input:?}");
    }
    assert_eq!(verdict(&company), verdict(&account), "{input:?}");
    if let Err(NameError::TooLong { length, limit, .. }) = &company {
        assert_eq!((*length, *limit), (trimmed.chars().count(), 100));
    }

    // The search key of first and last name is already lower case.
    if let (Ok(first), Ok(last)) = (&first, &last) {
        let key = search_key(first, last);
        assert_eq!(key.to_lowercase(), key, "{input:?}");
    }
});
