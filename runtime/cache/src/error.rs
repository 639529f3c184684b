//! The cache's error type.

use std::{io, path::PathBuf};

use super::artifact::ArtifactError;

/// A cache operation that failed. None of these should fail a run: the caller warns, then
/// compiles without the cache (or recompiles and replaces an unusable entry).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache directory cannot be trusted with machine code (see [`crate::trust`]).
    #[error(
        "the cache directory {} is not used: {} {reason}; fix it with `chmod go-w {}` (and `chown` it to yourself if another user owns it), or opt in to a deliberately shared cache with WASM_PROF_CACHE_SHARED=1",
        .dir.display(),
        .path.display(),
        .path.display()
    )]
    Untrusted {
        /// The cache directory.
        dir: PathBuf,
        /// The directory that failed the check (the cache directory or one above it).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The secret that authenticates entries is missing, malformed or not protected (see
    /// [`crate::key_file`]).
    #[error("cannot use {origin} as the cache key: it {reason}")]
    Key {
        /// The variable or file the key was to come from.
        origin: String,
        /// What is wrong with it, and the fix.
        reason: String,
    },
    /// No cache directory is configured and none can be derived from the environment.
    #[error(
        "no cache directory: none of WASM_PROF_CACHE_DIR, XDG_CACHE_HOME or HOME is set; \
         set WASM_PROF_CACHE_DIR or pass --disable-cache"
    )]
    NoCacheDir,
    /// The cache directory could not be created.
    #[error(
        "cannot create the cache directory {}; make it writable, point WASM_PROF_CACHE_DIR \
         elsewhere or pass --disable-cache",
        .path.display()
    )]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A cache entry exists but could not be opened, inspected or mapped.
    #[error("cannot read the cache entry {}; check its permissions or clear the cache", .path.display())]
    Read {
        /// The entry.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A cache entry is corrupt, truncated or from another engine or format version; the caller
    /// should recompile, and storing the result replaces the entry.
    #[error("the cache entry {} is unusable; it will be recompiled and replaced", .path.display())]
    InvalidArtifact {
        /// The entry.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: ArtifactError,
    },
    /// A new entry could not be written, e.g. a read-only directory or a full disk.
    #[error(
        "cannot write the cache entry {}; check that the directory is writable and the disk has \
         space, or pass --disable-cache",
        .path.display()
    )]
    Write {
        /// The entry, or the directory if the temporary file could not be created.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An artifact from elsewhere is larger than the store's size limit, so it is not kept.
    #[error("the artifact ({bytes} bytes) is larger than the cache's limit of {limit} bytes")]
    TooLarge {
        /// The artifact's size in bytes.
        bytes: u64,
        /// The store's limit.
        limit: u64,
    },
    /// The cache directory could not be listed.
    #[error("cannot list the cache directory {}; check its permissions", .path.display())]
    List {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An entry could not be removed during eviction or clearing.
    #[error("cannot remove the cache entry {}; check the directory's permissions", .path.display())]
    Remove {
        /// The entry.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}
