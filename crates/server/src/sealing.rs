//! Sealing what the outbox holds until it is sent.
//!
//! An email waiting in the outbox carries a live link (Join Now, password reset). Its bodies and
//! link are sealed with XChaCha20-Poly1305 under a key that is never in the database: from
//! `ONESTOP_SECRET_KEY`, or a `0600` key file created in the data directory at first start. A copy
//! of the database files, WAL included, then holds no usable link: only ciphertext, which the
//! worker opens just before handing the message to the mail server.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use std::fmt;
use std::io::Write as _;
use std::path::Path;

/// Marks a sealed value, and the version of the scheme.
const PREFIX: &str = "sealed:v1:";
/// Associated data: a ciphertext made for this purpose opens for nothing else.
const PURPOSE: &[u8] = b"onestop outbox";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// 32 secret bytes; `Debug` prints nothing of them.
#[derive(Clone, PartialEq, Eq)]
pub struct SealingKey([u8; KEY_BYTES]);

impl fmt::Debug for SealingKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SealingKey([redacted])")
    }
}

impl SealingKey {
    /// 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != KEY_BYTES * 2 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; KEY_BYTES];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(index * 2..index * 2 + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }

    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Reads the key file, or creates it (mode 0600, written and synced before use) when it does
    /// not exist yet. A key file that exists but cannot be read is an error, never a new key:
    /// a new key would make every queued email unreadable.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyFileError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(text.trim()).ok_or(KeyFileError::Malformed),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key =
                    Self::generate().map_err(|error| KeyFileError::Random(error.to_string()))?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                match options.open(path) {
                    Ok(mut file) => {
                        writeln!(file, "{}", key.to_hex()).map_err(KeyFileError::Io)?;
                        file.sync_all().map_err(KeyFileError::Io)?;
                        Ok(key)
                    }
                    // Another process created it first: use theirs.
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(path)
                    }
                    Err(error) => Err(KeyFileError::Io(error)),
                }
            }
            Err(error) => Err(KeyFileError::Io(error)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("the key file does not hold 64 hexadecimal digits; restore it from your backup")]
    Malformed,
    #[error("no randomness for a new key: {0}")]
    Random(String),
    #[error(transparent)]
    Io(std::io::Error),
}

/// Seals and opens outbox payloads.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Sealer")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not seal an outbox message (no randomness from the operating system)")]
pub struct SealError;

#[derive(Debug, thiserror::Error)]
#[error(
    "a sealed outbox message does not open with this key (was ONESTOP_SECRET_KEY or the key file changed?)"
)]
pub struct OpenError;

impl Sealer {
    pub fn new(key: &SealingKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&Key::from(key.0)),
        }
    }

    /// `sealed:v1:` and the nonce and ciphertext in hexadecimal. An empty text stays empty (a
    /// sent message's wiped body).
    pub fn seal(&self, plain: &str) -> Result<String, SealError> {
        if plain.is_empty() {
            return Ok(String::new());
        }
        let mut nonce = [0u8; NONCE_BYTES];
        // Without randomness a nonce could repeat: refuse rather than weaken the seal.
        getrandom::fill(&mut nonce).map_err(|_| SealError)?;
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: PURPOSE,
                },
            )
            .map_err(|_| SealError)?;
        let mut text = String::with_capacity(PREFIX.len() + 2 * (NONCE_BYTES + sealed.len()));
        text.push_str(PREFIX);
        for byte in nonce.iter().chain(&sealed) {
            text.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            text.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
        }
        Ok(text)
    }

    pub fn open(&self, sealed: &str) -> Result<String, OpenError> {
        if sealed.is_empty() {
            return Ok(String::new());
        }
        let hex = sealed.strip_prefix(PREFIX).ok_or(OpenError)?;
        if hex.len() % 2 != 0 || hex.len() < 2 * (NONCE_BYTES + 16) || !hex.is_ascii() {
            return Err(OpenError);
        }
        let digit = |byte: u8| {
            char::from(byte)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        let bytes = hex
            .as_bytes()
            .chunks_exact(2)
            .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or(OpenError)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| OpenError)?;
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: PURPOSE,
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&SealingKey::generate().unwrap())
    }

    #[test]
    fn sealed_text_opens_again_and_hides_the_plain_text() {
        let sealer = sealer();
        let link = "https://1stop.example.com/join/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let sealed = sealer.seal(link).unwrap();
        assert!(sealed.starts_with("sealed:v1:"));
        assert!(!sealed.contains("abcdefghijklmnop"));
        assert_eq!(sealer.open(&sealed).unwrap(), link);
        assert_ne!(
            sealer.seal(link).unwrap(),
            sealed,
            "a fresh nonce each time"
        );
    }

    #[test]
    fn another_key_or_a_changed_byte_does_not_open() {
        let sealed = sealer().seal("secret").unwrap();
        assert!(sealer().open(&sealed).is_err());
        let sealer = sealer();
        let mut sealed = sealer.seal("secret").unwrap();
        let last = sealed.pop().unwrap();
        sealed.push(if last == '0' { '1' } else { '0' });
        assert!(sealer.open(&sealed).is_err());
        for garbage in ["plain text", "sealed:v1:zz", "sealed:v1:00"] {
            assert!(sealer.open(garbage).is_err(), "{garbage}");
        }
    }

    #[test]
    fn the_key_file_is_created_private_once_and_read_back() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("secret.key");
        let created = SealingKey::load_or_create(&path).unwrap();
        assert_eq!(SealingKey::load_or_create(&path).unwrap(), created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            SealingKey::load_or_create(&path),
            Err(KeyFileError::Malformed)
        ));
    }

    #[test]
    fn hex_keys_parse_strictly() {
        assert!(SealingKey::from_hex(&"0f".repeat(32)).is_some());
        assert!(SealingKey::from_hex(&"0f".repeat(31)).is_none());
        assert!(SealingKey::from_hex(&"zz".repeat(32)).is_none());
        assert!(SealingKey::from_hex(&"é".repeat(32)).is_none());
    }
}
