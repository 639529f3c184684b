//! A compiled module's executable code and what the VM needs to run it: the module's info, the
//! code layout, and for a module loaded from a cache artifact, the artifact file (so memory
//! images can be mapped from it copy-on-write). Registered for trap attribution for as long as
//! it lives.

use std::{
    fs::File,
    ops::Range,
    sync::{Arc, OnceLock},
};

use memmap2::MmapMut;
use wasm_prof_environ::{
    CodeLayout, MemoryImage, ModuleInfo, TrapKind, VMOffsets, code_layout,
    exception_table::{ExceptionTable, Handler},
};

use crate::{
    code_memory::CodeMemory,
    code_registry,
    error::{Result, VmError},
    signatures,
};

/// What the code at an image offset is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeKind {
    /// The wasm function with this index (imports included).
    Func(u32),
    /// A host-to-wasm trampoline: the host's frames lie beyond it.
    EntryTrampoline,
    /// A wasm-to-host trampoline: a wasm caller's frame lies beyond it.
    HostTrampoline,
}

/// Where a handler takes over: its code address and the stack and frame pointers it expects.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Landing {
    /// Address of the landing pad.
    pub pc: usize,
    /// Stack pointer at the call that threw (frame pointer minus the call site's frame offset).
    pub sp: usize,
    /// The frame pointer of the handler's frame.
    pub fp: usize,
}

/// A module's code, published executable, with its info and layout; shared by its instances.
pub struct CompiledModule {
    info: ModuleInfo,
    layout: CodeLayout,
    code: CodeMemory,
    /// The artifact the code was loaded from, for mapping memory images copy-on-write.
    artifact: Option<ArtifactFile>,
    /// Start of every trampoline in the image, sorted, and whether it is an entry trampoline.
    trampolines: Vec<(u32, bool)>,
    /// The process-wide id of each of the module's types, by type index; interned when the
    /// module is first linked or instantiated, not when it is loaded.
    type_ids: OnceLock<Box<[u32]>>,
}

/// An open cache artifact and where the code image starts in it.
struct ArtifactFile {
    file: File,
    code_offset: u64,
}

impl Drop for CompiledModule {
    fn drop(&mut self) {
        code_registry::unregister(self.code.address_range().start);
    }
}

impl CompiledModule {
    /// Copies a freshly compiled `image` into executable memory.
    ///
    /// # Errors
    /// [`crate::VmError::CodeMemory`] when the memory cannot be mapped or protected.
    pub fn from_image(info: ModuleInfo, layout: CodeLayout, image: &[u8]) -> Result<Arc<Self>> {
        let code = CodeMemory::from_image(image, layout.text_len as usize)?;
        Self::register(info, layout, code, None)
    }

    /// Publishes the code image at `range` of a cache artifact's private mapping `map` in place
    /// (no copy, unless `anonymous_text` asks for the text in anonymous memory, as a perf map
    /// needs); `file` is the artifact, kept open for mapping memory images. The caller has
    /// checked that `layout` matches `info` and the image's length.
    ///
    /// # Errors
    /// [`crate::VmError::CodeMemory`] when the range is unusable or cannot be published.
    pub fn from_artifact(
        info: ModuleInfo,
        layout: CodeLayout,
        map: MmapMut,
        range: Range<usize>,
        file: File,
        anonymous_text: bool,
    ) -> Result<Arc<Self>> {
        let code_offset = range.start as u64;
        let code = CodeMemory::from_mapping(map, range, layout.text_len as usize, anonymous_text)?;
        let artifact = ArtifactFile { file, code_offset };
        Self::register(info, layout, code, Some(artifact))
    }

    /// Checks the exception table once (lookups then skip the checks) and registers the code.
    fn register(
        info: ModuleInfo,
        layout: CodeLayout,
        code: CodeMemory,
        artifact: Option<ArtifactFile>,
    ) -> Result<Arc<Self>> {
        let (start, len, count) = layout.exceptions;
        let table = code
            .bytes()
            .get(start as usize..start as usize + len as usize)
            .ok_or_else(|| VmError::CodeMemory("the exception table is out of bounds".into()))?;
        ExceptionTable::new(table, count).map_err(|e| VmError::CodeMemory(e.to_string()))?;
        let mut trampolines: Vec<(u32, bool)> = layout
            .entry_trampolines
            .iter()
            .map(|o| (*o, true))
            .chain(layout.host_trampolines.iter().map(|o| (*o, false)))
            .filter(|(o, _)| *o != code_layout::NONE)
            .collect();
        trampolines.sort_unstable();
        trampolines.dedup();
        let range = code.address_range();
        Ok(Arc::new_cyclic(|weak| {
            code_registry::register(range, weak.clone());
            Self {
                info,
                layout,
                code,
                artifact,
                trampolines,
                type_ids: OnceLock::new(),
            }
        }))
    }

    /// The module's types, imports, exports and segments.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// The process-wide id of each of the module's types, by type index: equal types of
    /// different modules have equal ids.
    pub fn type_ids(&self) -> &[u32] {
        self.type_ids
            .get_or_init(|| signatures::canonical_ids(&self.info))
    }

    /// Where everything lies in the code image.
    pub fn layout(&self) -> &CodeLayout {
        &self.layout
    }

    /// Bytes of the code image (functions, trampolines, trap table, data, memory images).
    pub fn code_size(&self) -> usize {
        self.code.bytes().len()
    }

