//! Every form body the server accepts, parsed the way its handler parses it, for the form-body
//! fuzz target (`fuzz/fuzz_targets/form_bodies.rs`) and its seed corpus. Parsing must never
//! panic whatever the bytes; what a handler does with a parsed form is the domain parsers' job,
//! fuzzed on their own.

use super::pages;
use serde::de::DeserializeOwned;

/// How many of the forms accept `body` (`application/x-www-form-urlencoded`, repeated keys
/// allowed, as [`super::csrf::CsrfForm`] reads it).
#[doc(hidden)]
pub fn parse_every_form(body: &[u8]) -> usize {
    fn accepts<T: DeserializeOwned>(body: &[u8]) -> bool {
        serde_html_form::from_bytes::<T>(body).is_ok()
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
        accepts::<pages::users::EditUserForm>(body),
        accepts::<pages::users::BulkForm>(body),
        accepts::<pages::users::UserActionForm>(body),
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
}
