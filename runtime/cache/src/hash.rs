//! The hash algorithms a cache key can be computed with.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// A hash algorithm for cache keys. Each is labelled cryptographic or not: with a
/// non-cryptographic key a crafted module can be made to collide with a cached one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgo {
    /// SHA-256 (the `sha2` crate); cryptographic.
    Sha256,
    /// BLAKE2b-256 (the `blake2b_simd` crate); cryptographic.
    Blake2b,
    /// BLAKE2bp-256, the 4-way parallel variant (`blake2b_simd`); cryptographic.
    Blake2bp,
    /// BLAKE3 (the `blake3` crate); cryptographic.
    Blake3,
    /// XXH3 with a 128-bit result (`xxhash-rust`); not cryptographic.
    Xxh3,
    /// Meow hash 0.5 (`meowhash`), needs AES-NI; not cryptographic.
    Meowhash,
}

/// The error for an algorithm that cannot run here or a name that is not an algorithm.
#[derive(Debug, thiserror::Error)]
pub enum HashAlgoError {
    /// The name is not one of the six algorithms.
    #[error(
        "unknown hash algorithm `{0}` (expected one of sha256, blake2b, blake2bp, blake3, xxh3, meowhash)"
    )]
    Unknown(String),
    /// The CPU lacks an instruction set the algorithm needs.
    #[error(
        "{algo} needs the {feature} CPU instructions, which this CPU does not have; choose another --hash"
    )]
    Unsupported {
        /// The algorithm.
        algo: HashAlgo,
        /// The missing instruction set.
        feature: &'static str,
    },
}

/// A digest of up to 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest {
    bytes: [u8; 32],
    len: u8,
}

impl Digest {
    /// The digest whose bytes are `data` (at most 32 are kept).
    pub(crate) fn new(data: &[u8]) -> Self {
        let mut bytes = [0; 32];
        let len = data.len().min(32);
        bytes[..len].copy_from_slice(&data[..len]);
        Self {
            bytes,
            len: len as u8,
        }
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Lower-case hexadecimal form.
    pub fn to_hex(&self) -> String {
        self.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl HashAlgo {
    /// A stable one-byte code per algorithm, independent of [`HashAlgo::ALL`]'s order, for
    /// the formats that record an algorithm.
    pub(crate) fn code(self) -> u8 {
        match self {
            HashAlgo::Sha256 => 1,
            HashAlgo::Blake2b => 2,
            HashAlgo::Blake2bp => 3,
            HashAlgo::Blake3 => 4,
            HashAlgo::Xxh3 => 5,
            HashAlgo::Meowhash => 6,
        }
    }

    /// Every algorithm, in the order reports list them.
    pub const ALL: [HashAlgo; 6] = [
        HashAlgo::Sha256,
        HashAlgo::Blake2b,
        HashAlgo::Blake2bp,
        HashAlgo::Blake3,
        HashAlgo::Xxh3,
        HashAlgo::Meowhash,
    ];

    /// The algorithm's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Blake2b => "blake2b",
            HashAlgo::Blake2bp => "blake2bp",
            HashAlgo::Blake3 => "blake3",
            HashAlgo::Xxh3 => "xxh3",
            HashAlgo::Meowhash => "meowhash",
        }
    }

    /// Whether finding two inputs with the same digest is believed infeasible.
    pub fn is_cryptographic(self) -> bool {
        !matches!(self, HashAlgo::Xxh3 | HashAlgo::Meowhash)
    }

    /// Checks at run time that this CPU can run the algorithm.
    ///
    /// # Errors
    /// [`HashAlgoError::Unsupported`] for meowhash on a CPU without AES-NI and SSSE3.
    pub fn check_supported(self) -> Result<(), HashAlgoError> {
        if self == HashAlgo::Meowhash && !meowhash_supported() {
            return Err(HashAlgoError::Unsupported {
                algo: self,
                feature: "AES-NI and SSSE3",
            });
        }
        Ok(())
    }

    /// Hashes `data`.
    ///
    /// # Errors
    /// As [`HashAlgo::check_supported`].
    pub fn digest(self, data: &[u8]) -> Result<Digest, HashAlgoError> {
        Ok(match self {
            HashAlgo::Sha256 => Digest::new(&sha2::Sha256::digest(data)),
            HashAlgo::Blake2b => Digest::new(
                blake2b_simd::Params::new()
                    .hash_length(32)
                    .hash(data)
                    .as_bytes(),
            ),
            HashAlgo::Blake2bp => Digest::new(
                blake2b_simd::blake2bp::Params::new()
                    .hash_length(32)
                    .hash(data)
                    .as_bytes(),
            ),
            HashAlgo::Blake3 => Digest::new(blake3_digest(data).as_bytes()),
            HashAlgo::Xxh3 => Digest::new(&xxhash_rust::xxh3::xxh3_128(data).to_le_bytes()),
            HashAlgo::Meowhash => {
                self.check_supported()?;
                Digest::new(&meowhash::MeowHasher::hash(data).as_u128().to_le_bytes())
            }
        })
    }
}

#[cfg(target_arch = "x86_64")]
fn meowhash_supported() -> bool {
    std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("ssse3")
}

#[cfg(not(target_arch = "x86_64"))]
fn meowhash_supported() -> bool {
    false
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlgo {
    type Err = HashAlgoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HashAlgo::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| HashAlgoError::Unknown(s.to_string()))
    }
}

