//! The layout of the per-instance context (`vmctx`) that compiled code reads, and the records it
//! points to. The compiler and the instance builder both take offsets from [`VMOffsets`], so
//! the two sides cannot disagree.

use std::sync::atomic::AtomicU64;

use crate::module::info::ModuleInfo;

/// A function reference as compiled code sees it (a table element points to one of these).
#[repr(C)]
pub(crate) struct VMFuncRef {
    /// Entry of the function, wasm calling convention.
    pub func_ptr: *const u8,
    /// The `vmctx` (or host context) to pass as the callee context.
    pub vmctx: *mut u8,
    /// Engine-wide signature id, compared by `call_indirect`.
    pub type_id: u32,
}

/// A linear memory's base and current length.
#[repr(C)]
pub(crate) struct VMMemory {
    pub base: *mut u8,
    pub length: usize,
}

/// A table's element array and current length.
#[repr(C)]
pub(crate) struct VMTable {
    pub base: *mut usize,
    pub length: usize,
}

/// Storage of one global (16 bytes so a v128 fits).
#[repr(C, align(16))]
pub(crate) struct VMGlobal(pub u128);

/// Per-store limits compiled code checks.
#[repr(C)]
pub(crate) struct VMLimits {
    /// Lowest stack address guest code may use.
    pub stack_limit: usize,
    /// Epoch at which guest code traps with `Interrupt`.
    pub epoch_deadline: u64,
    /// The engine's epoch counter.
    pub epoch: *const AtomicU64,
}

/// Offsets of [`VMFuncRef`] fields.
pub(crate) const FUNCREF_FUNC_PTR: i32 = 0;
pub(crate) const FUNCREF_VMCTX: i32 = 8;
pub(crate) const FUNCREF_TYPE_ID: i32 = 16;
pub(crate) const FUNCREF_SIZE: i64 = 24;
/// Offsets of [`VMMemory`], [`VMTable`] fields.
pub(crate) const BASE: i32 = 0;
pub(crate) const LENGTH: i32 = 8;
/// Offsets of [`VMLimits`] fields.
pub(crate) const LIMITS_STACK: i32 = 0;
pub(crate) const LIMITS_DEADLINE: i32 = 8;
pub(crate) const LIMITS_EPOCH: i32 = 16;

/// Header fields of a `vmctx`.
pub(crate) const VMCTX_INSTANCE: i32 = 0;
pub(crate) const VMCTX_LIMITS: i32 = 8;
pub(crate) const VMCTX_LIBCALLS: i32 = 16;
pub(crate) const VMCTX_TYPE_IDS: i32 = 24;
pub(crate) const VMCTX_FUNCREFS: i32 = 32;
const HEADER: u32 = 40;

/// Where each field of a module's `vmctx` lives.
///
/// Layout: header, then one `{func_ptr, vmctx}` pair per imported function, then one pointer per
/// memory ([`VMMemory`]), table ([`VMTable`]) and global ([`VMGlobal`]), imported or defined.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VMOffsets {
    imported_funcs: u32,
    memories: u32,
    tables: u32,
    globals: u32,
}

impl VMOffsets {
    pub fn new(info: &ModuleInfo) -> Self {
        Self {
            imported_funcs: info.num_imported_funcs,
            memories: info.memories.len() as u32,
            tables: info.tables.len() as u32,
            globals: info.globals.len() as u32,
        }
    }

    /// The `{func_ptr, vmctx}` pair of imported function `index`.
    pub fn imported_func(&self, index: u32) -> i32 {
        debug_assert!(index < self.imported_funcs);
        (HEADER + index * 16) as i32
    }

    fn memories_start(&self) -> u32 {
        HEADER + self.imported_funcs * 16
    }

    /// The pointer to memory `index`'s [`VMMemory`].
    pub fn memory(&self, index: u32) -> i32 {
        (self.memories_start() + index * 8) as i32
    }

    fn tables_start(&self) -> u32 {
        self.memories_start() + self.memories * 8
    }

    /// The pointer to table `index`'s [`VMTable`].
    pub fn table(&self, index: u32) -> i32 {
        (self.tables_start() + index * 8) as i32
    }

    fn globals_start(&self) -> u32 {
        self.tables_start() + self.tables * 8
    }

    /// The pointer to global `index`'s [`VMGlobal`].
    pub fn global(&self, index: u32) -> i32 {
        (self.globals_start() + index * 8) as i32
    }

    /// Total size in bytes.
    pub fn size(&self) -> usize {
        (self.globals_start() + self.globals * 8) as usize
    }
}
