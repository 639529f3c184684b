//! The compiled-module cache: keys, hash algorithms, the artifact format and the store.

pub mod hash;

pub use hash::{Digest, HashAlgo, HashAlgoError};
