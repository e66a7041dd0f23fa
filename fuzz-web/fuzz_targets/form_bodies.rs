//! Every form body the server accepts (`onestop_server::web::form_bodies`), parsed from arbitrary
//! bytes the way each handler's `CsrfForm` parses it: never a panic, and the same bytes always
//! get the same verdict. A body that only adds an unknown field to an accepted one is still
//! accepted by as many forms (unknown fields are ignored, as browsers and old tabs send them).

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_server::web::form_bodies::parse_every_form;

fuzz_target!(|data: &[u8]| {
    let accepted = parse_every_form(data);
    assert_eq!(parse_every_form(data), accepted, "parsing is deterministic");
    if accepted > 0 && !data.is_empty() {
        let mut widened = data.to_vec();
        widened.extend_from_slice(b"&zz_unknown_field=1");
        assert!(
            parse_every_form(&widened) >= accepted,
            "an unknown field made a form refuse {data:?}"
        );
    }
});
