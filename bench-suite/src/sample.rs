//! One sample: a module's whole life in this process, timed by the runtime's phase clock.
//!
//! `wasm-prof phases` runs every sample in a fresh child process (`wasm-prof sample ...`) so
//! that no sample benefits from another's warm caches, allocator state or loaded pages. The
//! child calls [`run_sample`] and prints the [`PhaseRecord`] it returns as JSON.

use std::path::PathBuf;

use wasm_prof_runtime::{cache::HashAlgo, phases::PhaseRecord};

use crate::model::PathKind;

/// Where the compiled-module cache lives for a sample, if anywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Use the cache in this directory (empty for the cold path, primed for the cached path).
    Dir(PathBuf),
    /// `--disable-cache`: touch nothing on disk.
    Disabled,
}

/// What one sample must do.
#[derive(Clone, Debug)]
pub struct SampleRequest {
    /// The module file.
    pub module: PathBuf,
    /// The path the parent prepared the cache for; the sample should find the cache in the
    /// corresponding state (empty, primed, or disabled).
    pub path: PathKind,
    /// The cache-key hash algorithm.
    pub hash: HashAlgo,
    /// The cache.
    pub cache: CacheMode,
}

/// The engine fingerprint written into phases reports: everything that changes generated code.
pub fn engine_fingerprint() -> String {
    format!("wasm-prof-runtime {}", env!("CARGO_PKG_VERSION"))
}

/// Reads, hashes, looks up, compiles or loads, stores, instantiates and runs the module with an
/// enabled phase clock, and returns what the clock recorded.
///
/// # Errors
/// Any failure of the runtime, with the module's path in the message.
pub fn run_sample(request: &SampleRequest) -> anyhow::Result<PhaseRecord> {
    let cache = match &request.cache {
        CacheMode::Dir(dir) => format!("the cache in {}", dir.display()),
        CacheMode::Disabled => "the cache disabled".to_string(),
    };
    anyhow::bail!(
        "the runtime is not wired in yet, so {} cannot be sampled on the {} path with {} and {cache}",
        request.module.display(),
        request.path,
        request.hash,
    )
}