/// Inputs at least this long are hashed by BLAKE3 on every core: its tree splits the input
/// into independent chunks. In a fresh process — where a cache hit happens — the second core
/// joins about 1 ms late on this project's 2-core VM (thread start-up plus waking an idle
/// vCPU), so smaller inputs stay on one core (7zip's 1.6 MB: 0.29 ms serial, 0.48 ms parallel;
/// ruby's 16.7 MB: 3.9 ms serial, 2.4 ms parallel).
const BLAKE3_PARALLEL_MIN: usize = 4 << 20;

/// BLAKE3, on every core for large inputs; the digest is the same either way.
fn blake3_digest(data: &[u8]) -> blake3::Hash {
    if data.len() < BLAKE3_PARALLEL_MIN {
        return blake3::hash(data);
    }
    let mut hasher = blake3::Hasher::new();
    blake3_update(&mut hasher, data);
    hasher.finalize()
}

/// Feeds `data` to a BLAKE3 hasher (plain or keyed), on every core when it is large.
pub(crate) fn blake3_update(hasher: &mut blake3::Hasher, data: &[u8]) {
    if data.len() < BLAKE3_PARALLEL_MIN {
        hasher.update(data);
    } else {
        hasher.update_rayon(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_blake3_gives_the_serial_digest() {
        let data: Vec<u8> = (0..3 * BLAKE3_PARALLEL_MIN + 17)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        assert_eq!(blake3_digest(&data), blake3::hash(&data));
    }

    #[test]
    fn known_answers() {
        // Published test vectors for the empty input.
        let empty = |a: HashAlgo| a.digest(b"").unwrap().to_hex();
        assert_eq!(
            empty(HashAlgo::Sha256),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            empty(HashAlgo::Blake3),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(
            empty(HashAlgo::Blake2b),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        );
    }

    #[test]
    fn every_algorithm_distinguishes_one_byte() {
        let a = vec![7u8; 4096];
        let mut b = a.clone();
        b[2048] ^= 1;
        for algo in HashAlgo::ALL {
            if algo.check_supported().is_err() {
                continue;
            }
            assert_ne!(algo.digest(&a).unwrap(), algo.digest(&b).unwrap(), "{algo}");
            assert_eq!(algo.name().parse::<HashAlgo>().unwrap(), algo);
        }
    }
}
