//! Modules: bytes in, a validated, compiled module out — from the cache when possible.

pub mod info;
pub(crate) mod parse;

use std::{path::Path, sync::Arc};

use crate::{
    code::{self, CodeMemory},
    compile::{self, link::CodeLayout},
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
    cache: CacheOutcome,
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
        let i = self
            .layout
            .traps
            .binary_search_by_key(&offset, |(o, _)| *o)
            .ok()?;
        Some(self.layout.traps[i].1)
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
            .time(Phase::Read, || std::fs::read(path))
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Self::from_bytes_with_clock(engine, &bytes, clock)
    }

    /// As [`Module::new`], recording every phase on `clock`.
    ///
    /// # Errors
    /// As [`Module::new`].
    pub fn from_bytes_with_clock(
        engine: &Engine,
        bytes: &[u8],
        clock: &mut PhaseClock,
    ) -> Result<Module> {
        let (info, image, layout) = compile_bytes(engine, bytes, clock)?;
        let span = clock.start(Phase::Link);
        let code = CodeMemory::from_image(&image)?;
        let module = Self::assemble(info, layout, code, CacheOutcome::Disabled);
        clock.end(span);
        Ok(module)
    }

    fn assemble(info: ModuleInfo, layout: CodeLayout, code: CodeMemory, cache: CacheOutcome) -> Module {
        let range = code.address_range();
        let inner = Arc::new_cyclic(|weak| {
            code::register(range, weak.clone());
            ModuleInner {
                info,
                layout,
                code,
                cache,
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
}

/// Parses, validates, compiles and links `bytes`, recording each phase.
fn compile_bytes(
    engine: &Engine,
    bytes: &[u8],
    clock: &mut PhaseClock,
) -> Result<(ModuleInfo, Vec<u8>, CodeLayout)> {
    let span = clock.start(Phase::ParseValidate);
    let parsed = parse::parse(bytes)?;
    clock.end(span);
    let functions = compile::compile_functions(
        engine.isa(),
        engine.config(),
        &parsed.info,
        parsed.bodies,
        clock,
    )?;
    let span = clock.start(Phase::Link);
    let (image, layout) = compile::link::link(engine.isa(), &parsed.info, functions)?;
    clock.end(span);
    Ok((parsed.info, image, layout))
}
