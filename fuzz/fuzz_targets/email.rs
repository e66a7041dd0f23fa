//! `EmailAddress::parse`: what it accepts is one trimmed address that re-parses to itself, with
//! a single `@`, no spaces or control characters, within the SMTP lengths; its normalized form is
//! the lower case of what was typed; and the mailer (lettre, parsing the recipient the way
//! `mail/transport.rs` of the server does) accepts it and sends to that same address.

#![no_main]

use lettre::message::Mailbox;
use libfuzzer_sys::fuzz_target;
use onestop_domain::EmailAddress;
use onestop_fuzz::{assert_ignores_surrounding_whitespace, assert_no_control_characters, text};

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    assert_ignores_surrounding_whitespace(input, EmailAddress::parse);
    let Ok(email) = EmailAddress::parse(input) else {
        return;
    };

    let typed = email.as_str();
    assert_eq!(typed, input.trim());
    assert_eq!(email.to_string(), typed);
    assert_eq!(EmailAddress::parse(typed).as_ref(), Ok(&email));
    assert_no_control_characters("email address", typed);
    assert!(!typed.chars().any(char::is_whitespace), "{typed:?}");
    assert!(typed.chars().count() <= 254, "{typed:?}");

    let Some((local, domain)) = typed.split_once('@') else {
        panic!("accepted {typed:?} has no @");
    };
    assert!(!domain.contains('@'), "accepted {typed:?} has two @");
    assert_eq!(email.local_part(), local);
    assert!(
        !local.is_empty() && local.chars().count() <= 64,
        "{typed:?}"
    );
    let labels: Vec<&str> = domain.split('.').collect();
    assert!(
        labels.len() >= 2,
        "accepted domain {domain:?} has one label"
    );
    for label in labels {
        assert!(
            !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'),
            "accepted domain {domain:?} has the label {label:?}"
        );
        assert!(
            label.chars().all(|c| c.is_alphanumeric() || c == '-'),
            "accepted domain {domain:?} has the label {label:?}"
        );
    }

    // The invitation can go out, to this address: the server parses the recipient as a Mailbox.
    match typed.parse::<Mailbox>() {
        Ok(mailbox) => {
            assert_eq!(
                mailbox.name, None,
                "{typed:?} was read as a name and an address"
            );
            assert_eq!(
                mailbox.email.domain(),
                domain,
                "{typed:?} would go elsewhere"
            );
            // A quoted local part (`"ada"@`) is sent unquoted: the same mailbox.
            if !local.starts_with('"') {
                assert_eq!(
                    mailbox.email.to_string(),
                    typed,
                    "{typed:?} would go elsewhere"
                );
            }
        }
        Err(error) => panic!("{typed:?} is accepted but the mailer refuses it: {error}"),
    }

    // The normalized form (for uniqueness) is the lower case of what was typed, and is stable.
    let normalized = email.normalized();
    assert_eq!(normalized, typed.to_lowercase());
    assert_eq!(normalized.to_lowercase(), normalized);
    if let Ok(again) = EmailAddress::parse(normalized) {
        assert_eq!(again.normalized(), normalized);
    }
});
