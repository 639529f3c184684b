//! Modules: bytes in, a validated, compiled module out — from the cache when possible.

use std::{path::Path, sync::Arc};

use wasm_prof_compile::{CompiledImage, compile_module};
use wasm_prof_environ::{CodeLayout, ModuleInfo, parse};
use wasm_prof_vm::CompiledModule;

use crate::{
    cache::{CacheKey, CacheStore, MappedArtifact},
    engine::Engine,
    error::{Error, Result},
    phases::{Phase, PhaseClock},
};

/// A compiled module, ready to instantiate; cheap to clone.
#[derive(Clone)]
pub struct Module(Arc<ModuleInner>);

/// Where a module's code came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The cache was off.
    Disabled,
    /// Compiled, and stored in the cache.
    Miss,
    /// Loaded from the cache.
    Hit,
}

struct ModuleInner {
    compiled: Arc<CompiledModule>,
    cache: CacheOutcome,
    cache_warnings: Vec<String>,
}

impl Module {
    /// Validates and compiles `bytes` (or loads them from the engine's cache).
    ///
    /// # Errors
    /// [`Error::Invalid`] for malformed or invalid modules, [`Error::Unsupported`] for
    /// features this runtime lacks, [`Error::Compile`] when Cranelift fails.
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        Self::from_bytes_with_clock(engine, bytes, &mut PhaseClock::disabled())
    }

    /// Reads and compiles the module in `path`.
    ///
    /// # Errors
    /// [`Error::Read`] when the file cannot be read; otherwise as [`Module::new`].
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        Self::from_file_with_clock(engine, path, &mut PhaseClock::disabled())
    }

    /// As [`Module::from_file`], recording every phase on `clock`.
    ///
    /// # Errors
    /// As [`Module::from_file`].
    pub fn from_file_with_clock(
        engine: &Engine,
        path: impl AsRef<Path>,
        clock: &mut PhaseClock,
    ) -> Result<Module> {
        let path = path.as_ref();
        let bytes = clock
            .time(Phase::Read, || map_file(path))
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Self::from_bytes_with_clock(engine, &bytes, clock)
    }

    /// As [`Module::new`], recording every phase on `clock`.
    ///
    /// With the cache on, the module is hashed and looked up first; a hit maps the artifact
    /// and runs its code in place. A corrupt or foreign entry, or a cache directory that cannot
    /// be written, is never an error: the module is compiled and the reason is kept in
    /// [`Module::cache_warnings`].
    ///
    /// # Errors
    /// As [`Module::new`].
    pub fn from_bytes_with_clock(
        engine: &Engine,
        bytes: &[u8],
        clock: &mut PhaseClock,
    ) -> Result<Module> {
        let Some(cache) = engine.cache_store() else {
            let compiled = compile_bytes(engine, bytes, clock)?;
            let mut warnings = Vec::new();
            if let Some(why) = engine.cache_unavailable() {
                warnings.push(format!("{why}; running without the cache"));
            }
            return publish(compiled, CacheOutcome::Disabled, warnings, clock);
        };
        let algo = engine.config().hash;
        let digest = clock.time(Phase::Hash, || algo.digest(bytes))?;
        let key = CacheKey::new(algo, digest, engine.fingerprint());
        let mut warnings = Vec::new();
        let span = clock.start(Phase::CacheLookup);
        let found = cache.lookup(&key, engine.fingerprint());
        clock.end(span);
        match found {
            Ok(Some(artifact)) => {
                let span = clock.start(Phase::CacheLoad);
                let loaded = load_artifact(artifact);
                clock.end(span);
                match loaded {
                    Ok(compiled) => {
                        return Ok(Self::assemble(compiled, CacheOutcome::Hit, warnings));
                    }
                    Err(e) => warnings.push(format!(
                        "the cache entry {} is unusable ({e}); recompiled and replaced it",
                        cache.path_for(&key).display()
                    )),
                }
            }
            Ok(None) => {}
            Err(e) => warnings.push(format!("{}; recompiled and replaced it", error_chain(&e))),
        }
        let compiled = compile_bytes(engine, bytes, clock)?;
        let entry = CacheEntry {
            store: cache,
            key: &key,
            fingerprint: engine.fingerprint(),
        };
        if let Err(warning) = entry.store(&compiled, clock) {
            warnings.push(warning);
        }
        publish(compiled, CacheOutcome::Miss, warnings, clock)
    }

    fn assemble(
        compiled: Arc<CompiledModule>,
        cache: CacheOutcome,
        cache_warnings: Vec<String>,
    ) -> Module {
        Module(Arc::new(ModuleInner {
            compiled,
            cache,
            cache_warnings,
        }))
    }

    /// The compiled code and what the VM needs to run it.
    pub(crate) fn compiled(&self) -> &Arc<CompiledModule> {
        &self.0.compiled
    }

    /// The module's types, imports, exports and segments.
    pub fn info(&self) -> &ModuleInfo {
        self.0.compiled.info()
    }

    /// Bytes of the code image (machine code, trap table, data and memory images).
    pub fn code_size(&self) -> usize {
        self.0.compiled.code_size()
    }

    /// Whether the code came from the cache.
    pub fn cache_outcome(&self) -> &CacheOutcome {
        &self.0.cache
    }

    /// What went wrong with the cache while loading this module (each already handled by
    /// recompiling or by running without the cache), for the caller to show as warnings.
    pub fn cache_warnings(&self) -> &[String] {
        &self.0.cache_warnings
    }
}

