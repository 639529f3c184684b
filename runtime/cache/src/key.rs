//! Cache keys: which artifact belongs to which module compiled by which engine.

use xxhash_rust::xxh3::xxh3_128;

use super::hash::{Digest, HashAlgo};

/// The file-name extension of cache artifacts.
pub(crate) const EXTENSION: &str = "wpa";

/// Identifies a compiled artifact: the module's digest under the engine's hash algorithm,
/// combined with a digest of the engine fingerprint.
///
/// The fingerprint digest is XXH3-128 whatever the module's algorithm. The fingerprint is
/// computed by the engine, not supplied by whoever supplies the module, so it needs no collision
/// resistance against an attacker; the artifact also stores the full fingerprint and a reader
/// compares it, so even a collision could only cause a miss, never wrong code. A fixed algorithm
/// also keeps [`CacheKey::new`] infallible (meowhash can be unsupported on this CPU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    algo: HashAlgo,
    module: Digest,
    fingerprint: [u8; 16],
}

impl CacheKey {
    /// A key for a module whose bytes hash to `module_digest` under `algo`, compiled by an engine
    /// with the given `fingerprint`.
    pub fn new(algo: HashAlgo, module_digest: Digest, fingerprint: &str) -> Self {
        Self {
            algo,
            module: module_digest,
            fingerprint: fingerprint_digest(fingerprint),
        }
    }

    /// The algorithm the module digest was computed with.
    pub fn algo(&self) -> HashAlgo {
        self.algo
    }

    /// The digest of the module's bytes.
    pub fn module_digest(&self) -> Digest {
        self.module
    }

    /// The XXH3-128 digest of the engine fingerprint, little-endian.
    pub fn fingerprint_digest(&self) -> [u8; 16] {
        self.fingerprint
    }

    /// Whether this key was made with `fingerprint`.
    pub fn matches_fingerprint(&self, fingerprint: &str) -> bool {
        self.fingerprint == fingerprint_digest(fingerprint)
    }

    /// The artifact's file name in a cache directory:
    /// `{algo}-{module digest hex}-{fingerprint digest hex}.wpa`.
    pub fn file_name(&self) -> String {
        let fingerprint: String = self
            .fingerprint
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "{}-{}-{fingerprint}.{EXTENSION}",
            self.algo,
            self.module.to_hex()
        )
    }
}

fn fingerprint_digest(fingerprint: &str) -> [u8; 16] {
    xxh3_128(fingerprint.as_bytes()).to_le_bytes()
}

/// Whether `name` has the shape of a name [`CacheKey::file_name`] makes. The store touches no
/// other file.
pub(crate) fn is_artifact_file_name(name: &str) -> bool {
    let is_hex = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && s.len().is_multiple_of(2)
            && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let Some(stem) = name
        .strip_suffix(EXTENSION)
        .and_then(|s| s.strip_suffix('.'))
    else {
        return false;
    };
    let mut parts = stem.split('-');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(algo), Some(module), Some(fingerprint), None) => {
            HashAlgo::ALL.iter().any(|a| a.name() == algo)
                && is_hex(module, 64)
                && fingerprint.len() == 32
                && is_hex(fingerprint, 32)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINGERPRINT: &str =
        "wasm-prof 0.1.0; cranelift 0.112.3; x86_64-unknown-linux-gnu; +sse4.2";

    fn key(algo: HashAlgo, module: &[u8], fingerprint: &str) -> CacheKey {
        CacheKey::new(algo, algo.digest(module).unwrap(), fingerprint)
    }

    #[test]
    fn file_name_is_recognised_and_stable() {
        for algo in HashAlgo::ALL {
            if algo.check_supported().is_err() {
                continue;
            }
            let k = key(algo, b"\0asm\x01\0\0\0", FINGERPRINT);
            let name = k.file_name();
            assert!(is_artifact_file_name(&name), "{name}");
            assert!(name.starts_with(&format!("{algo}-")));
            assert_eq!(name, key(algo, b"\0asm\x01\0\0\0", FINGERPRINT).file_name());
            assert!(k.matches_fingerprint(FINGERPRINT));
            assert!(!k.matches_fingerprint("other"));
        }
    }

    #[test]
    fn every_module_byte_and_fingerprint_char_changes_the_name() {
        let module: Vec<u8> = (0..=255).collect();
        for algo in [HashAlgo::Sha256, HashAlgo::Xxh3, HashAlgo::Blake3] {
            let base = key(algo, &module, FINGERPRINT).file_name();
            for i in 0..module.len() {
                let mut m = module.clone();
                m[i] ^= 0x01;
                assert_ne!(key(algo, &m, FINGERPRINT).file_name(), base, "byte {i}");
            }
            for i in 0..FINGERPRINT.len() {
                let mut f = FINGERPRINT.as_bytes().to_vec();
                f[i] = if f[i] == b'x' { b'y' } else { b'x' };
                let f = String::from_utf8(f).unwrap();
                assert_ne!(key(algo, &module, &f).file_name(), base, "char {i}");
            }
            assert_ne!(key(algo, &module, "").file_name(), base);
        }
        // Same bytes under two algorithms are two entries.
        assert_ne!(
            key(HashAlgo::Sha256, &module, FINGERPRINT).file_name(),
            key(HashAlgo::Blake3, &module, FINGERPRINT).file_name()
        );
    }

    #[test]
    fn foreign_names_are_not_artifacts() {
        let good = key(HashAlgo::Xxh3, b"m", FINGERPRINT).file_name();
        for name in [
            "",
            ".wpa",
            "notes.txt",
            ".wpa-tmp-abc123",
            &good.replace(".wpa", ".tmp"),
            &good.replace("xxh3-", "md5-"),
            &good.replace(".wpa", "-00.wpa"),
            &good.to_uppercase(),
            "xxh3--00112233445566778899aabbccddeeff.wpa",
        ] {
            assert!(!is_artifact_file_name(name), "{name}");
        }
    }
}
