//! The secret that authenticates cache entries, and the MACs made with it.
//!
//! An artifact is machine code the runtime will execute outside the WebAssembly sandbox, so
//! being able to write a file where the cache reads must not mean choosing that code. The
//! checksums in an artifact guard against torn writes and a failing disk; anyone can recompute
//! them. What makes an entry the owner's is a keyed BLAKE3 MAC over all of its bytes, made with
//! a secret only the owner (or the users deliberately sharing a cache) hold: see
//! [`crate::key_file`] for where the secret lives. Verification records carry a MAC of their
//! own, so nobody without the secret can vouch for a file either.
//!
//! One secret gives a key per purpose — an artifact, a verification record, a digest index
//! entry, a remote tier's action entry (module and engine → artifact) — derived with BLAKE3's
//! key derivation under different contexts, so that a MAC made for one purpose can never pass
//! for another's.

use std::fmt;

/// A message authentication code: 32 bytes of keyed BLAKE3. Equality is constant-time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Mac(blake3::Hash);

impl Mac {
    /// The length of a MAC in bytes.
    pub const LEN: usize = blake3::OUT_LEN;

    /// The MAC stored as `bytes`.
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(blake3::Hash::from_bytes(bytes))
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({})", self.0.to_hex())
    }
}

/// The secret that authenticates a cache's entries (never printed, not even by `Debug`).
#[derive(Clone)]
pub struct MacKey {
    artifact: [u8; 32],
    record: [u8; 32],
    index: [u8; 32],
    action: [u8; 32],
}

/// Why text is not a key.
#[derive(Debug, thiserror::Error)]
#[error("expected {} hexadecimal digits (the output of `openssl rand -hex 32`)", MacKey::SECRET_LEN * 2)]
pub struct MacKeyParseError;

impl MacKey {
    /// The length of the secret in bytes.
    pub const SECRET_LEN: usize = 32;

    const ARTIFACT_CONTEXT: &'static str = "wasm-prof 2026-11-30 cache artifact MAC";
    const RECORD_CONTEXT: &'static str = "wasm-prof 2026-11-30 cache verification record MAC";
    const INDEX_CONTEXT: &'static str = "wasm-prof 2026-11-30 cache digest index entry MAC";
    const ACTION_CONTEXT: &'static str = "wasm-prof 2026-11-30 remote cache action entry MAC";

    /// The key with this secret.
    pub fn from_secret(secret: &[u8; Self::SECRET_LEN]) -> Self {
        Self {
            artifact: blake3::derive_key(Self::ARTIFACT_CONTEXT, secret),
            record: blake3::derive_key(Self::RECORD_CONTEXT, secret),
            index: blake3::derive_key(Self::INDEX_CONTEXT, secret),
            action: blake3::derive_key(Self::ACTION_CONTEXT, secret),
        }
    }

    /// A key with a fresh secret from the operating system's random source, and that secret.
    ///
    /// # Errors
    /// When the operating system has no random bytes to give.
    pub fn generate() -> Result<(Self, [u8; Self::SECRET_LEN]), getrandom::Error> {
        let mut secret = [0; Self::SECRET_LEN];
        getrandom::fill(&mut secret)?;
        Ok((Self::from_secret(&secret), secret))
    }

    /// The key whose secret is written as 64 hexadecimal digits; surrounding whitespace (a
    /// trailing newline) is ignored.
    ///
    /// # Errors
    /// [`MacKeyParseError`] for anything else.
    pub fn parse_hex(text: &str) -> Result<Self, MacKeyParseError> {
        let digits = text.trim().as_bytes();
        if digits.len() != Self::SECRET_LEN * 2 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(MacKeyParseError);
        }
        let value = |digit: u8| (digit as char).to_digit(16).unwrap_or(0) as u8;
        let mut secret = [0; Self::SECRET_LEN];
        for (byte, pair) in secret.iter_mut().zip(digits.chunks(2)) {
            *byte = value(pair[0]) << 4 | value(pair[1]);
        }
        Ok(Self::from_secret(&secret))
    }

    /// A hasher for an artifact's MAC: feed it the artifact's bytes in order.
    pub(crate) fn artifact_hasher(&self) -> blake3::Hasher {
        blake3::Hasher::new_keyed(&self.artifact)
    }

    /// The MAC of a verification record's fields.
    pub(crate) fn record_mac(&self, fields: &[u8]) -> Mac {
        Mac(blake3::keyed_hash(&self.record, fields))
    }

    /// The MAC of a digest index entry's fields.
    pub(crate) fn index_mac(&self, fields: &[u8]) -> Mac {
        Mac(blake3::keyed_hash(&self.index, fields))
    }

    /// The MAC of a remote tier's action entry: the fields that tie a cache key to the
    /// artifact a fleet member stored for it.
    pub fn action_mac(&self, fields: &[u8]) -> Mac {
        Mac(blake3::keyed_hash(&self.action, fields))
    }
}

/// The artifact MAC a hasher from [`MacKey::artifact_hasher`] has computed.
pub(crate) fn finish(hasher: &blake3::Hasher) -> Mac {
    Mac(hasher.finalize())
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(secret)")
    }
}

/// Writes `secret` as the text [`MacKey::parse_hex`] reads, with a trailing newline.
pub fn secret_to_hex(secret: &[u8; MacKey::SECRET_LEN]) -> String {
    let mut text: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_bad_text() {
        let (key, secret) = MacKey::generate().unwrap();
        let parsed = MacKey::parse_hex(&secret_to_hex(&secret)).unwrap();
        assert_eq!(parsed.record_mac(b"x"), key.record_mac(b"x"));
        assert_eq!(
            MacKey::parse_hex(&secret_to_hex(&secret).to_uppercase())
                .unwrap()
                .record_mac(b"x"),
            key.record_mac(b"x")
        );
        let good = secret_to_hex(&secret);
        for bad in [
            "",
            &good[..63],
            &format!("{}0", good.trim()),
            &good.replacen(&good[..1], "g", 1),
            &format!("+{}", &good.trim()[1..]),
            &good.replacen(&good[..2], "é", 1),
        ] {
            assert!(MacKey::parse_hex(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_three_purposes_and_two_secrets_give_different_macs() {
        let a = MacKey::from_secret(&[1; 32]);
        let b = MacKey::from_secret(&[2; 32]);
        let mut hasher = a.artifact_hasher();
        hasher.update(b"fields");
        let artifact = finish(&hasher);
        assert_ne!(artifact, a.record_mac(b"fields"));
        assert_ne!(artifact, a.action_mac(b"fields"));
        assert_ne!(a.record_mac(b"fields"), a.action_mac(b"fields"));
        assert_ne!(a.record_mac(b"fields"), b.record_mac(b"fields"));
        assert_ne!(a.action_mac(b"fields"), b.action_mac(b"fields"));
        assert!(!format!("{a:?}").contains("01"));
    }
}
