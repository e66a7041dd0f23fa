//! `Permission::from_str` and `PermissionSet::parse_stored`: a key parses only to the permission
//! with exactly that key; a stored list is accepted exactly when every word in it is a key, gives
//! the set of those permissions, and its canonical stored form round-trips. The first byte also
//! builds a set directly, to check `to_stored`, `contains` and `is_subset_of` against each other.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_domain::{Permission, PermissionSet};
use onestop_fuzz::text;

/// The set whose bits (in the order of `Permission::ALL`) are those of `bits`.
fn set_from_bits(bits: u8) -> PermissionSet {
    Permission::ALL
        .into_iter()
        .enumerate()
        .filter(|(index, _)| bits & (1 << index) != 0)
        .map(|(_, permission)| permission)
        .collect()
}

fn check_stored_form(set: PermissionSet) {
    let stored = set.to_stored();
    assert!(stored.is_empty() || !stored.starts_with(' ') && !stored.ends_with(' '));
    assert!(!stored.contains("  "), "{stored:?}");
    match PermissionSet::parse_stored(&stored) {
        Ok(again) => assert_eq!(again, set, "{stored:?}"),
        Err(error) => panic!("the stored form {stored:?} is refused: {error}"),
    }
    for permission in Permission::ALL {
        assert_eq!(
            set.contains(permission),
            set.iter().any(|p| p == permission)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if let (Some(first), Some(second)) = (data.first(), data.get(1)) {
        let (left, right) = (set_from_bits(*first), set_from_bits(*second));
        check_stored_form(left);
        let subset = left.iter().all(|permission| right.contains(permission));
        assert_eq!(left.is_subset_of(right), subset, "{left:?} {right:?}");
        assert!(PermissionSet::empty().is_subset_of(left));
        assert!(left.is_subset_of(PermissionSet::all()));
    }

    let Some(input) = text(data) else { return };

    let one = input.parse::<Permission>();
    let expected = Permission::ALL.into_iter().find(|p| p.key() == input);
    assert_eq!(one.as_ref().ok(), expected.as_ref(), "{input:?}");
    if let Ok(permission) = one {
        assert_eq!(permission.key(), input);
    }

    let words: Vec<&str> = input.split_whitespace().collect();
    let Ok(set) = PermissionSet::parse_stored(input) else {
        assert!(
            words.iter().any(|word| word.parse::<Permission>().is_err()),
            "{input:?} names only permissions but is refused"
        );
        return;
    };
    let named: PermissionSet = words
        .iter()
        .filter_map(|word| word.parse::<Permission>().ok())
        .collect();
    assert_eq!(named.iter().count(), set.iter().count());
    assert_eq!(set, named, "{input:?}");
    for permission in set.iter() {
        assert!(
            words.contains(&permission.key()),
            "{input:?} gave {permission:?}"
        );
    }
    check_stored_form(set);
    let stored = set.to_stored();
    assert_eq!(
        PermissionSet::parse_stored(&stored)
            .map(PermissionSet::to_stored)
            .ok(),
        Some(stored.clone())
    );
});
