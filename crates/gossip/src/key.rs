//! The gossip encryption key (`-encrypt`, `encrypt` in config).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Error;

/// A gossip encryption key: 16, 24 or 32 bytes (AES-128/192/256-GCM), given in base64 as
/// `consul keygen` prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptKey(Vec<u8>);

impl EncryptKey {
    /// Decodes a base64 key, with Consul's error texts for bad input.
    pub fn from_base64(encoded: &str) -> Result<Self, Error> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|e| Error::InvalidKey(format!("Failed to decode encryption key: {e}")))?;
        Self::from_bytes(bytes)
    }

    /// Wraps raw key bytes; the length must be 16, 24 or 32.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, Error> {
        match bytes.len() {
            16 | 24 | 32 => Ok(Self(bytes)),
            n => Err(Error::InvalidKey(format!(
                "Failed to decode encryption key: key size must be 16, 24 or 32 bytes, got {n}"
            ))),
        }
    }

    /// The key as base64, the form `keygen` and `keyring -list` show.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The key in serf's form.
    pub(crate) fn to_secret(&self) -> serf::types::SecretKey {
        let mut k16 = [0u8; 16];
        let mut k24 = [0u8; 24];
        let mut k32 = [0u8; 32];
        match self.0.len() {
            16 => {
                k16.copy_from_slice(&self.0);
                serf::types::SecretKey::Aes128(k16)
            }
            24 => {
                k24.copy_from_slice(&self.0);
                serf::types::SecretKey::Aes192(k24)
            }
            _ => {
                k32.copy_from_slice(&self.0);
                serf::types::SecretKey::Aes256(k32)
            }
        }
    }
}

/// Never print key material.
impl std::fmt::Debug for EncryptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncryptKey(<{} bytes>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sizes_16_24_32_are_accepted_others_rejected() {
        for n in [16usize, 24, 32] {
            let k = EncryptKey::from_base64(&STANDARD.encode(vec![7u8; n])).expect("valid size");
            assert_eq!(k.as_bytes().len(), n);
            assert_eq!(
                EncryptKey::from_base64(&k.to_base64()).expect("round trip"),
                k
            );
        }
        for n in [0usize, 8, 31, 33, 64] {
            let err = EncryptKey::from_base64(&STANDARD.encode(vec![7u8; n])).unwrap_err();
            assert!(err.to_string().contains("16, 24 or 32"), "{err}");
        }
    }

    #[test]
    fn bad_base64_is_an_error_not_a_panic() {
        let err = EncryptKey::from_base64("not base64!!").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Failed to decode encryption key"),
            "{err}"
        );
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let k = EncryptKey::from_bytes(vec![0xAB; 16]).expect("valid");
        assert_eq!(format!("{k:?}"), "EncryptKey(<16 bytes>)");
    }
}
