//! The password policy (NIST SP 800-63B rev. 4 for single-factor passwords): 15 to 128 characters
//! after NFKC normalization, no composition rules, never truncated, and common or personal
//! passwords refused with the reason.

use std::fmt;
use unicode_normalization::UnicodeNormalization;

pub const MIN_LENGTH: usize = 15;
pub const MAX_LENGTH: usize = 128;
/// Shorter personal words (a two-letter surname) would refuse too many good passphrases.
const MIN_PERSONAL_WORD_LENGTH: usize = 4;

/// Passwords that appear in breach corpora and guessing dictionaries (those long enough to pass
/// the length rule), one a line, lower case without spaces.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// A password, NFKC-normalized so that the same characters typed on different keyboards (NFC or
/// NFD) give the same bytes. Its `Debug` form prints nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// What belongs to the person, and so must not appear in their password.
#[derive(Debug, Default, Clone)]
pub struct PersonalWords<'a> {
    pub words: Vec<(&'static str, &'a str)>,
}

impl<'a> PersonalWords<'a> {
    /// Adds a word with the name of what it is ("username", "email address", "company name").
    pub fn with(mut self, what: &'static str, word: &'a str) -> Self {
        self.words.push((what, word));
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Enter a password.")]
    Empty,
    #[error(
        "Use at least {MIN_LENGTH} characters; this password has {0}. A few unrelated words make a strong one."
    )]
    TooShort(usize),
    #[error("Use at most {MAX_LENGTH} characters; this password has {0}.")]
    TooLong(usize),
    #[error(
        "This password is one of the most common passwords; choose something less predictable."
    )]
    Common,
    #[error("This password repeats a short pattern; choose something less predictable.")]
    Repetitive,
    #[error("This password contains your {0}; choose one that does not.")]
    ContainsPersonalWord(&'static str),
    /// The strength estimator guesses it too easily; the reason is its own ("This is a top-10
    /// common password.") with its suggestion, when it gives them.
    #[error("This password is too easy to guess. {0}")]
    Guessable(String),
    #[error("The passwords do not match.")]
    ConfirmationMismatch,
}

impl Password {
    /// Normalizes and checks a new password against the whole policy.
    pub fn choose(input: &str, personal: &PersonalWords<'_>) -> Result<Self, PasswordError> {
        let password = Self::normalize(input);
        let length = password.0.chars().count();
        if length == 0 {
            return Err(PasswordError::Empty);
        }
        if length < MIN_LENGTH {
            return Err(PasswordError::TooShort(length));
        }
        if length > MAX_LENGTH {
            return Err(PasswordError::TooLong(length));
        }
        let folded: String = password
            .0
            .to_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if COMMON_PASSWORDS.lines().any(|common| common == folded) {
            return Err(PasswordError::Common);
        }
        if is_repetitive(&folded) {
            return Err(PasswordError::Repetitive);
        }
        let lower = password.0.to_lowercase();
        for (what, word) in &personal.words {
            let word = word.nfkc().collect::<String>().to_lowercase();
            let word = word.trim();
            if word.chars().count() >= MIN_PERSONAL_WORD_LENGTH && lower.contains(word) {
                return Err(PasswordError::ContainsPersonalWord(what));
            }
        }
        if let Some(reason) = too_guessable(&password.0, personal) {
            return Err(PasswordError::Guessable(reason));
        }
        Ok(password)
    }

    /// Normalizes a password typed at sign-in; no policy applies, but one longer than any
    /// acceptable password is refused without being hashed.
    pub fn for_sign_in(input: &str) -> Option<Self> {
        let password = Self::normalize(input);
        let length = password.0.chars().count();
        (1..=MAX_LENGTH).contains(&length).then_some(password)
    }

