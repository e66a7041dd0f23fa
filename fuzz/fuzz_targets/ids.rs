//! The typed ids (`OrganizationId`, `UserId`, `ProfileId`, `RoleId`, `InvitationId`), parsed from
//! paths and forms: an accepted id is the trimmed input in lower case, a hyphenated UUID (36
//! characters, hex digits with `-` at 8, 13, 18 and 23), re-parses to itself, is accepted whatever
//! the case of the input, and every id type agrees. Anything else (`../etc/passwd`, braces, URNs,
//! look-alike digits) is refused.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_domain::{InvitationId, OrganizationId, ProfileId, RoleId, TypedId, UserId};
use onestop_fuzz::{assert_ignores_surrounding_whitespace, text};

fn is_hyphenated_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

/// Parses with one id type and returns what it keeps.
fn parsed<T: TypedId + AsRef<str>>(input: &str) -> Option<String> {
    T::parse(input).map(|id| id.as_ref().to_owned())
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let ok = |text: &str| UserId::parse(text).ok_or(());
    assert_ignores_surrounding_whitespace(input, ok);

    let user = UserId::parse(input);
    let kept = user.as_ref().map(|id| id.as_str().to_owned());
    assert_eq!(
        kept.is_some(),
        is_hyphenated_uuid(input.trim()),
        "{input:?}"
    );
    for other in [
        parsed::<OrganizationId>(input),
        parsed::<ProfileId>(input),
        parsed::<RoleId>(input),
        parsed::<InvitationId>(input),
    ] {
        assert_eq!(other, kept, "{input:?}");
    }
    for recased in [input.to_ascii_uppercase(), input.to_ascii_lowercase()] {
        assert_eq!(parsed::<UserId>(&recased), kept, "{recased:?}");
    }

    let Some(id) = user else { return };
    let text = id.as_str();
    assert_eq!(text, input.trim().to_ascii_lowercase());
    assert!(
        !text.bytes().any(|byte| byte.is_ascii_uppercase()),
        "{text:?}"
    );
    assert_eq!(id.to_string(), text);
    assert!(id == text);
    assert_eq!(UserId::parse(text).as_ref(), Some(&id));
    assert_eq!(UserId::from_trusted(text.to_owned()), id);
});