    /// Address of the code image.
    pub(crate) fn code_base(&self) -> usize {
        self.code.base() as usize
    }

    /// The code image's bytes, as mapped.
    pub(crate) fn code_bytes(&self) -> &[u8] {
        self.code.bytes()
    }

    /// Where the functions and trampolines lie in this process: the code image's executable
    /// part (the addresses of [`CodeLayout`]'s offsets are relative to its start).
    pub fn text_range(&self) -> Range<usize> {
        self.code.address_range()
    }

    /// Address of defined function `defined`.
    pub(crate) fn func_ptr(&self, defined: usize) -> *const u8 {
        self.at(self.layout.funcs[defined].0)
    }

    fn at(&self, offset: u32) -> *const u8 {
        // SAFETY: layout offsets lie inside the code image (checked by `CodeLayout::matches`
        // for artifacts, and by construction for fresh images).
        unsafe { self.code.base().add(offset as usize) }
    }

    /// The host-to-wasm trampoline for type `type_index`.
    pub(crate) fn entry_trampoline(&self, type_index: u32) -> *const u8 {
        self.at(self.layout.entry_trampolines[type_index as usize])
    }

    /// The wasm-to-host trampoline for type `type_index` (the type of an imported function).
    pub(crate) fn host_trampoline(&self, type_index: u32) -> *const u8 {
        self.at(self.layout.host_trampolines[type_index as usize])
    }

    /// The trap recorded at image offset `offset`.
    pub(crate) fn trap_at(&self, offset: usize) -> Option<TrapKind> {
        let offset = u32::try_from(offset).ok()?;
        code_layout::trap_at(self.code.bytes(), &self.layout, offset)
    }

    /// The bytes of data segment `index` (none for a segment in a memory image).
    pub(crate) fn data_segment(&self, index: u32) -> &[u8] {
        let Some(segment) = self.info.data.get(index) else {
            return &[];
        };
        let start = (self.layout.data.0 + segment.offset) as usize;
        &self.code.bytes()[start..start + segment.len as usize]
    }

    /// The initial bytes of a memory image.
    pub(crate) fn memory_image_bytes(&self, image: &MemoryImage) -> &[u8] {
        &self.code.bytes()[image.image_offset as usize..][..image.len as usize]
    }

    /// The artifact file holding `image` and the image's offset in it, when the module was
    /// loaded from the cache (so the image can be mapped rather than copied).
    pub(crate) fn memory_image_file(&self, image: &MemoryImage) -> Option<(&File, u64)> {
        self.artifact
            .as_ref()
            .map(|a| (&a.file, a.code_offset + u64::from(image.image_offset)))
    }

    /// What the code at image offset `offset` is (`None` outside the functions and
    /// trampolines).
    pub(crate) fn code_at(&self, offset: u32) -> Option<CodeKind> {
        if let Some(index) = self.func_at(offset) {
            return Some(CodeKind::Func(index));
        }
        if offset >= self.layout.text_len {
            return None;
        }
        let i = self
            .trampolines
            .partition_point(|(start, _)| *start <= offset)
            .checked_sub(1)?;
        Some(if self.trampolines[i].1 {
            CodeKind::EntryTrampoline
        } else {
            CodeKind::HostTrampoline
        })
    }

    /// The handler for an exception of `tag` (a tag record's address) at the call that returns
    /// to image offset `return_offset` in the frame whose frame pointer is `fp`, if that call
    /// has one that catches it.
    ///
    /// # Safety
    /// `fp` must be the frame pointer of the live wasm frame of this module that made that call.
    pub(crate) unsafe fn handler(
        &self,
        return_offset: u32,
        fp: usize,
        tag: usize,
    ) -> Option<Landing> {
        let (start, len, count) = self.layout.exceptions;
        let bytes = &self.code.bytes()[start as usize..start as usize + len as usize];
        let table = ExceptionTable::trusted(bytes, count);
        let (frame_offset, handlers) = table.lookup(return_offset)?;
        let sp = fp - frame_offset as usize;
        let offsets = VMOffsets::new(&self.info);
        let mut vmctx: Option<usize> = None;
        let landing = |pad: u32| Landing {
            pc: self.code_base() + pad as usize,
            sp,
            fp,
        };
        for handler in handlers {
            match handler {
                Handler::Context { sp_offset } => {
                    // SAFETY: the call site saved its frame's vmctx at this offset from the
                    // stack pointer at the call, inside the live frame (the caller's promise).
                    vmctx = Some(unsafe { *((sp + sp_offset as usize) as *const usize) });
                }
                Handler::Tag {
                    tag: index,
                    landing_pad,
                } => {
                    let Some(vmctx) = vmctx else { continue };
                    // SAFETY: `vmctx` is the frame's instance's vmctx, whose tag pointers lie
                    // at the module's tag offsets.
                    let own = unsafe { *((vmctx + offsets.tag(index) as usize) as *const usize) };
                    if own == tag {
                        return Some(landing(landing_pad));
                    }
                }
                Handler::CatchAll { landing_pad } => return Some(landing(landing_pad)),
            }
        }
        None
    }

    /// The function index (imports included) whose code contains image offset `offset`.
    pub(crate) fn func_at(&self, offset: u32) -> Option<u32> {
        let i = self
            .layout
            .funcs
            .partition_point(|(start, _)| *start <= offset)
            .checked_sub(1)?;
        let (start, len) = self.layout.funcs[i];
        (offset < start + len).then_some(self.info.num_imported_funcs + i as u32)
    }
}
