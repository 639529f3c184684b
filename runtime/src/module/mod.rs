//! Modules: bytes in, a validated, compiled module out — from the cache when possible.

pub mod info;
pub(crate) mod parse;

use std::{fs::File, path::Path, sync::Arc};

use crate::{
    cache::{CacheKey, CacheStore, MappedArtifact},
    code::{self, CodeMemory},
    compile::{
        self,
        link::CodeLayout,
        memory_image::{self, MemoryImage},
    },
    engine::Engine,
    error::{Error, Result, TrapKind},
    phases::{Phase, PhaseClock},
};
use info::ModuleInfo;

/// A compiled module, ready to instantiate; cheap to clone.
#[derive(Clone)]
pub struct Module(pub(crate) Arc<ModuleInner>);

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

pub(crate) struct ModuleInner {
    pub info: ModuleInfo,
    pub layout: CodeLayout,
    code: CodeMemory,
    /// The artifact the code was loaded from, for mapping memory images copy-on-write.
    artifact: Option<ArtifactFile>,
    cache: CacheOutcome,
    cache_warnings: Vec<String>,
}

/// An open cache artifact and where the code image starts in it.
struct ArtifactFile {
    file: File,
    code_offset: u64,
}

impl Drop for ModuleInner {
    fn drop(&mut self) {
        code::unregister(self.code.address_range().start);
    }
}

impl ModuleInner {
    /// Address of the code image.
    pub fn code_base(&self) -> usize {
        self.code.base() as usize
    }

    /// Address of defined function `defined`.
    pub fn func_ptr(&self, defined: usize) -> *const u8 {
        self.at(self.layout.funcs[defined].0)
    }

    fn at(&self, offset: u32) -> *const u8 {
        // SAFETY: layout offsets lie inside the code image.
        unsafe { self.code.base().add(offset as usize) }
    }

    /// The host-to-wasm trampoline for type `type_index`.
    pub fn entry_trampoline(&self, type_index: u32) -> *const u8 {
        self.at(self.layout.entry_trampolines[type_index as usize])
    }

    /// The wasm-to-host trampoline for type `type_index` (the type of an imported function).
    pub fn host_trampoline(&self, type_index: u32) -> *const u8 {
        self.at(self.layout.host_trampolines[type_index as usize])
    }

    /// The trap recorded at image offset `offset`.
    pub fn trap_at(&self, offset: usize) -> Option<TrapKind> {
        let offset = u32::try_from(offset).ok()?;
        compile::link::trap_at(self.code.bytes(), &self.layout, offset)
    }

    /// The bytes of data segment `index` (none for a segment in a memory image).
    pub fn data_segment(&self, index: u32) -> &[u8] {
        let Some(segment) = self.info.data.get(index) else {
            return &[];
        };
        let start = (self.layout.data.0 + segment.offset) as usize;
        &self.code.bytes()[start..start + segment.len as usize]
    }

    /// The initial bytes of a memory image.
    pub fn memory_image_bytes(&self, image: &MemoryImage) -> &[u8] {
        &self.code.bytes()[image.image_offset as usize..][..image.len as usize]
    }

    /// The artifact file holding `image` and the image's offset in it, when the module was
    /// loaded from the cache (so the image can be mapped rather than copied).
    pub fn memory_image_file(&self, image: &MemoryImage) -> Option<(&File, u64)> {
        self.artifact
            .as_ref()
            .map(|a| (&a.file, a.code_offset + u64::from(image.image_offset)))
    }

    /// The function index (imports included) whose code contains image offset `offset`.
    pub fn func_at(&self, offset: u32) -> Option<u32> {
        let i = self
            .layout
            .funcs
            .partition_point(|(start, _)| *start <= offset)
            .checked_sub(1)?;
        let (start, len) = self.layout.funcs[i];
        (offset < start + len).then_some(self.info.num_imported_funcs + i as u32)
    }
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
            let (info, image, layout) = compile_bytes(engine, bytes, clock)?;
            let mut warnings = Vec::new();
            if let Some(why) = engine.cache_unavailable() {
                warnings.push(format!("{why}; running without the cache"));
            }
            return publish(
                info,
                layout,
                &image,
                CacheOutcome::Disabled,
                warnings,
                clock,
            );
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
                    Ok((info, layout, code, artifact)) => {
                        return Ok(Self::assemble(
                            ModuleParts {
                                info,
                                layout,
                                code,
                                artifact: Some(artifact),
                            },
                            CacheOutcome::Hit,
                            warnings,
                        ));
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
        let (info, image, layout) = compile_bytes(engine, bytes, clock)?;
        let entry = CacheEntry {
            store: cache,
            key: &key,
            fingerprint: engine.fingerprint(),
        };
        if let Err(warning) = entry.store(&info, &layout, &image, clock) {
            warnings.push(warning);
        }
        publish(info, layout, &image, CacheOutcome::Miss, warnings, clock)
    }

