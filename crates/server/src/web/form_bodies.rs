//! Every form body the server accepts, parsed the way its handler parses it, for the form-body
//! fuzz target (`fuzz/fuzz_targets/form_bodies.rs`) and its seed corpus. Parsing must never
//! panic whatever the bytes; what a handler does with a parsed form is the domain parsers' job,
//! fuzzed on their own.

use super::pages;
use serde::de::DeserializeOwned;

/// How many of the forms accept `body` (`application/x-www-form-urlencoded`, well-formed, repeated
/// keys allowed where a form takes a list, as [`super::csrf::CsrfForm`] reads it).
#[doc(hidden)]
pub fn parse_every_form(body: &[u8]) -> usize {
    fn accepts<T: DeserializeOwned>(body: &[u8]) -> bool {
        serde_html_form::from_bytes::<T>(body).is_ok()
    }
    if !super::csrf::is_well_formed(body) {
        return 0;
    }
    [
        accepts::<pages::login::LoginForm>(body),
        accepts::<pages::login::SignOutForm>(body),
        accepts::<pages::password::ForgotForm>(body),
        accepts::<pages::password::ResetForm>(body),
        accepts::<pages::join::JoinForm>(body),
        accepts::<pages::join::RequestForm>(body),
        accepts::<pages::first_run::FirstRunForm>(body),
        accepts::<pages::terms::AgreeForm>(body),
        accepts::<pages::home::FirstStepForm>(body),
        accepts::<pages::users::NewUserForm>(body),
        accepts::<pages::edit_user::EditUserForm>(body),
        accepts::<pages::users_bulk::BulkForm>(body),
        accepts::<pages::user_page::UserActionForm>(body),
        accepts::<pages::profiles::ProfileForm>(body),
        accepts::<pages::profiles::DeleteForm>(body),
        accepts::<pages::roles::RoleForm>(body),
        accepts::<pages::roles::DeleteRoleForm>(body),
        accepts::<pages::terms_admin::PublishForm>(body),
        accepts::<pages::company::CompanyForm>(body),
    ]
    .into_iter()
    .filter(|accepted| *accepted)
    .count()
}

#[cfg(test)]
mod tests {
    use super::parse_every_form;

    #[test]
    fn well_formed_bodies_are_accepted_and_junk_never_panics() {
        assert_eq!(
            parse_every_form(b"csrf_token=abc"),
            19,
            "every field has a default"
        );
        assert!(parse_every_form(b"ids=a&ids=b&action=reinvite&csrf_token=x") >= 1);
        for junk in [
            &b"%"[..],
            b"=&=&",
            b"a=%ZZ",
            b"\xff\xfe",
            b"ids=%00",
            &[b'a'; 70_000],
        ] {
            let _ = parse_every_form(junk);
        }
    }

    #[test]
    fn stray_percent_signs_and_bytes_that_are_not_utf8_are_accepted_by_no_form() {
        assert_eq!(parse_every_form(b"csrf_token=a%20b+c%C3%A9"), 19);
        for malformed in [
            &b"csrf_token=%"[..],
            b"csrf_token=%%%",
            b"csrf_token=%ZZ",
            b"csrf_token=%4",
            b"csrf_token=\xff\xfe",
            b"csrf_token=%FF%FE",
            b"csrf_token=%C3",
            b"csrf%FF_token=abc",
        ] {
            assert_eq!(parse_every_form(malformed), 0, "{malformed:?}");
        }
    }
}
