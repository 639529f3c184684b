//! Modules: bytes in, a validated, compiled module out — from the cache when possible.

use std::{
    ops::Range,
    path::{Path, PathBuf},
    sync::Arc,
};

use wasm_prof_compile::{CompiledImage, compile_module};
use wasm_prof_environ::{CodeLayout, ModuleInfo, parse};
use wasm_prof_vm::{
    CompiledModule,
    profiling::{self, PerfProfiling},
};

use crate::{
    cache::{CacheKey, CacheStore, Digest, MacKey, MappedArtifact, StoreOutcome},
    engine::Engine,
    error::Result,
    module_file::ModuleFile,
    phases::{Phase, PhaseClock},
    remote::{self, RemoteOutcome},
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
    /// Not in the local cache; fetched from a remote tier, authenticated and written into the
    /// local cache.
    RemoteHit,
}

struct ModuleInner {
    compiled: Arc<CompiledModule>,
    cache: CacheOutcome,
    cache_warnings: Vec<String>,
    profiling_warning: Option<String>,
}

impl Module {
    /// Validates and compiles `bytes` (or loads them from the engine's cache).
    ///
    /// # Errors
    /// [`Error::Invalid`](crate::Error::Invalid) for malformed or invalid modules, [`Error::Unsupported`](crate::Error::Unsupported) for
    /// features this runtime lacks, [`Error::Compile`](crate::Error::Compile) when Cranelift fails.
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        Self::from_bytes_with_clock(engine, bytes, &mut PhaseClock::disabled())
    }

    /// Reads and compiles the module in `path`.
    ///
    /// # Errors
    /// [`Error::Read`](crate::Error::Read) when the file cannot be read; otherwise as [`Module::new`].
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
        let file = clock.time(Phase::Read, || ModuleFile::open(path.as_ref()))?;
        Self::load(engine, Source::File(&file), clock)
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
        Self::load(engine, Source::Bytes(bytes), clock)
    }

    /// Loads a module from `source` and tells `perf` where its code lies, when the engine
    /// profiles: every path (compiled, local or remote hit) comes through here.
    fn load(engine: &Engine, source: Source<'_>, clock: &mut PhaseClock) -> Result<Module> {
        let mut module = Self::load_code(engine, source, clock)?;
        let strategy = engine.perf_profiling();
        if strategy != PerfProfiling::None {
            let name = source.module_name(module.info());
            let registered = profiling::register(strategy, module.compiled(), &name);
            // A module just loaded has no other handle yet.
            if let (Err(e), Some(inner)) = (registered, Arc::get_mut(&mut module.0)) {
                inner.profiling_warning =
                    Some(format!("{e}; perf will not name this module's functions"));
            }
        }
        Ok(module)
    }

    /// Loads a module from `source`: hashed and looked up in the cache, compiled on a miss.
    fn load_code(engine: &Engine, source: Source<'_>, clock: &mut PhaseClock) -> Result<Module> {
        let Some((cache, mac_key)) = engine.cache() else {
            let compiled = compile_bytes(engine, source.bytes(), clock);
            source.check()?;
            let compiled = compiled?;
            let mut warnings = Vec::new();
            if let Some(why) = engine.cache_unavailable() {
                warnings.push(format!("{why}; running without the cache"));
            }
            return publish(compiled, CacheOutcome::Disabled, warnings, clock);
        };
        let algo = engine.config().hash;
        let digest = module_digest(engine, cache, mac_key, source, clock)?;
        let mut key = CacheKey::new(algo, digest, engine.fingerprint());
        let mut warnings = Vec::new();
        let span = clock.start(Phase::CacheLookup);
        let found = cache.lookup(&key, engine.fingerprint(), mac_key);
        clock.end(span);
        match found {
            Ok(Some(artifact)) => {
                let span = clock.start(Phase::CacheLoad);
                let loaded = load_artifact(engine, artifact);
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
        let claim = match remote::load(engine, cache, mac_key, &key, clock, &mut warnings) {
            RemoteOutcome::Hit(compiled) => {
                return Ok(Self::assemble(compiled, CacheOutcome::RemoteHit, warnings));
            }
            RemoteOutcome::Miss { claim, replace } => (claim, replace),
        };
        // A mapped file may have been rewritten since it was hashed: compile a private copy,
        // keyed by its own digest, so the entry's key always matches its code.
        let snapshot = source.snapshot()?;
        let bytes = match &snapshot {
            Some(copy) => {
                let digest = clock.time(Phase::Hash, || algo.digest(copy))?;
                key = CacheKey::new(algo, digest, engine.fingerprint());
                copy
            }
            None => source.bytes(),
        };
        let compiled = compile_bytes(engine, bytes, clock)?;
        let entry = CacheEntry {
            store: cache,
            key: &key,
            fingerprint: engine.fingerprint(),
            mac_key,
        };
        match entry.store(&compiled, clock) {
            Ok(Some(path)) => remote::upload(engine, mac_key, &key, path, claim, clock),
            Ok(None) => {}
            Err(warning) => warnings.push(warning),
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
            profiling_warning: None,
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

    /// Where the module's functions and trampolines lie in this process (the offsets of
    /// [`Module::layout`] are relative to its start).
    pub fn code_range(&self) -> Range<usize> {
        self.0.compiled.text_range()
    }

    /// Where each function and trampoline lies in the module's code.
    pub fn layout(&self) -> &CodeLayout {
        self.0.compiled.layout()
    }

    /// Why `perf` could not be told about this module's code, when the engine profiles and
    /// the perf map or jitdump file could not be written (the module loads all the same).
    pub fn profiling_warning(&self) -> Option<&str> {
        self.0.profiling_warning.as_deref()
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

/// The module's digest under the engine's algorithm: from the cache's stat index when `source`
/// is a file unchanged since it was indexed, else hashed from its bytes — and then entered into
/// the index when the file is settled and did not change while it was read.
fn module_digest(
    engine: &Engine,
    cache: &CacheStore,
    mac_key: &MacKey,
    source: Source<'_>,
    clock: &mut PhaseClock,
) -> Result<Digest> {
    let algo = engine.config().hash;
    let indexed = match source {
        Source::File(file) if engine.config().stat_index => file.opened().map(|o| (file, o)),
        _ => None,
    };
    let index = cache.digest_index();
    if let Some((_, (identity, _))) = indexed {
        let found = clock.time(Phase::KeyLookup, || index.lookup(identity, algo, mac_key));
        if let Some(digest) = found {
            return Ok(digest);
        }
    }
    if indexed.is_some()
        && let Some(remote) = engine.remote_cache()
    {
        // A file the stat index does not know is likely missing from the cache as well.
        remote.connect_ahead();
    }
    let digest = clock.time(Phase::Hash, || algo.digest(source.bytes()));
    source.check()?;
    let digest = digest?;
    if let Some((file, (identity, opened_at))) = indexed {
        let span = clock.start(Phase::KeyLookup);
        if file.unchanged_since_open() {
            // The index only saves time: a file it cannot take is hashed again next time.
            let _ = index.insert(identity, algo, &digest, *opened_at, mac_key);
        }
        clock.end(span);
    }
    Ok(digest)
}

/// Where a compiled module goes in the cache.
struct CacheEntry<'a> {
    store: &'a CacheStore,
    key: &'a CacheKey,
    fingerprint: &'a str,
    mac_key: &'a MacKey,
}

impl CacheEntry<'_> {
    /// Serializes and stores a compiled module: where it was stored (`None` when it is larger
    /// than the whole cache); a failure comes back as a warning.
    fn store(
        &self,
        compiled: &CompiledImage,
        clock: &mut PhaseClock,
    ) -> std::result::Result<Option<PathBuf>, String> {
        let span = clock.start(Phase::Serialize);
        let meta = bincode::serialize(&(&compiled.info, &compiled.layout));
        clock.end(span);
        let meta = meta.map_err(|e| format!("cannot serialize the module for the cache: {e}"))?;
        let span = clock.start(Phase::CacheStore);
        let stored = self.store.store(
            self.key,
            self.fingerprint,
            self.mac_key,
            &meta,
            &compiled.image,
        );
        clock.end(span);
        match stored {
            Ok(StoreOutcome::Stored { path, .. }) => Ok(Some(path)),
            Ok(StoreOutcome::TooLarge { .. }) => Ok(None),
            Err(e) => Err(format!("{}; continuing without caching", error_chain(&e))),
        }
    }
}

/// Turns a validated artifact into a compiled module, its code made executable in place — its
/// text moved into anonymous memory first when the engine writes a perf map: `perf` takes code
/// in a file mapping for the file's own and never looks it up in the map.
pub(crate) fn load_artifact(
    engine: &Engine,
    artifact: MappedArtifact,
) -> std::result::Result<Arc<CompiledModule>, String> {
    let (info, layout): (ModuleInfo, CodeLayout) =
        bincode::deserialize(artifact.meta()).map_err(|e| format!("bad metadata: {e}"))?;
    if !layout.matches(&info, artifact.code().len()) {
        return Err("its layout does not match its code".into());
    }
    let range = artifact.code_range();
    let (mmap, file) = artifact.into_parts();
    let anonymous_text = engine.perf_profiling() == PerfProfiling::PerfMap;
    CompiledModule::from_artifact(info, layout, mmap, range, file, anonymous_text)
        .map_err(|e| e.to_string())
}

/// Where a module's bytes come from.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// The caller's bytes: nobody else can change them while they are borrowed.
    Bytes(&'a [u8]),
    /// A module file, perhaps mapped, which another process may change.
    File(&'a ModuleFile),
}

impl Source<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Source::Bytes(bytes) => bytes,
            Source::File(file) => file.bytes(),
        }
    }

    /// What `perf` calls the module: the file's stem, else the name section's module name,
    /// else `wasm`.
    fn module_name(&self, info: &ModuleInfo) -> String {
        let stem = match self {
            Source::File(file) => file.path().file_stem().map(|s| s.to_string_lossy()),
            Source::Bytes(_) => None,
        };
        stem.map(|s| s.into_owned())
            .or_else(|| info.name.clone())
            .unwrap_or_else(|| "wasm".to_string())
    }

    /// Fails when what was read so far is not the file's (it shrank while mapped).
    fn check(&self) -> Result<()> {
        match self {
            Source::Bytes(_) => Ok(()),
            Source::File(file) => file.check(),
        }
    }

    /// A private copy of a mapped file's bytes (`None` when the bytes are private already).
    fn snapshot(&self) -> Result<Option<Vec<u8>>> {
        match self {
            Source::Bytes(_) => Ok(None),
            Source::File(file) => file.snapshot(),
        }
    }
}

/// An error and its sources, as one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Error};

    fn engine(cache: Option<&Path>) -> Engine {
        let mut config = Config::new();
        match cache {
            Some(dir) => config.cache_dir(dir),
            None => config.cache(false),
        };
        Engine::new(config).unwrap()
    }

    /// A module file truncated by another process after it was mapped: hashing or compiling
    /// it reads vanished pages, which is a read error on every path — not a SIGBUS, and no
    /// cache entry.
    #[test]
    fn a_module_file_truncated_while_mapped_is_a_read_error() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let path = dir.path().join("module.wasm");
        for engine in [engine(Some(&cache)), engine(None)] {
            std::fs::write(
                &path,
                wat::parse_str("(module (func (export \"f\")))").unwrap(),
            )
            .unwrap();
            let file = ModuleFile::open(&path).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(0)
                .unwrap();
            let loaded = Module::load(&engine, Source::File(&file), &mut PhaseClock::disabled());
            match loaded {
                Err(Error::Read { source, .. }) => {
                    assert!(source.to_string().contains("truncated"), "{source}")
                }
                Err(other) => panic!("expected a read error, got {other}"),
                Ok(_) => panic!("a truncated file loaded"),
            }
        }
        let entries = std::fs::read_dir(&cache).map_or(0, |d| d.count());
        assert_eq!(entries, 0, "a cache entry was made from a truncated file");
    }
}
