//! The engines `wasm-prof phases --engine` can measure: wasm-prof itself and, with the `peers`
//! cargo feature, wasmtime and wasmer through the small [`peer::Peer`] trait. With `peers`,
//! wasmtime is also a reference engine of differential execution (`wasmtime_reference`).
//!
//! A peer reports what it can expose under the same phase names as wasm-prof, and a run's
//! `hash` says which of its two caching mechanisms the run used: `none` for its own serialized
//! artifact written to and read from a file, or the built-in cache's hash algorithm
//! ([`EngineName::builtin_cache_hash`]) for its built-in on-disk cache.

pub mod peer;
#[cfg(feature = "peers")]
pub mod wasmer;
#[cfg(feature = "peers")]
pub mod wasmtime;
#[cfg(feature = "peers")]
pub mod wasmtime_reference;

use std::{fmt, path::Path, str::FromStr};

use anyhow::bail;

use crate::{
    model::PathKind,
    sampling::in_process::{CacheMode, SampleOutput},
};

/// An engine that samples can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineName {
    /// This project's runtime.
    WasmProf,
    /// wasmtime (needs the `peers` feature).
    Wasmtime,
    /// wasmer with its Cranelift compiler (needs the `peers` feature).
    Wasmer,
}

impl EngineName {
    /// Every engine, wasm-prof first.
    pub const ALL: [EngineName; 3] = [
        EngineName::WasmProf,
        EngineName::Wasmtime,
        EngineName::Wasmer,
    ];

    /// The engine's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            EngineName::WasmProf => "wasm-prof",
            EngineName::Wasmtime => "wasmtime",
            EngineName::Wasmer => "wasmer",
        }
    }

    /// The hash algorithm a peer's built-in cache keys modules with, which is also the `hash`
    /// of the runs through that cache; `None` for wasm-prof, whose hash is chosen by `--hash`.
    pub fn builtin_cache_hash(self) -> Option<&'static str> {
        match self {
            EngineName::WasmProf => None,
            EngineName::Wasmtime => Some("sha256"),
            EngineName::Wasmer => Some("blake3"),
        }
    }

    /// The `hash` names of a peer's runs on `path`: its own artifact file (`none`) and, off
    /// the no-cache path, its built-in cache; none on the remote path (peers have no remote
    /// tier).
    pub fn peer_hashes(self, path: PathKind) -> Vec<String> {
        if path == PathKind::Remote {
            return Vec::new();
        }
        let mut hashes = vec![peer::OWN_ARTIFACT.to_string()];
        if path != PathKind::Nocache {
            hashes.extend(self.builtin_cache_hash().map(str::to_string));
        }
        hashes
    }

    /// Fails unless this build can run the engine.
    ///
    /// # Errors
    /// For a peer when wasm-prof was built without the `peers` feature.
    pub fn check_available(self) -> anyhow::Result<()> {
        if self != EngineName::WasmProf && !cfg!(feature = "peers") {
            bail!(
                "this wasm-prof was built without the engine `{self}`; rebuild it with \
                 `cargo build --release -p wasm-prof --features peers`"
            );
        }
        Ok(())
    }
}

impl fmt::Display for EngineName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EngineName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EngineName::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                format!("unknown engine `{text}` (expected wasm-prof, wasmtime or wasmer)")
            })
    }
}

/// Runs one sample of a peer engine in this process; `hash` picks its caching mechanism (see
/// [`EngineName::peer_hashes`]).
///
/// # Errors
/// When the engine is not a peer or not in this build, or the sample fails.
#[cfg_attr(not(feature = "peers"), allow(unused_variables))]
pub fn run_peer_sample(
    engine: EngineName,
    module: &Path,
    path: PathKind,
    cache: &CacheMode,
    hash: &str,
) -> anyhow::Result<SampleOutput> {
    match engine {
        #[cfg(feature = "peers")]
        EngineName::Wasmtime => {
            let mode = peer::CacheMode::new(engine, hash, cache)?;
            peer::run(&wasmtime::Wasmtime::new(&mode)?, module, path, &mode)
        }
        #[cfg(feature = "peers")]
        EngineName::Wasmer => {
            let mode = peer::CacheMode::new(engine, hash, cache)?;
            peer::run(&wasmer::Wasmer::new(&mode), module, path, &mode)
        }
        _ => {
            engine.check_available()?;
            bail!("{engine} is not a peer engine")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names_round_trip_and_unknown_ones_are_refused() {
        for engine in EngineName::ALL {
            assert_eq!(engine.name().parse::<EngineName>(), Ok(engine));
        }
        assert_eq!("WASMTIME".parse::<EngineName>(), Ok(EngineName::Wasmtime));
        assert!("v8".parse::<EngineName>().is_err());
    }

    #[test]
    fn a_peer_caches_through_its_artifact_and_its_builtin_cache_but_not_on_nocache() {
        assert_eq!(
            EngineName::Wasmtime.peer_hashes(PathKind::Nocache),
            ["none"]
        );
        assert_eq!(
            EngineName::Wasmtime.peer_hashes(PathKind::Cached),
            ["none", "sha256"]
        );
        assert_eq!(
            EngineName::Wasmer.peer_hashes(PathKind::Cold),
            ["none", "blake3"]
        );
        assert!(EngineName::WasmProf.check_available().is_ok());
        assert_eq!(
            EngineName::Wasmer.check_available().is_ok(),
            cfg!(feature = "peers")
        );
    }

    #[test]
    fn a_peer_cache_mode_follows_the_hash_name() {
        let dir = CacheMode::Dir("/tmp/c".into());
        let mode = |hash| peer::CacheMode::new(EngineName::Wasmtime, hash, &dir);
        assert_eq!(
            mode("none").unwrap(),
            peer::CacheMode::OwnArtifact("/tmp/c".into())
        );
        assert_eq!(
            mode("sha256").unwrap(),
            peer::CacheMode::Builtin("/tmp/c".into())
        );
        assert!(mode("blake3").is_err());
        let off = peer::CacheMode::new(EngineName::Wasmer, "none", &CacheMode::Disabled);
        assert_eq!(off.unwrap(), peer::CacheMode::Off);
    }
}
