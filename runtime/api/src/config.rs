//! Engine configuration and the fingerprint of everything that changes generated code.

use std::{fmt::Write as _, path::PathBuf};

use wasm_prof_compile::{OptLevel, OwnedTargetIsa, TargetIsa, build_isa, describe_isa};
use wasm_prof_environ::{
    METADATA_SCHEMA,
    tunables::{MEMORY_GUARD, MEMORY_RESERVATION},
};

use crate::{
    cache::HashAlgo,
    error::{Error, Result},
};

/// How an engine compiles, caches and runs modules.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) hash: HashAlgo,
    pub(crate) cache_enabled: bool,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) cache_limit_bytes: u64,
    pub(crate) cache_shared: bool,
    pub(crate) parallel_compile: bool,
    pub(crate) opt_level: OptLevel,
    pub(crate) verifier: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) multi_memory: bool,
    pub(crate) memory64: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hash: HashAlgo::Blake3,
            cache_enabled: true,
            cache_dir: None,
            cache_limit_bytes: 1 << 30,
            cache_shared: std::env::var_os("WASM_PROF_CACHE_SHARED").is_some_and(|v| v == "1"),
            parallel_compile: true,
            opt_level: OptLevel::Speed,
            verifier: cfg!(debug_assertions),
            epoch_interruption: false,
            max_wasm_stack: 1 << 20,
            multi_memory: false,
            memory64: true,
        }
    }
}

impl Config {
    /// The default configuration: cache on (blake3 keys, default directory, 1 GiB), parallel
    /// compile, `OptLevel::Speed`, no interruption checks, 1 MiB of wasm stack.
    pub fn new() -> Self {
        Self::default()
    }

    /// The hash algorithm for cache keys (default blake3).
    pub fn hash_algo(&mut self, algo: HashAlgo) -> &mut Self {
        self.hash = algo;
        self
    }

    /// Turns the on-disk cache on or off (default on). Off touches nothing on disk.
    pub fn cache(&mut self, enabled: bool) -> &mut Self {
        self.cache_enabled = enabled;
        self
    }

    /// The cache directory (default `$WASM_PROF_CACHE_DIR`, else the user's cache dir).
    pub fn cache_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Uses a cache directory that others may write to, or that another user owns (default off:
    /// such a directory is not used, with a warning, since whoever can write to it chooses the
    /// machine code this process runs; on with `WASM_PROF_CACHE_SHARED=1`).
    pub fn cache_shared(&mut self, shared: bool) -> &mut Self {
        self.cache_shared = shared;
        self
    }

    /// The cache's size limit in bytes (default 1 GiB); least recently used entries go first.
    pub fn cache_limit(&mut self, bytes: u64) -> &mut Self {
        self.cache_limit_bytes = bytes;
        self
    }

    /// Compile functions on all cores (default) or on the calling thread only.
    pub fn parallel_compile(&mut self, parallel: bool) -> &mut Self {
        self.parallel_compile = parallel;
        self
    }

    /// Cranelift's optimisation level (default `Speed`).
    pub fn opt_level(&mut self, level: OptLevel) -> &mut Self {
        self.opt_level = level;
        self
    }

    /// Runs Cranelift's IR verifier after each pass (default: on in debug builds only).
    pub fn verifier(&mut self, on: bool) -> &mut Self {
        self.verifier = on;
        self
    }

    /// Emits a deadline check at every function entry and loop header, so that
    /// [`crate::Engine::increment_epoch`] can stop a running guest (default off: it costs a load and a
    /// compare per loop iteration).
    pub fn epoch_interruption(&mut self, on: bool) -> &mut Self {
        self.epoch_interruption = on;
        self
    }

    /// Native stack bytes guest code may use before it traps with "call stack exhausted"
    /// (default 1 MiB).
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }

    /// Accepts modules with more than one memory (the multi-memory proposal; default off, as in
    /// WebAssembly 2.0).
    pub fn multi_memory(&mut self, on: bool) -> &mut Self {
        self.multi_memory = on;
        self
    }

    /// Accepts 64-bit memories and tables (memory64; default on, as in WebAssembly 3.0). Off,
    /// memory limits take WebAssembly 2.0's binary format (32-bit LEB128 numbers).
    pub fn memory64(&mut self, on: bool) -> &mut Self {
        self.memory64 = on;
        self
    }

    /// The wasm features modules may use under this configuration: [`wasm_features`], plus
    /// multi-memory when enabled, less memory64 when disabled.
    pub fn features(&self) -> wasmparser::WasmFeatures {
        let mut features = wasm_features();
        features.set(wasmparser::WasmFeatures::MULTI_MEMORY, self.multi_memory);
        features.set(wasmparser::WasmFeatures::MEMORY64, self.memory64);
        features
    }

    /// Builds the Cranelift target for this machine.
    pub(crate) fn build_isa(&self) -> Result<OwnedTargetIsa> {
        build_isa(self.opt_level, self.verifier).map_err(|e| Error::Config(e.to_string()))
    }

    /// How the compiler compiles functions under this configuration.
    pub(crate) fn compile_options(&self) -> wasm_prof_compile::CompileOptions {
        wasm_prof_compile::CompileOptions {
            parallel: self.parallel_compile,
            epoch_interruption: self.epoch_interruption,
        }
    }
}

/// The wasm features this runtime accepts: WebAssembly 2.0 (MVP, mutable globals,
/// sign extension, saturating float-to-int, multi-value, reference types, bulk memory, SIMD)
/// and, of WebAssembly 3.0, tail calls, extended constant expressions, relaxed SIMD,
/// exception handling (tags, `throw`, `throw_ref`, `try_table`, `exnref`) and 64-bit memories
/// and tables (memory64); and the threads
/// proposal's atomic instructions on unshared memories (shared memories are refused when a
/// module is parsed: a store runs one thread).
/// wasmparser gates `externref` behind its `GC_TYPES` flag as well as reference types.
pub fn wasm_features() -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as F;
    F::GC_TYPES
        | F::MUTABLE_GLOBAL
        | F::SATURATING_FLOAT_TO_INT
        | F::SIGN_EXTENSION
        | F::MULTI_VALUE
        | F::REFERENCE_TYPES
        | F::BULK_MEMORY
        | F::SIMD
        | F::RELAXED_SIMD
        | F::FLOATS
        | F::TAIL_CALL
        | F::EXTENDED_CONST
        | F::EXCEPTIONS
        | F::THREADS
        | F::MEMORY64
}

/// Everything that changes the code an engine generates, as one stable string. Two engines with
/// different fingerprints never share a cache entry.
pub(crate) fn fingerprint(config: &Config, isa: &dyn TargetIsa) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "wasm-prof-runtime {}; {}; ",
        env!("CARGO_PKG_VERSION"),
        describe_isa(isa)
    );
    let _ = write!(s, "wasm {:#x}; ", config.features().bits());
    let _ = write!(
        s,
        "memory reservation {MEMORY_RESERVATION} guard {MEMORY_GUARD}; epochs {}; ",
        config.epoch_interruption
    );
    let _ = write!(s, "metadata schema {METADATA_SCHEMA:#010x}");
    s
}
