//! The password policy: `Password::choose` with `PersonalWords`, and `Password::for_sign_in`.
//!
//! Input: the whole text is tried as a password on its own; then its first line is the password
//! and each further line a personal word (username, email address, names...).
//!
//! Checks: NFC, NFD and NFKC spellings give the same password and the same verdict; a chosen
//! password signs in as the same bytes and is chosen again unchanged; lengths are 15 to 128 code
//! points after normalization; a password that contains a personal word of four or more
//! characters is refused, and personal words only ever add refusals.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_domain::{Password, PasswordError, PersonalWords};
use onestop_fuzz::text;
use unicode_normalization::{UnicodeNormalization, is_nfkc};

const WHAT: [&str; 5] = [
    "username",
    "email address",
    "first name",
    "last name",
    "company name",
];

fn nobody() -> PersonalWords<'static> {
    PersonalWords::default()
}

/// The policy's own view of a personal word: NFKC, lower case, trimmed.
fn folded_word(word: &str) -> String {
    word.nfkc()
        .collect::<String>()
        .to_lowercase()
        .trim()
        .to_owned()
}

fn check_sign_in(input: &str) {
    let normalized: String = input.nfkc().collect();
    let length = normalized.chars().count();
    let signed_in = Password::for_sign_in(input);
    assert_eq!(
        signed_in.is_some(),
        (1..=128).contains(&length),
        "{input:?}"
    );
    if let Some(password) = &signed_in {
        assert_eq!(password.expose(), normalized);
        assert!(is_nfkc(password.expose()));
        assert_eq!(
            Password::for_sign_in(password.expose()).as_ref(),
            Some(password)
        );
        assert_eq!(format!("{password:?}"), "Password(..)");
    }
    // Whatever the keyboard sends, composed or decomposed, is the same password.
    for spelling in [
        input.nfc().collect::<String>(),
        input.nfd().collect(),
        input.nfkd().collect(),
    ] {
        assert_eq!(Password::for_sign_in(&spelling), signed_in, "{input:?}");
    }
}

fn check_choose(input: &str, personal: &PersonalWords<'_>) {
    let chosen = Password::choose(input, personal);
    for spelling in [input.nfc().collect::<String>(), input.nfd().collect()] {
        assert_eq!(Password::choose(&spelling, personal), chosen, "{input:?}");
    }

    // Personal words only add refusals, and only for that reason.
    let without_words = Password::choose(input, &nobody());
    match (&without_words, &chosen) {
        (Ok(_), Err(PasswordError::ContainsPersonalWord(what))) => {
            assert!(personal.words.iter().any(|(w, _)| w == what));
        }
        (without, with) => assert_eq!(with, without, "{input:?}"),
    }

    let length = input.nfkc().count();
    match &chosen {
        Ok(password) => {
            assert!(
                (15..=128).contains(&length),
                "{input:?} has {length} code points"
            );
            assert_eq!(Password::for_sign_in(input).as_ref(), Some(password));
            assert_eq!(
                Password::choose(password.expose(), personal).as_ref(),
                Ok(password)
            );
            let lower = password.expose().to_lowercase();
            for (what, word) in &personal.words {
                let word = folded_word(word);
                assert!(
                    word.chars().count() < 4 || !lower.contains(&word),
                    "{input:?} was accepted but contains the {what} {word:?}"
                );
            }
        }
        Err(PasswordError::Empty) => assert_eq!(length, 0),
        Err(PasswordError::TooShort(n)) => assert!(*n == length && (1..15).contains(n)),
        Err(PasswordError::TooLong(n)) => assert!(*n == length && *n > 128),
        Err(PasswordError::ConfirmationMismatch) => panic!("choose compared a confirmation"),
        Err(_) => assert!((15..=128).contains(&length)),
    }
}

/// An acceptable password with a personal word appended must be refused once the word is known.
fn check_appended_word(password: &str, word: &str) {
    if folded_word(word).chars().count() < 4 {
        return;
    }
    let with_word = format!("{password} {word}");
    if Password::choose(&with_word, &nobody()).is_ok() {
        let personal = nobody().with("username", word);
        assert_eq!(
            Password::choose(&with_word, &personal),
            Err(PasswordError::ContainsPersonalWord("username")),
            "{with_word:?} contains the username {word:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    check_sign_in(input);
    check_choose(input, &nobody());

    let mut lines = input.split('\n');
    let Some(password) = lines.next() else { return };
    let words: Vec<&str> = lines.collect();
    if words.is_empty() {
        return;
    }
    let personal = PersonalWords {
        words: words
            .iter()
            .zip(WHAT.iter().cycle())
            .map(|(word, what)| (*what, *word))
            .collect(),
    };
    check_choose(password, &personal);
    for word in &words {
        check_appended_word(password, word);
    }
});
