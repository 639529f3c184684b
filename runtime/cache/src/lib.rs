//! The compiled-module cache: keys, hash algorithms, the artifact format and the store.
//!
//! It depends on no other part of the runtime: an artifact's metadata and code image are opaque
//! bytes here, and the engine fingerprint is a string the caller supplies (everything that
//! changes what an entry means, the layout of its metadata included, belongs in it).

#![deny(missing_docs)]

pub mod artifact;
pub mod backfill;
pub mod digest_index;
pub mod error;
pub mod file_identity;
pub mod hash;
pub mod key;
pub mod key_file;
pub mod mac;
pub mod store;
pub mod trust;
pub mod verified;

pub use artifact::{
    ArtifactError, ArtifactHeader, MacCheck, MappedArtifact, header_mac, read_header,
    write_artifact,
};
pub use backfill::Backfill;
pub use digest_index::DigestIndex;
pub use error::CacheError;
pub use hash::{Digest, HashAlgo, HashAlgoError};
pub use key::CacheKey;
pub use mac::{Mac, MacKey};
pub use store::{CacheStats, CacheStore, Removed, StoreOutcome};
