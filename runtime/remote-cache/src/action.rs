//! Action entries: which artifact a fleet member stored for a cache key.
//!
//! An entry is 80 bytes: the magic `WPROFAC1`, the artifact's MAC (its address in the
//! content-addressed store), the artifact's length (u64, little-endian), then the entry's own
//! MAC ([`MacKey::action_mac`]) over the magic, the cache key's name, the artifact MAC and the
//! length. The name is inside the MAC, so an entry copied to another key's name is refused.

use wasm_prof_cache::{Mac, MacKey};

use crate::error::RemoteError;

const MAGIC: [u8; 8] = *b"WPROFAC1";
const LEN: usize = 8 + Mac::LEN + 8 + Mac::LEN;

/// What an action entry says: the artifact stored for a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionEntry {
    /// The artifact's MAC, which is also its address.
    pub artifact: Mac,
    /// The artifact's length in bytes.
    pub len: u64,
}

impl ActionEntry {
    /// The signed bytes of this entry for the key named `name`.
    pub fn encode(&self, name: &str, mac_key: &MacKey) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(LEN);
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(self.artifact.as_bytes());
        bytes.extend_from_slice(&self.len.to_le_bytes());
        bytes.extend_from_slice(self.mac(name, mac_key).as_bytes());
        bytes
    }

    /// Reads and authenticates the entry stored for the key named `name`.
    ///
    /// # Errors
    /// [`RemoteError::BadActionEntry`] when the bytes are malformed or their MAC is not this
    /// key's for this name.
    pub fn decode(bytes: &[u8], name: &str, mac_key: &MacKey) -> Result<Self, RemoteError> {
        if bytes.len() != LEN {
            return Err(RemoteError::BadActionEntry("wrong length"));
        }
        if bytes[..8] != MAGIC {
            return Err(RemoteError::BadActionEntry("bad magic"));
        }
        let array = |at: usize| -> [u8; Mac::LEN] {
            let mut out = [0; Mac::LEN];
            out.copy_from_slice(&bytes[at..at + Mac::LEN]);
            out
        };
        let mut len = [0; 8];
        len.copy_from_slice(&bytes[8 + Mac::LEN..16 + Mac::LEN]);
        let entry = ActionEntry {
            artifact: Mac::from_bytes(array(8)),
            len: u64::from_le_bytes(len),
        };
        if entry.mac(name, mac_key) != Mac::from_bytes(array(16 + Mac::LEN)) {
            return Err(RemoteError::BadActionEntry(
                "not signed with this cache's key (MAC mismatch)",
            ));
        }
        Ok(entry)
    }

    /// The artifact's address: its MAC in hexadecimal.
    pub fn address(&self) -> String {
        self.artifact
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn mac(&self, name: &str, mac_key: &MacKey) -> Mac {
        let mut fields = Vec::with_capacity(LEN + name.len());
        fields.extend_from_slice(&MAGIC);
        fields.extend_from_slice(&(name.len() as u64).to_le_bytes());
        fields.extend_from_slice(name.as_bytes());
        fields.extend_from_slice(self.artifact.as_bytes());
        fields.extend_from_slice(&self.len.to_le_bytes());
        mac_key.action_mac(&fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_refuse_tampering() {
        let key = MacKey::from_secret(&[3; 32]);
        let entry = ActionEntry {
            artifact: Mac::from_bytes([9; 32]),
            len: 12345,
        };
        let bytes = entry.encode("name-a", &key);
        assert_eq!(ActionEntry::decode(&bytes, "name-a", &key).unwrap(), entry);
        // Another key's name, another secret, a flipped bit, a truncation: all refused.
        assert!(ActionEntry::decode(&bytes, "name-b", &key).is_err());
        let other = MacKey::from_secret(&[4; 32]);
        assert!(ActionEntry::decode(&bytes, "name-a", &other).is_err());
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1;
            assert!(
                ActionEntry::decode(&flipped, "name-a", &key).is_err(),
                "{i}"
            );
        }
        assert!(ActionEntry::decode(&bytes[..LEN - 1], "name-a", &key).is_err());
    }
}
