//! What the WASI test binaries share: the repository's paths and the fetched-corpus rule.

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A module of the fetched corpus (never committed), which `how` makes. Missing is a failure,
/// unless the run skips the fetched corpus deliberately (`WASM_PROF_SKIP_CORPUS=1`), which the
/// test then says.
pub fn fetched(name: &str, how: &str) -> Option<PathBuf> {
    let wasm = repo().join("corpora/fetched").join(format!("{name}.wasm"));
    if wasm.exists() {
        return Some(wasm);
    }
    assert!(
        std::env::var("WASM_PROF_SKIP_CORPUS").as_deref() == Ok("1"),
        "{} is missing: run {how} (or set WASM_PROF_SKIP_CORPUS=1 to skip it deliberately)",
        wasm.display()
    );
    eprintln!("note: WASM_PROF_SKIP_CORPUS=1: skipping {}", wasm.display());
    None
}
