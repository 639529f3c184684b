//! The trait a peer engine implements and the one sample driver all peers share, so that every
//! peer is timed through the same steps under the same phase names.
//!
//! Phase mapping for a peer (the README's comparison section repeats it):
//! - `read`: reading the module file.
//! - `codegen`: the peer's whole compile (validation, translation and code generation, in
//!   parallel), since a peer does not expose those steps separately. Through wasmtime's
//!   built-in cache on a miss it also covers that cache's hashing, lookup and store.
//! - `serialize`, `cache_store`: the peer's artifact in memory, then written to a file.
//! - `cache_load`: loading the peer's artifact (`deserialize_file`), or a whole built-in cache
//!   hit (wasmtime: including its hashing; wasmer's hashing is `hash`).
//! - `hash`, `cache_lookup`: only where the peer's API exposes them (wasmer's cache).
//! - `instantiate`: instantiation with every import stubbed by a trapping function.

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail, ensure};
use wasm_prof_runtime::phases::{Phase, PhaseClock};

use crate::{
    engines::EngineName,
    model::PathKind,
    sampling::in_process::{self, SampleOutput},
};

/// The `hash` of a peer's runs through its own artifact file (no hashing involved).
pub const OWN_ARTIFACT: &str = "none";

/// The file a peer's own artifact is written to, inside the sample's cache directory.
const ARTIFACT_FILE: &str = "module.artifact";

/// How a peer sample caches compiled code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// No caching: compile only.
    Off,
    /// The peer's own serialized artifact, in this directory.
    OwnArtifact(PathBuf),
    /// The peer's built-in on-disk cache, in this directory.
    Builtin(PathBuf),
}

impl CacheMode {
    /// The mode a sample of `engine` with this `hash` name and cache runs in.
    ///
    /// # Errors
    /// When the hash name is neither [`OWN_ARTIFACT`] nor the engine's built-in cache hash, or
    /// a cache is asked for without a directory.
    pub fn new(
        engine: EngineName,
        hash: &str,
        cache: &in_process::CacheMode,
    ) -> anyhow::Result<Self> {
        let builtin = engine.builtin_cache_hash();
        match cache {
            in_process::CacheMode::Disabled => Ok(CacheMode::Off),
            in_process::CacheMode::Dir(dir) if hash == OWN_ARTIFACT => {
                Ok(CacheMode::OwnArtifact(dir.clone()))
            }
            in_process::CacheMode::Dir(dir) if Some(hash) == builtin => {
                Ok(CacheMode::Builtin(dir.clone()))
            }
            in_process::CacheMode::Dir(_) => bail!(
                "{engine} caches with `{OWN_ARTIFACT}` (its own artifact file) or `{}` (its \
                 built-in cache), not `{hash}`",
                builtin.unwrap_or(OWN_ARTIFACT)
            ),
        }
    }
}

/// What a peer engine must offer to be measured. The engine is configured at construction
/// (including its built-in cache, when the sample uses it).
pub trait Peer {
    /// A compiled module.
    type Module;

    /// Compiles the module, bypassing any cache.
    ///
    /// # Errors
    /// When the module does not validate or compile.
    fn compile(&self, bytes: &[u8]) -> anyhow::Result<Self::Module>;

    /// The module in the engine's own artifact format.
    ///
    /// # Errors
    /// When the engine cannot serialize it.
    fn serialize(&self, module: &Self::Module) -> anyhow::Result<Vec<u8>>;

    /// Loads an artifact that [`Peer::serialize`] produced, from a file.
    ///
    /// # Errors
    /// When the file is missing or not a compatible artifact.
    fn deserialize_file(&self, path: &Path) -> anyhow::Result<Self::Module>;

    /// Gets the module through the built-in cache, recording the phases the engine exposes.
    /// `expect_hit` says what the caller prepared the cache for.
    ///
    /// # Errors
    /// When compiling or loading fails, or the outcome (hit or miss) is not the expected one.
    fn through_builtin_cache(
        &self,
        bytes: &[u8],
        expect_hit: bool,
        clock: &mut PhaseClock,
    ) -> anyhow::Result<Self::Module>;

    /// Instantiates the module with every import stubbed.
    ///
    /// # Errors
    /// When instantiation fails (a start function that traps, say).
    fn instantiate(&self, module: &Self::Module) -> anyhow::Result<()>;
}

/// Takes one sample of a peer: the steps the path and cache mode call for, each timed as a
/// phase; `artifact_bytes` is set on the cold path.
///
/// # Errors
/// When the path and cache mode do not fit together, or any step fails.
pub fn run<P: Peer>(
    peer: &P,
    module: &Path,
    path: PathKind,
    mode: &CacheMode,
) -> anyhow::Result<SampleOutput> {
    ensure!(
        (path == PathKind::Nocache) == (*mode == CacheMode::Off),
        "a peer caches on the cold and cached paths and only there"
    );
    let name = module.display();
    let mut clock = PhaseClock::enabled();
    let mut artifact_bytes = None;
    let compiled = if let (PathKind::Cached, CacheMode::OwnArtifact(dir)) = (path, mode) {
        let file = dir.join(ARTIFACT_FILE);
        clock
            .time(Phase::CacheLoad, || peer.deserialize_file(&file))
            .with_context(|| format!("cannot load the artifact {}", file.display()))?
    } else {
        let bytes = clock
            .time(Phase::Read, || fs::read(module))
            .with_context(|| format!("cannot read {name}"))?;
        let cold = path == PathKind::Cold;
        compile(peer, &bytes, mode, cold, &mut clock, &mut artifact_bytes)
            .with_context(|| format!("cannot compile {name}"))?
    };
    clock
        .time(Phase::Instantiate, || peer.instantiate(&compiled))
        .with_context(|| format!("cannot instantiate {name}"))?;
    Ok(SampleOutput {
        record: clock.into_record(),
        artifact_bytes,
        program: None,
        remote_tiers: Vec::new(),
    })
}

/// Compiles (and on the cold path stores) the module as `mode` says, noting the size of what
/// was stored.
fn compile<P: Peer>(
    peer: &P,
    bytes: &[u8],
    mode: &CacheMode,
    cold: bool,
    clock: &mut PhaseClock,
    artifact_bytes: &mut Option<u64>,
) -> anyhow::Result<P::Module> {
    match mode {
        CacheMode::Off => clock.time(Phase::Codegen, || peer.compile(bytes)),
        CacheMode::OwnArtifact(dir) => {
            let module = clock.time(Phase::Codegen, || peer.compile(bytes))?;
            let artifact = clock.time(Phase::Serialize, || peer.serialize(&module))?;
            let file = dir.join(ARTIFACT_FILE);
            clock
                .time(Phase::CacheStore, || fs::write(&file, &artifact))
                .with_context(|| format!("cannot write {}", file.display()))?;
            *artifact_bytes = Some(artifact.len() as u64);
            Ok(module)
        }
        CacheMode::Builtin(dir) => {
            let module = peer.through_builtin_cache(bytes, !cold, clock)?;
            if cold {
                *artifact_bytes = Some(in_process::dir_bytes(dir, |_| true)?);
            }
            Ok(module)
        }
    }
}