    fn normalize(input: &str) -> Self {
        Self(input.nfkc().collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// zxcvbn's score below which a password is refused. Score 3 means about 10^10 guesses: beyond
/// an online attack by far (sign-in is throttled) and costly offline against argon2id, while
/// 2 (10^8) falls to one GPU in a day if the hashes leak. Three or four uncommon words reach 3.
pub const MIN_STRENGTH_SCORE: u8 = 3;
/// How much of a password the estimator reads.
const ESTIMATED_LENGTH: usize = 100;

/// Why zxcvbn finds `password` too easy to guess (its warning and first suggestion), if it does.
/// The person's own words (name, email, username, company) are given to it as a dictionary, so
/// a password built around them scores low.
fn too_guessable(password: &str, personal: &PersonalWords<'_>) -> Option<String> {
    let mut inputs: Vec<&str> = Vec::new();
    for (_, word) in &personal.words {
        inputs.push(word);
        // An email address's local part and domain are guessable words of their own.
        inputs.extend(word.split(['@', '.', ' ']).filter(|part| part.len() >= 3));
    }
    // zxcvbn's matching grows faster than the length: like its authors advise, it reads the
    // first 100 characters (which, if they are strong, make the whole password strong).
    let head: String = password.chars().take(ESTIMATED_LENGTH).collect();
    let estimate = zxcvbn::zxcvbn(&head, &inputs);
    if u8::from(estimate.score()) >= MIN_STRENGTH_SCORE {
        return None;
    }
    let feedback = estimate.feedback();
    let warning = feedback.and_then(zxcvbn::feedback::Feedback::warning);
    let suggestion = feedback.and_then(|feedback| feedback.suggestions().first().copied());
    let reason = match (warning, suggestion) {
        (Some(warning), Some(suggestion)) => format!("{warning} {suggestion}"),
        (Some(warning), None) => warning.to_string(),
        (None, Some(suggestion)) => suggestion.to_string(),
        (None, None) => "Add another word or two. Uncommon words are better.".to_owned(),
    };
    Some(reason)
}

/// True for one short chunk said again and again ("abcabcabc...", "aaaaaaaa...") or a run of
/// consecutive characters ("123456789012345", "abcdefghijklmnop").
fn is_repetitive(folded: &str) -> bool {
    let characters: Vec<char> = folded.chars().collect();
    let repeats_a_chunk = (1..=characters.len() / 2).any(|period| {
        period <= 4
            && characters
                .iter()
                .enumerate()
                .all(|(i, c)| *c == characters[i % period])
    });
    let ascending = characters
        .windows(2)
        .all(|pair| (pair[1] as u32 == pair[0] as u32 + 1) || (pair[0] == '9' && pair[1] == '0'));
    repeats_a_chunk || ascending
}

impl fmt::Debug for Password {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Password(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nobody() -> PersonalWords<'static> {
        PersonalWords::default()
    }

    #[test]
    fn length_edges_are_15_and_128_code_points() {
        assert_eq!(
            Password::choose(&"x7".repeat(7), &nobody()),
            Err(PasswordError::TooShort(14))
        );
        assert!(Password::choose("correct mule st", &nobody()).is_ok());
        let at_limit: String = "é mülé zebra ".chars().cycle().take(128).collect();
        assert!(Password::choose(&at_limit, &nobody()).is_ok());
        let over: String = "é mülé zebra ".chars().cycle().take(129).collect();
        assert_eq!(
            Password::choose(&over, &nobody()),
            Err(PasswordError::TooLong(129))
        );
    }

    #[test]
    fn passphrases_with_spaces_emoji_and_other_scripts_are_accepted() {
        for phrase in [
            "purple tractor lemonade",
            "🦀 crabs dance at dawn 🌅",
            "東京の夜景はとても綺麗ですね本当に",
            "пароль из слов рыба",
        ] {
            assert!(Password::choose(phrase, &nobody()).is_ok(), "{phrase}");
        }
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case_or_spacing() {
        assert_eq!(
            Password::choose("PasswordPassword", &nobody()),
            Err(PasswordError::Common)
        );
        assert_eq!(
            Password::choose("correct horse battery staple", &nobody()),
            Err(PasswordError::Common)
        );
    }

    #[test]
    fn passwords_the_estimator_guesses_easily_are_refused_with_its_reason() {
        assert_eq!(
            Password::choose("asdfghjklqwerty1", &nobody()),
            Err(PasswordError::Guessable(
                "This is similar to a commonly used password. Add another word or two. \
                 Uncommon words are better."
                    .to_owned()
            ))
        );
        let Err(PasswordError::Guessable(reason)) = Password::choose("monkeymonkey1234", &nobody())
        else {
            panic!("a repeated word with a sequence is too easy to guess");
        };
        assert!(reason.starts_with("Repeats like"), "{reason}");
        for strong in ["purple tractor lemonade", "granite harbour sunrise"] {
            assert!(Password::choose(strong, &nobody()).is_ok(), "{strong}");
        }
    }

    #[test]
    fn repeated_and_sequential_passwords_are_refused() {
        assert_eq!(
            Password::choose(&"a".repeat(20), &nobody()),
            Err(PasswordError::Repetitive)
        );
        assert_eq!(
            Password::choose(&"xyz1".repeat(5), &nobody()),
            Err(PasswordError::Repetitive)
        );
        assert_eq!(
            Password::choose("345678901234567890", &nobody()),
            Err(PasswordError::Repetitive)
        );
    }

    #[test]
    fn passwords_containing_personal_words_name_what_they_contain() {
        let personal = PersonalWords::default()
            .with("username", "ada.lovelace")
            .with("last name", "Lovelace")
            .with("company name", "1Stop Install")
            .with("first name", "Al");
        assert_eq!(
            Password::choose("my name is LOVELACE ok", &personal),
            Err(PasswordError::ContainsPersonalWord("last name"))
        );
        assert_eq!(
            Password::choose("we love 1stop install a lot", &personal),
            Err(PasswordError::ContainsPersonalWord("company name"))
        );
        // Words shorter than four characters are not checked.
        assert!(Password::choose("always walking alone", &personal).is_ok());
    }

    #[test]
    fn nfc_and_nfd_forms_give_the_same_password() {
        let composed = "caf\u{e9} au lait tous les jours";
        let decomposed = "cafe\u{301} au lait tous les jours";
        assert_ne!(composed, decomposed);
        assert_eq!(
            Password::for_sign_in(composed),
            Password::for_sign_in(decomposed)
        );
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = Password::for_sign_in("secret value here").unwrap();
        assert_eq!(format!("{password:?}"), "Password(..)");
    }

    #[test]
    fn sign_in_refuses_empty_and_over_long_input_without_policy() {
        assert!(Password::for_sign_in("").is_none());
        assert!(Password::for_sign_in(&"a".repeat(129)).is_none());
        assert!(Password::for_sign_in("short").is_some());
    }

    proptest! {
        #[test]
        fn the_policy_never_panics(input in "\\PC{0,200}") {
            let _ = Password::choose(&input, &PersonalWords::default().with("username", "someone"));
        }
    }
}
