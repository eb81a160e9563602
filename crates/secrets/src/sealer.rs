//! Encryption of one value with AES-256-GCM (ring): `sealed:v1:` then base64 of the nonce and the ciphertext.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;

/// How a sealed value starts.
pub const SEALED_PREFIX: &str = "sealed:v1:";

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The key is not 32 bytes.
    #[error("the key must be 32 bytes")]
    KeyLength,
    /// The value was sealed with another key, or altered.
    #[error("{0}: cannot be decrypted with this key (another key sealed it, or it was altered)")]
    WrongKey(String),
    /// The value is not the sealer's format.
    #[error("not a sealed value")]
    Corrupt,
}

impl SealError {
    /// The same error, naming the field it happened at.
    pub(crate) fn at(self, field: String) -> Self {
        match self {
            SealError::WrongKey(_) => SealError::WrongKey(field),
            other => other,
        }
    }
}

/// Seals and opens values with one key.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// A sealer with a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, SealError> {
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::KeyLength)?;
        Ok(Self { key: LessSafeKey::new(key), random: SystemRandom::new() })
    }

    /// A new random 32-byte key.
    pub fn generate_key() -> [u8; 32] {
        let mut key = [0; 32];
        SystemRandom::new().fill(&mut key).expect("the system's random source");
        key
    }

    /// Whether `value` is a sealed value.
    pub fn is_sealed(value: &Value) -> bool {
        value.as_str().is_some_and(|text| text.starts_with(SEALED_PREFIX))
    }

    /// `plain`, sealed under a fresh random nonce.
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0; NONCE_LEN];
        self.random.fill(&mut nonce).expect("the system's random source");
        let mut sealed = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut sealed)
            .expect("AES-GCM seals any length the store holds");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes))
    }

    /// The plain text of a value [`Sealer::seal`] made.
    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let encoded = sealed.strip_prefix(SEALED_PREFIX).ok_or(SealError::Corrupt)?;
        let mut bytes = STANDARD.decode(encoded).map_err(|_| SealError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Corrupt);
        }
        let mut ciphertext = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| SealError::Corrupt)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut ciphertext)
            .map_err(|_| SealError::WrongKey(String::new()))?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_with_its_key_only() {
        let sealer = Sealer::new(&[1; 32]).unwrap();
        let sealed = sealer.seal("hunter2");
        assert!(sealed.starts_with(SEALED_PREFIX) && !sealed.contains("hunter2"));
        assert_ne!(sealer.seal("hunter2"), sealed, "a fresh nonce each time");
        assert_eq!(sealer.open(&sealed).unwrap(), "hunter2");
        assert!(matches!(Sealer::new(&[2; 32]).unwrap().open(&sealed), Err(SealError::WrongKey(_))));
        assert_eq!(Sealer::new(&[1; 16]).unwrap_err(), SealError::KeyLength);
    }
}
