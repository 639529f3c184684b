//! Each cache-key algorithm straight from its crate, with nothing of the cache around it: what
//! `HashAlgo::digest` is measured against (the `hash` bench and `examples/overheads.rs`).

use sha2::Digest as _;
use wasm_prof_runtime::cache::HashAlgo;

/// `algo` straight from its crate, as the crate's documentation calls it, returning the digest's
/// first byte so nothing is optimised away. BLAKE3 splits inputs of 4 MiB or more across cores
/// (its `update_rayon`), as the cache does.
pub fn bare_digest(algo: HashAlgo, data: &[u8]) -> u8 {
    match algo {
        HashAlgo::Sha256 => sha2::Sha256::digest(data)[0],
        HashAlgo::Blake2b => blake2b_simd::Params::new()
            .hash_length(32)
            .hash(data)
            .as_bytes()[0],
        HashAlgo::Blake2bp => blake2b_simd::blake2bp::Params::new()
            .hash_length(32)
            .hash(data)
            .as_bytes()[0],
        HashAlgo::Blake3 if data.len() >= 4 << 20 => blake3::Hasher::new()
            .update_rayon(data)
            .finalize()
            .as_bytes()[0],
        HashAlgo::Blake3 => blake3::hash(data).as_bytes()[0],
        HashAlgo::Xxh3 => xxhash_rust::xxh3::xxh3_128(data) as u8,
        HashAlgo::Meowhash => meowhash::MeowHasher::hash(data).as_u128() as u8,
    }
}
