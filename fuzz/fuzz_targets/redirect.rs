//! `LocalRedirect::parse`: an accepted target is the input unchanged, starts with a single `/`,
//! has no backslash, whitespace or control character, is at most 2048 bytes, is a valid
//! `Location` header value, and a browser (WHATWG URL parsing, as the `url` crate does it)
//! resolves it to this site from any page of it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_domain::LocalRedirect;
use onestop_fuzz::{assert_no_control_characters, text};
use url::Url;

const PAGES: [&str; 3] = [
    "https://onestop.example/",
    "https://onestop.example/login?next=%2Fsetup",
    "http://onestop.example:8080/a/b/c",
];

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let Some(target) = LocalRedirect::parse(input) else {
        return;
    };
    let path = target.as_str();
    assert_eq!(path, input);
    assert!(path.starts_with('/') && !path.starts_with("//"), "{path:?}");
    assert!(!path.contains('\\'), "{path:?}");
    assert!(!path.chars().any(char::is_whitespace), "{path:?}");
    assert_no_control_characters("redirect", path);
    assert!(path.len() <= 2048, "{} bytes", path.len());
    assert_eq!(LocalRedirect::parse(path).as_ref(), Some(&target));
    assert!(
        http::HeaderValue::from_str(path).is_ok(),
        "{path:?} is not a valid Location header"
    );

    for page in PAGES {
        let Ok(base) = Url::parse(page) else {
            panic!("the page {page:?} is not a URL");
        };
        // A target that is not a URL at all is not followed by a browser.
        if let Ok(resolved) = base.join(path) {
            assert!(
                resolved.origin() == base.origin(),
                "{path:?} from {page} leads to {resolved}"
            );
        }
    }
});
