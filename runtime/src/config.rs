//! Engine configuration and the fingerprint of everything that changes generated code.

use std::{fmt::Write as _, path::PathBuf, sync::Arc};

use cranelift_codegen::{
    isa::{OwnedTargetIsa, TargetIsa},
    settings::{self, Configurable},
};

use crate::{
    cache::HashAlgo,
    error::{Error, Result},
};

/// The Cranelift release the runtime is built on (part of every cache key).
pub const CRANELIFT_VERSION: &str = "0.112.3";

/// Bytes of address space reserved for each 32-bit linear memory, guard included.
/// 4 GiB of addressable range plus a 2 GiB guard lets compiled code skip bounds checks for every
/// access whose static offset is below 2 GiB.
pub(crate) const MEMORY_RESERVATION: u64 = 4 << 30;
/// Guard bytes after the 4 GiB addressable range.
pub(crate) const MEMORY_GUARD: u64 = 2 << 30;

/// Cranelift's optimisation level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptLevel {
    /// No optimisations: fastest compile.
    None,
    /// Optimise for speed (the default).
    Speed,
    /// Optimise for speed and size.
    SpeedAndSize,
}

/// How an engine compiles, caches and runs modules.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) hash: HashAlgo,
    pub(crate) cache_enabled: bool,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) cache_limit_bytes: u64,
    pub(crate) parallel_compile: bool,
    pub(crate) opt_level: OptLevel,
    pub(crate) verifier: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) multi_memory: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hash: HashAlgo::Blake3,
            cache_enabled: true,
            cache_dir: None,
            cache_limit_bytes: 1 << 30,
            parallel_compile: true,
            opt_level: OptLevel::Speed,
            verifier: cfg!(debug_assertions),
            epoch_interruption: false,
            max_wasm_stack: 1 << 20,
            multi_memory: false,
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

    /// The wasm features modules may use under this configuration: [`wasm_features`], plus
    /// multi-memory when enabled.
    pub fn features(&self) -> wasmparser::WasmFeatures {
        let mut features = wasm_features();
        features.set(wasmparser::WasmFeatures::MULTI_MEMORY, self.multi_memory);
        features
    }

    /// Builds the Cranelift target for this machine.
    pub(crate) fn build_isa(&self) -> Result<OwnedTargetIsa> {
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, name: &str, value: &str| {
            flags
                .set(name, value)
                .map_err(|e| Error::Config(format!("cranelift flag {name}={value}: {e}")))
        };
        let opt = match self.opt_level {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        };
        set(&mut flags, "opt_level", opt)?;
        set(&mut flags, "enable_verifier", bool_str(self.verifier))?;
        set(&mut flags, "preserve_frame_pointers", "true")?;
        set(&mut flags, "unwind_info", "false")?;
        set(&mut flags, "enable_probestack", "false")?;
        set(&mut flags, "enable_heap_access_spectre_mitigation", "false")?;
        set(
            &mut flags,
            "enable_table_access_spectre_mitigation",
            "false",
        )?;
        set(&mut flags, "enable_nan_canonicalization", "false")?;
        set(&mut flags, "enable_jump_tables", "true")?;
        let builder = cranelift_native::builder()
            .map_err(|e| Error::Config(format!("this CPU is not supported by Cranelift: {e}")))?;
        builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| Error::Config(format!("cannot build the Cranelift target: {e}")))
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The wasm features this runtime accepts: WebAssembly 2.0 (MVP, mutable globals,
/// sign extension, saturating float-to-int, multi-value, reference types, bulk memory, SIMD).
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
        | F::FLOATS
}

/// Everything that changes the code an engine generates, as one stable string. Two engines with
/// different fingerprints never share a cache entry.
pub(crate) fn fingerprint(config: &Config, isa: &Arc<dyn TargetIsa>) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "wasm-prof-runtime {}; cranelift {CRANELIFT_VERSION}; triple {}; ",
        env!("CARGO_PKG_VERSION"),
        isa.triple()
    );
    let flags: Vec<String> = isa.flags().iter().map(|v| v.to_string()).collect();
    let _ = write!(s, "flags [{}]; ", flags.join(", "));
    let isa_flags: Vec<String> = isa.isa_flags().iter().map(|v| v.to_string()).collect();
    let _ = write!(s, "isa [{}]; ", isa_flags.join(", "));
    let _ = write!(s, "wasm {:#x}; ", config.features().bits());
    let _ = write!(
        s,
        "memory reservation {MEMORY_RESERVATION} guard {MEMORY_GUARD}; epochs {}",
        config.epoch_interruption
    );
    s
}