    fn assemble(parts: ModuleParts, cache: CacheOutcome, cache_warnings: Vec<String>) -> Module {
        let range = parts.code.address_range();
        let inner = Arc::new_cyclic(|weak| {
            code::register(range, weak.clone());
            ModuleInner {
                info: parts.info,
                layout: parts.layout,
                code: parts.code,
                artifact: parts.artifact,
                cache,
                cache_warnings,
            }
        });
        Module(inner)
    }

    /// The module's types, imports, exports and segments.
    pub fn info(&self) -> &ModuleInfo {
        &self.0.info
    }

    /// Bytes of machine code (functions and trampolines).
    pub fn code_size(&self) -> usize {
        self.0.code.bytes().len()
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

/// What a module is made of, before it is registered.
struct ModuleParts {
    info: ModuleInfo,
    layout: CodeLayout,
    code: CodeMemory,
    artifact: Option<ArtifactFile>,
}

/// Parses, validates, compiles and links `bytes`, recording each phase.
fn compile_bytes(
    engine: &Engine,
    bytes: &[u8],
    clock: &mut PhaseClock,
) -> Result<(ModuleInfo, Vec<u8>, CodeLayout)> {
    let span = clock.start(Phase::ParseValidate);
    let mut parsed = parse::parse(bytes, engine.config().features())?;
    clock.end(span);
    let functions = compile::compile_functions(
        engine.isa(),
        engine.config(),
        &parsed.info,
        parsed.bodies,
        clock,
    )?;
    let span = clock.start(Phase::Link);
    let page = region::page::size();
    let data = memory_image::plan(&mut parsed.info, &parsed.data, page as u64);
    let (image, layout) = compile::link::link(engine.isa(), &parsed.info, functions, data, page)?;
    clock.end(span);
    Ok((parsed.info, image, layout))
}

/// Makes a freshly compiled image executable (the rest of the `link` phase).
fn publish(
    info: ModuleInfo,
    layout: CodeLayout,
    image: &[u8],
    outcome: CacheOutcome,
    warnings: Vec<String>,
    clock: &mut PhaseClock,
) -> Result<Module> {
    let span = clock.start(Phase::Link);
    let code = CodeMemory::from_image(image, layout.text_len as usize)?;
    let parts = ModuleParts {
        info,
        layout,
        code,
        artifact: None,
    };
    let module = Module::assemble(parts, outcome, warnings);
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
        info: &ModuleInfo,
        layout: &CodeLayout,
        image: &[u8],
        clock: &mut PhaseClock,
    ) -> std::result::Result<(), String> {
        let span = clock.start(Phase::Serialize);
        let meta = bincode::serialize(&(info, layout));
        clock.end(span);
        let meta = meta.map_err(|e| format!("cannot serialize the module for the cache: {e}"))?;
        let span = clock.start(Phase::CacheStore);
        let stored = self.store.store(self.key, self.fingerprint, &meta, image);
        clock.end(span);
        stored
            .map(drop)
            .map_err(|e| format!("{}; continuing without caching", error_chain(&e)))
    }
}

/// Turns a validated artifact into module parts, its code made executable in place.
fn load_artifact(
    artifact: MappedArtifact,
) -> std::result::Result<(ModuleInfo, CodeLayout, CodeMemory, ArtifactFile), String> {
    let (info, layout): (ModuleInfo, CodeLayout) =
        bincode::deserialize(artifact.meta()).map_err(|e| format!("bad metadata: {e}"))?;
    if !layout.matches(&info, artifact.code().len()) {
        return Err("its layout does not match its code".into());
    }
    let range = artifact.code_range();
    let (mmap, file) = artifact.into_parts();
    let code = CodeMemory::from_mapping(mmap, range.clone(), layout.text_len as usize)
        .map_err(|e| e.to_string())?;
    let artifact = ArtifactFile {
        file,
        code_offset: range.start as u64,
    };
    Ok((info, layout, code, artifact))
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
