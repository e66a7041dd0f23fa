//! Bits shared by the fuzz targets under `fuzz_targets/`.
//!
//! Every target takes the fuzzer's bytes as UTF-8 text (other inputs are skipped: every parser
//! of `onestop-domain` takes `&str`), so that the seed files under `corpus/` stay readable.

use std::fmt::Debug;
use std::net::IpAddr;

/// The input as text, or `None` for bytes that are not UTF-8.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Whitespace that `str::trim` removes, in several scripts, for padding an input on both sides.
const PADDING: [(&str, &str); 3] = [
    (" ", " "),
    ("\t\r\n", "\n"),
    ("\u{3000}\u{a0}", "\u{2028}\u{85}"),
];

/// Asserts that a parser which trims its input gives the same outcome, value or error, whatever
/// whitespace surrounds the input.
pub fn assert_ignores_surrounding_whitespace<T, E>(
    input: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) where
    T: PartialEq + Debug,
    E: PartialEq + Debug,
{
    let plain = parse(input);
    for (before, after) in PADDING {
        let padded = format!("{before}{input}{after}");
        assert_eq!(
            parse(&padded),
            plain,
            "padding {input:?} as {padded:?} changed the outcome"
        );
    }
}

/// Asserts that text has no control characters (so no line breaks that could inject a header).
pub fn assert_no_control_characters(what: &str, value: &str) {
    assert!(
        !value.chars().any(char::is_control),
        "accepted {what} {value:?} contains a control character"
    );
}

/// The address as the server compares it: IPv4-mapped IPv6 addresses are their IPv4 address.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}
