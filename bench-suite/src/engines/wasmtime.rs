//! wasmtime as a peer: default configuration (Cranelift, parallel compilation) with the
//! WebAssembly 3.0 features wasm-prof has turned on too — exceptions (which need wasmtime's GC
//! support in the build), tail calls, extended constant expressions, relaxed SIMD, typed
//! function references, multiple memories, memory64 — and the threads proposal (its `threads`
//! cargo feature; wasm-prof runs atomics on unshared memories), so both engines accept the
//! same modules; its built-in cache pointed at the sample's cache directory when the sample
//! uses it.

use std::path::Path;

use anyhow::{Context, ensure};
use wasm_prof_runtime::phases::{Phase, PhaseClock};
use wasmtime::{Cache, CacheConfig, Config, Engine, Linker, Module, Store};

use crate::engines::peer::{CacheMode, Peer};

/// wasmtime's own error type as an `anyhow` error (wasmtime's `anyhow` feature, off like its
/// other default features, would add the same conversion).
fn error(e: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(e.into_boxed_dyn_error())
}

/// wasmtime's default configuration with the WebAssembly 3.0 features wasm-prof has, and
/// threads.
pub fn config() -> Config {
    let mut config = Config::new();
    config
        .wasm_exceptions(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_relaxed_simd(true)
        .wasm_function_references(true)
        .wasm_multi_memory(true)
        .wasm_memory64(true)
        .wasm_threads(true);
    config
}

/// A wasmtime engine, with its built-in cache when the sample uses it.
pub struct Wasmtime {
    engine: Engine,
    cache: Option<Cache>,
}

impl Wasmtime {
    /// An engine for a sample in `mode`.
    ///
    /// # Errors
    /// When the cache directory or the engine cannot be set up.
    pub fn new(mode: &CacheMode) -> anyhow::Result<Self> {
        let mut config = config();
        let cache = match mode {
            CacheMode::Builtin(dir) => {
                let dir = dir.canonicalize().with_context(|| {
                    format!("cannot find the cache directory {}", dir.display())
                })?;
                let mut cache_config = CacheConfig::new();
                cache_config.with_directory(dir);
                let cache = Cache::new(cache_config).map_err(error);
                Some(cache.context("cannot set up wasmtime's cache")?)
            }
            CacheMode::Off | CacheMode::OwnArtifact(_) => None,
        };
        config.cache(cache.clone());
        let engine = Engine::new(&config)
            .map_err(error)
            .context("cannot create a wasmtime engine")?;
        Ok(Self { engine, cache })
    }
}

impl Peer for Wasmtime {
    type Module = Module;

    fn compile(&self, bytes: &[u8]) -> anyhow::Result<Module> {
        Module::new(&self.engine, bytes).map_err(error)
    }

    fn serialize(&self, module: &Module) -> anyhow::Result<Vec<u8>> {
        module.serialize().map_err(error)
    }

    fn deserialize_file(&self, path: &Path) -> anyhow::Result<Module> {
        // SAFETY: the file is an artifact this program serialized with the same wasmtime and
        // configuration in an earlier sample, which is what `deserialize_file` requires.
        unsafe { Module::deserialize_file(&self.engine, path) }.map_err(error)
    }

    fn through_builtin_cache(
        &self,
        bytes: &[u8],
        expect_hit: bool,
        clock: &mut PhaseClock,
    ) -> anyhow::Result<Module> {
        let cache = self
            .cache
            .as_ref()
            .context("this wasmtime engine has no cache")?;
        let phase = if expect_hit {
            Phase::CacheLoad
        } else {
            Phase::Codegen
        };
        let hits = cache.cache_hits();
        let module = clock.time(phase, || self.compile(bytes))?;
        let hit = cache.cache_hits() > hits;
        ensure!(
            hit == expect_hit,
            "wasmtime's cache {} where a {} was expected",
            if hit { "hit" } else { "missed" },
            if expect_hit { "hit" } else { "miss" }
        );
        Ok(module)
    }

    fn instantiate(&self, module: &Module) -> anyhow::Result<()> {
        let mut store = Store::new(&self.engine, ());
        let mut linker = Linker::new(&self.engine);
        linker
            .define_unknown_imports_as_traps(module)
            .map_err(error)?;
        linker.instantiate(&mut store, module).map_err(error)?;
        Ok(())
    }
}
