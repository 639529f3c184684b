//! The compiled-module cache: keys, hash algorithms, the artifact format and the store.

pub mod artifact;
pub mod error;
pub mod hash;
pub mod key;
pub mod store;
pub mod verified;

pub use artifact::{ArtifactError, CodeCheck, MappedArtifact, write_artifact};
pub use error::CacheError;
pub use hash::{Digest, HashAlgo, HashAlgoError};
pub use key::CacheKey;
pub use store::{CacheStats, CacheStore, Removed, StoreOutcome};
