//! Authenticator apps (TOTP, RFC 6238): SHA-1, 6 digits, 30-second steps, one step of skew
//! either way, and never the same step twice (`totp_last_step`).
//!
//! Enrolment keeps no state on the server until the user confirms: the new secret travels in
//! the form sealed with the server's key together with the user's id, so only this user can
//! confirm it, and only this server can read it.

use crate::sealing::Sealer;
use onestop_domain::{Timestamp, UserId};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Random bytes of a new secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;
pub const DIGITS: usize = 6;
const STEP_SECONDS: u64 = 30;

/// What the "Add an authenticator app" page shows.
#[derive(Debug, Clone)]
pub struct EnrolmentOffer {
    /// The secret in groups of four characters, for typing it in by hand.
    pub grouped_secret: String,
    /// The `otpauth://` address the QR code holds.
    pub otpauth_url: String,
    /// The QR code, as an inline SVG element.
    pub qr_svg: String,
    /// The secret sealed with the user's id, carried by the form until it is confirmed.
    pub sealed: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("no randomness or sealing failed")]
    Unavailable,
    #[error("the secret could not be used: {0}")]
    Secret(String),
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> Result<Totp, TotpError> {
    // The otpauth label separates issuer and account with ':'; neither may contain one.
    let clean = |text: &str| text.replace(':', " ").trim().to_owned();
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(Secret::from(secret))
        .with_issuer(Some(clean(issuer)))
        .with_account_name(clean(account))
        .build()
        .map_err(|error| TotpError::Secret(error.to_string()))
}

/// A new secret for `user`, with its QR code (issuer and account name as the app will show
/// them).
pub fn offer(
    sealer: &Sealer,
    user_id: &UserId,
    issuer: &str,
    account: &str,
) -> Result<EnrolmentOffer, TotpError> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|_| TotpError::Unavailable)?;
    let totp = totp(bytes, issuer, account)?;
    let base32 = totp.secret().to_base32();
    offer_for(sealer, user_id, &totp, &base32)
}

/// The same offer again (after a wrong code), from its sealed form.
pub fn reoffer(
    sealer: &Sealer,
    user_id: &UserId,
    sealed: &str,
    issuer: &str,
    account: &str,
) -> Option<EnrolmentOffer> {
    let base32 = open_offer(sealer, user_id, sealed)?;
    let totp = from_base32(&base32, issuer, account)?;
    offer_for(sealer, user_id, &totp, &base32).ok()
}

fn offer_for(
    sealer: &Sealer,
    user_id: &UserId,
    totp: &Totp,
    base32: &str,
) -> Result<EnrolmentOffer, TotpError> {
    let otpauth_url = totp
        .to_url()
        .map_err(|error| TotpError::Secret(error.to_string()))?;
    let qr_svg = qr_svg(&otpauth_url)?;
    let sealed = sealer
        .seal(&format!("{}\n{base32}", user_id.as_str()))
        .map_err(|_| TotpError::Unavailable)?;
    Ok(EnrolmentOffer {
        grouped_secret: group(base32),
        otpauth_url,
        qr_svg,
        sealed,
    })
}

/// The base32 secret of an offer made to this user; `None` if it was not sealed by this server
/// for them.
pub fn open_offer(sealer: &Sealer, user_id: &UserId, sealed: &str) -> Option<String> {
    let plain = sealer.open(sealed).ok()?;
    let (owner, base32) = plain.split_once('\n')?;
    (owner == user_id.as_str()).then(|| base32.to_owned())
}

fn from_base32(base32: &str, issuer: &str, account: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(base32).ok()?.as_bytes().to_vec();
    totp(bytes, issuer, account).ok()
}

/// The time step a code belongs to, if it is the code of the step at `now` or of the one just
/// before or after; `None` otherwise.
pub fn matching_step(base32_secret: &str, code: &str, now: Timestamp) -> Option<i64> {
    let totp = from_base32(base32_secret, "1Stop", "check")?;
    let seconds = u64::try_from(now.unix_millis() / 1000).ok()?;
    totp.check(code, seconds)
        .and_then(|step| i64::try_from(step).ok())
}

/// A code as typed: six digits once spaces are removed; `None` otherwise.
pub fn normalize_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == DIGITS && code.bytes().all(|byte| byte.is_ascii_digit())).then_some(code)
}

fn group(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn qr_svg(url: &str) -> Result<String, TotpError> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|error| TotpError::Secret(error.to_string()))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML: without the XML declaration, and described for screen readers.
    let element = svg.find("<svg").map_or(svg.as_str(), |start| &svg[start..]);
    Ok(element.replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code of the secret for your authenticator app\" ",
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_once_spaces_are_removed() {
        assert_eq!(normalize_code("123 456"), Some("123456".to_owned()));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("12345a"), None);
    }

    #[test]
    fn a_code_of_the_step_before_or_after_matches_and_two_steps_away_does_not() {
        let base32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let totp = from_base32(base32, "1Stop", "ada").unwrap();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        let at = |seconds: i64| u64::try_from(1_800_000_000 + seconds).unwrap();
        let step = 1_800_000_000 / 30;
        for (offset, expected) in [
            (0, Some(step)),
            (-30, Some(step - 1)),
            (30, Some(step + 1)),
            (-60, None),
            (60, None),
        ] {
            let code = totp.generate(at(offset)).to_string();
            assert_eq!(
                matching_step(base32, &code, now),
                expected,
                "{offset} s away"
            );
        }
    }
}