/// Parses, validates, compiles and links `bytes`, recording each phase.
fn compile_bytes(engine: &Engine, bytes: &[u8], clock: &mut PhaseClock) -> Result<CompiledImage> {
    let span = clock.start(Phase::ParseValidate);
    let parsed = parse(bytes, engine.config().features())?;
    clock.end(span);
    let page = region::page::size();
    let options = engine.config().compile_options();
    Ok(compile_module(engine.isa(), &options, parsed, page, clock)?)
}

/// Makes a freshly compiled image executable (the rest of the `link` phase).
fn publish(
    compiled: CompiledImage,
    outcome: CacheOutcome,
    warnings: Vec<String>,
    clock: &mut PhaseClock,
) -> Result<Module> {
    let span = clock.start(Phase::Link);
    let CompiledImage {
        info,
        image,
        layout,
    } = compiled;
    let compiled = CompiledModule::from_image(info, layout, &image)?;
    let module = Module::assemble(compiled, outcome, warnings);
    clock.end(span);
    Ok(module)
}

/// Where a compiled module goes in the cache.
struct CacheEntry<'a> {
    store: &'a CacheStore,
    key: &'a CacheKey,
    fingerprint: &'a str,
}

impl CacheEntry<'_> {
    /// Serializes and stores a compiled module; a failure comes back as a warning.
    fn store(
        &self,
        compiled: &CompiledImage,
        clock: &mut PhaseClock,
    ) -> std::result::Result<(), String> {
        let span = clock.start(Phase::Serialize);
        let meta = bincode::serialize(&(&compiled.info, &compiled.layout));
        clock.end(span);
        let meta = meta.map_err(|e| format!("cannot serialize the module for the cache: {e}"))?;
        let span = clock.start(Phase::CacheStore);
        let stored = self
            .store
            .store(self.key, self.fingerprint, &meta, &compiled.image);
        clock.end(span);
        stored
            .map(drop)
            .map_err(|e| format!("{}; continuing without caching", error_chain(&e)))
    }
}

/// Turns a validated artifact into a compiled module, its code made executable in place.
fn load_artifact(artifact: MappedArtifact) -> std::result::Result<Arc<CompiledModule>, String> {
    let (info, layout): (ModuleInfo, CodeLayout) =
        bincode::deserialize(artifact.meta()).map_err(|e| format!("bad metadata: {e}"))?;
    if !layout.matches(&info, artifact.code().len()) {
        return Err("its layout does not match its code".into());
    }
    let range = artifact.code_range();
    let (mmap, file) = artifact.into_parts();
    CompiledModule::from_artifact(info, layout, mmap, range, file).map_err(|e| e.to_string())
}

/// An error and its sources, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// A module file's bytes: mapped when the file can be mapped, read otherwise (pipes).
enum FileBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(map) => map,
            FileBytes::Read(bytes) => bytes,
        }
    }
}

/// Maps a module file read-only (pages come straight from the page cache: no copy), or reads
/// it when it cannot be mapped.
///
/// Pages are not prefaulted: whoever reads them first (the cache-key hash, or the parser) takes
/// the faults, which the kernel serves sixteen pages at a time. On 7zip that made read + hash
/// 0.45 ms against 0.51 ms with `MAP_POPULATE`; the `read` phase is then only the mapping.
///
/// The bytes are only read while the module is hashed and compiled; a file truncated by another
/// process during that window would fault, as it would for any program that maps its input.
fn map_file(path: &Path) -> std::io::Result<FileBytes> {
    let mut file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    // The length is passed on, so that the mapping does not look the file up again.
    if metadata.is_file()
        && let Ok(len) = usize::try_from(metadata.len())
    {
        // SAFETY: the mapping is read-only; see above for concurrent truncation.
        if let Ok(map) = unsafe { memmap2::MmapOptions::new().len(len).map(&file) } {
            return Ok(FileBytes::Mapped(map));
        }
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(FileBytes::Read(bytes))
}
