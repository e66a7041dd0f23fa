//! The other parsers of stored keys: `AuditAction::parse` and `UserStatus::from_str`. A key
//! parses only to the value whose stored form is exactly that key, and every value's stored form
//! parses back to it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_domain::{AuditAction, UserStatus};
use onestop_fuzz::text;

const STATUSES: [UserStatus; 3] = [
    UserStatus::Unconfirmed,
    UserStatus::Active,
    UserStatus::Deactivated,
];

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };

    let action = AuditAction::parse(input);
    assert_eq!(
        action,
        AuditAction::ALL.into_iter().find(|a| a.as_str() == input),
        "{input:?}"
    );
    if let Some(action) = action {
        assert_eq!(action.as_str(), input);
        assert!(!action.label().is_empty());
    }

    let status = input.parse::<UserStatus>();
    assert_eq!(
        status.as_ref().ok(),
        STATUSES.iter().find(|s| s.as_str() == input),
        "{input:?}"
    );
    if let Ok(status) = status {
        assert_eq!(status.as_str(), input);
        assert_eq!(status.to_string(), input);
    }

    // The tables themselves do not depend on the input: libFuzzer runs the empty input once.
    if !input.is_empty() {
        return;
    }
    for (index, action) in AuditAction::ALL.into_iter().enumerate() {
        assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        assert!(
            AuditAction::ALL[..index]
                .iter()
                .all(|earlier| earlier.as_str() != action.as_str()),
            "{action:?}"
        );
    }
    for status in STATUSES {
        assert_eq!(status.as_str().parse::<UserStatus>().ok(), Some(status));
    }
});
