//! Engine configuration and the fingerprint of everything that changes generated code.

use std::{fmt::Write as _, path::PathBuf, time::Duration};

use wasm_prof_compile::{OptLevel, OwnedTargetIsa, TargetIsa, build_isa, describe_isa};
use wasm_prof_environ::{
    METADATA_SCHEMA,
    tunables::{MEMORY_GUARD, MEMORY_RESERVATION},
};
use wasm_prof_vm::profiling::PerfProfiling;

use crate::{
    cache::{HashAlgo, MacKey},
    error::{Error, Result},
    remote_cache::{RemoteOptions, TierUrl},
};

/// The variable that names the remote tiers (URLs separated by commas or whitespace).
pub const REMOTE_VAR: &str = "WASM_PROF_CACHE_REMOTE";
/// The variable that makes this process a read-only node of the remote tiers (`1`).
pub const REMOTE_READ_ONLY_VAR: &str = "WASM_PROF_CACHE_REMOTE_READ_ONLY";

/// How an engine compiles, caches and runs modules.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) hash: HashAlgo,
    pub(crate) cache_enabled: bool,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) cache_limit_bytes: u64,
    pub(crate) cache_shared: bool,
    pub(crate) cache_mac_key: Option<MacKey>,
    pub(crate) stat_index: bool,
    pub(crate) cache_remote: Vec<String>,
    pub(crate) cache_remote_options: RemoteOptions,
    pub(crate) parallel_compile: bool,
    pub(crate) opt_level: OptLevel,
    pub(crate) verifier: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) standard: WasmStandard,
    pub(crate) multi_memory: bool,
    pub(crate) perf: Option<PerfProfiling>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hash: HashAlgo::Blake3,
            cache_enabled: true,
            cache_dir: None,
            cache_limit_bytes: 1 << 30,
            cache_shared: std::env::var_os("WASM_PROF_CACHE_SHARED").is_some_and(|v| v == "1"),
            cache_mac_key: None,
            stat_index: true,
            cache_remote: std::env::var(REMOTE_VAR)
                .map(|list| TierUrl::split_list(&list))
                .unwrap_or_default(),
            cache_remote_options: RemoteOptions {
                read_only: std::env::var_os(REMOTE_READ_ONLY_VAR).is_some_and(|v| v == "1"),
                ..RemoteOptions::default()
            },
            parallel_compile: true,
            opt_level: OptLevel::Speed,
            verifier: cfg!(debug_assertions),
            epoch_interruption: false,
            max_wasm_stack: 1 << 20,
            standard: WasmStandard::V3,
            multi_memory: true,
            perf: None,
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

    /// Uses a cache directory that others may write to, or that another user owns, and makes
    /// new entries readable by others (default off: such a directory is not used, with a
    /// warning; on with `WASM_PROF_CACHE_SHARED=1`). Entries are still authenticated with the
    /// cache key, so the users sharing a cache must share its key
    /// ([`Config::cache_mac_key`], `WASM_PROF_CACHE_KEY_FILE` or `WASM_PROF_CACHE_KEY`); an entry
    /// written with another key is a miss and is replaced.
    pub fn cache_shared(&mut self, shared: bool) -> &mut Self {
        self.cache_shared = shared;
        self
    }

    /// The secret that signs and authenticates cache entries (default: as
    /// [`crate::cache::key_file`] describes — `WASM_PROF_CACHE_KEY`, else the file
    /// `WASM_PROF_CACHE_KEY_FILE` names, else the user's own key file, created on first use).
    pub fn cache_mac_key(&mut self, key: MacKey) -> &mut Self {
        self.cache_mac_key = Some(key);
        self
    }

    /// Takes an unchanged module file's digest from the cache's stat index instead of hashing
    /// the file (default on; see `wasm_prof_cache::digest_index`). Only files loaded with
    /// [`crate::Module::from_file`] have an identity to look up.
    pub fn stat_index(&mut self, on: bool) -> &mut Self {
        self.stat_index = on;
        self
    }

    /// The remote tiers behind the local cache, in the order they are asked: `redis://HOST[:PORT][/DB]`
    /// and `s3://BUCKET[/PREFIX]` (endpoint, region and credentials from the `AWS_*`
    /// variables). Default: the URLs in `WASM_PROF_CACHE_REMOTE`, else none. A local miss asks
    /// them; a remote hit is authenticated with the cache key, written into the local cache and
    /// mapped from there; a miss everywhere compiles and uploads in the background. Every
    /// member of a fleet must share the cache key.
    pub fn cache_remote<S: Into<String>>(
        &mut self,
        urls: impl IntoIterator<Item = S>,
    ) -> &mut Self {
        self.cache_remote = urls.into_iter().map(Into::into).collect();
        self
    }

    /// Only reads the remote tiers: no uploads, no single-flight locks (default off; on with
    /// `WASM_PROF_CACHE_REMOTE_READ_ONLY=1`).
    pub fn cache_remote_read_only(&mut self, read_only: bool) -> &mut Self {
        self.cache_remote_options.read_only = read_only;
        self
    }

    /// On a miss everywhere, lets one process per module compile while the others wait for
    /// its upload, with a lock in the first Redis tier (default on).
    pub fn cache_remote_single_flight(&mut self, on: bool) -> &mut Self {
        self.cache_remote_options.single_flight = on;
        self
    }

    /// How long connecting to a remote tier, or one small request, may take (default 2 s).
    pub fn cache_remote_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.cache_remote_options.timeout = timeout;
        self
    }

    /// How long transferring one module to or from a remote tier may take before it is
    /// abandoned — a fetch then compiles locally, an upload is dropped (default 30 s).
    pub fn cache_remote_transfer_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.cache_remote_options.transfer_timeout = timeout;
        self
    }

    /// How long a process waits for another's compile of the same module before compiling
    /// itself (default 60 s).
    pub fn cache_remote_wait(&mut self, wait: Duration) -> &mut Self {
        self.cache_remote_options.wait = wait;
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

    /// The edition of the WebAssembly standard modules are validated against (default 3.0).
    /// 2.0 rejects what 3.0 made valid — a second memory, `global.get` of a defined global
    /// in a constant expression, typed references — as the 2.0 spec suite expects.
    pub fn wasm_standard(&mut self, standard: WasmStandard) -> &mut Self {
        self.standard = standard;
        self
    }

    /// Accepts modules with more than one memory (default on, as in WebAssembly 3.0; off, a
    /// second memory is invalid and the byte after `memory.size` and `memory.grow` is 2.0's
    /// reserved zero byte, not a memory index). WebAssembly 2.0 never has them.
    pub fn multi_memory(&mut self, on: bool) -> &mut Self {
        self.multi_memory = on;
        self
    }

    /// What to tell Linux `perf` about the guest code of every module this engine loads,
    /// compiled or from the cache: a perf map line or a jitdump record per function and
    /// trampoline (see [`PerfProfiling`]). Default: what `WASM_PROF_PERF` says (`perfmap`,
    /// `jitdump` or `none`), else nothing. It does not change the generated code, so cache
    /// entries are shared with engines that profile differently. Compiled code always keeps
    /// frame pointers (the unwinder walks them), so `perf record --call-graph fp` sees guest
    /// call stacks either way.
    pub fn perf_profiling(&mut self, strategy: PerfProfiling) -> &mut Self {
        self.perf = Some(strategy);
        self
    }

    /// The wasm features modules may use under this configuration.
    pub fn features(&self) -> wasmparser::WasmFeatures {
        let mut features = match self.standard {
            WasmStandard::V2 => wasm_2_0_features(),
            WasmStandard::V3 => wasm_features(),
        };
        features &= !wasmparser::WasmFeatures::MULTI_MEMORY;
        if self.multi_memory && self.standard == WasmStandard::V3 {
            features |= wasmparser::WasmFeatures::MULTI_MEMORY;
        }
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

/// An edition of the WebAssembly standard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasmStandard {
    /// WebAssembly 2.0 (2022): MVP, mutable globals, sign extension, saturating
    /// float-to-int, multi-value, reference types, bulk memory, SIMD.
    V2,
    /// WebAssembly 3.0 (2025) without GC, as [`wasm_features`] lists it.
    V3,
}

/// The features of WebAssembly 2.0. wasmparser gates `externref` behind its `GC_TYPES` flag as
/// well as reference types.
fn wasm_2_0_features() -> wasmparser::WasmFeatures {
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

/// The wasm features this runtime accepts by default: WebAssembly 3.0 — 2.0 plus tail calls,
/// extended constant expressions, relaxed SIMD, exception handling (tags, `throw`,
/// `throw_ref`, `try_table`, `exnref`), typed function references, type canonicalisation
/// (recursion groups and declared subtypes of function types), multiple memories and 64-bit
/// memories and tables (memory64) — and the
/// threads proposal's atomic instructions on unshared memories. GC is not among them:
/// wasmparser's `GC` flag is on because it also gates recursion groups, subtype declarations
/// and `global.get` of defined globals in constant expressions, but the parser refuses struct
/// and array types and GC's abstract heap types, and the translator GC's instructions. Shared
/// memories are refused when a module is parsed: a store runs one thread.
pub fn wasm_features() -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as F;
    wasm_2_0_features()
        | F::RELAXED_SIMD
        | F::TAIL_CALL
        | F::EXTENDED_CONST
        | F::EXCEPTIONS
        | F::FUNCTION_REFERENCES
        | F::GC
        | F::MULTI_MEMORY
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
    let _ = write!(
        s,
        "metadata schema {METADATA_SCHEMA:#010x}; build {:#018x}",
        build_id::BUILD_ID
    );
    s
}

/// The build id `build.rs` derives from the code-generating sources and the lock file.
mod build_id {
    include!(concat!(env!("OUT_DIR"), "/build_id.rs"));
}
