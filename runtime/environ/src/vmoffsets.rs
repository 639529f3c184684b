//! The layout of the per-instance context (`vmctx`) that compiled code reads, and of the records
//! it points to. The compiler and the VM both take offsets from here, so the two sides cannot
//! disagree; the VM's `repr(C)` records assert at compile time that they match.

use crate::module_info::ModuleInfo;

/// Offset of a function reference's entry point (the VM's `VMFuncRef::func_ptr`).
pub const FUNCREF_FUNC_PTR: i32 = 0;
/// Offset of a function reference's callee context (`VMFuncRef::vmctx`).
pub const FUNCREF_VMCTX: i32 = 8;
/// Offset of a function reference's type id (`VMFuncRef::type_id`).
pub const FUNCREF_TYPE_ID: i32 = 16;
/// Size of a function reference (`VMFuncRef`).
pub const FUNCREF_SIZE: i64 = 24;
/// Offset of the tag pointer (the tag's identity) in an exception record (`VMException`).
pub const EXCEPTION_TAG: i32 = 0;
/// Offset of the pointer to an exception's values (value slots) in its record.
pub const EXCEPTION_VALUES: i32 = 8;
/// Bytes per value slot: host calls pass arguments and results in these slots, `throw` passes
/// an exception's values in them, and exception records keep their values in them (the VM's
/// `u128`).
pub const VALUE_SLOT: i32 = 16;

/// Offset of the base address in a memory's or table's record (`VMMemory`, `VMTable`).
pub const BASE: i32 = 0;
/// Offset of the current length in a memory's (bytes) or table's (elements) record.
pub const LENGTH: i32 = 8;
/// Offset of a table record's `lazy` word (`VMTable::lazy`): non-zero while some elements
/// still hold their initial function lazily, so a `table.set` must have them written first.
pub const TABLE_LAZY: i32 = 16;
/// Offset of the lowest usable stack address in the per-store limits (`VMLimits`).
pub const LIMITS_STACK: i32 = 0;
/// Offset of the epoch deadline in the per-store limits.
pub const LIMITS_DEADLINE: i32 = 8;
/// Offset of the pointer to the engine's epoch counter in the per-store limits.
pub const LIMITS_EPOCH: i32 = 16;

/// Offset of the pointer to the VM's instance record in a `vmctx`.
pub const VMCTX_INSTANCE: i32 = 0;
/// Offset of the pointer to the store's limits in a `vmctx`.
pub const VMCTX_LIMITS: i32 = 8;
/// Offset of the pointer to the libcall table (indexed by [`crate::Libcall`]) in a `vmctx`.
pub const VMCTX_LIBCALLS: i32 = 16;
/// Offset of the pointer to the instance's type ids (one per type index) in a `vmctx`.
pub const VMCTX_TYPE_IDS: i32 = 24;
/// Offset of the pointer to the instance's function references in a `vmctx`.
pub const VMCTX_FUNCREFS: i32 = 32;
const HEADER: u32 = 40;

/// Where each field of a module's `vmctx` lives.
///
/// Layout: header, then one `{func_ptr, vmctx}` pair per imported function, then one pointer per
/// memory, table, global and tag record, imported or defined. A tag's record is its identity:
/// two tags are the same tag exactly when their records are at the same address.
#[derive(Clone, Copy, Debug)]
pub struct VMOffsets {
    imported_funcs: u32,
    memories: u32,
    tables: u32,
    globals: u32,
    tags: u32,
}

impl VMOffsets {
    /// The layout of `info`'s vmctx.
    pub fn new(info: &ModuleInfo) -> Self {
        Self {
            imported_funcs: info.num_imported_funcs,
            memories: info.memories.len() as u32,
            tables: info.tables.len() as u32,
            globals: info.globals.len() as u32,
            tags: info.tags.len() as u32,
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

    /// The pointer to memory `index`'s base-and-length record.
    pub fn memory(&self, index: u32) -> i32 {
        (self.memories_start() + index * 8) as i32
    }

    fn tables_start(&self) -> u32 {
        self.memories_start() + self.memories * 8
    }

    /// The pointer to table `index`'s base-and-length record.
    pub fn table(&self, index: u32) -> i32 {
        (self.tables_start() + index * 8) as i32
    }

    fn globals_start(&self) -> u32 {
        self.tables_start() + self.tables * 8
    }

    /// The pointer to global `index`'s 16-byte storage.
    pub fn global(&self, index: u32) -> i32 {
        (self.globals_start() + index * 8) as i32
    }

    fn tags_start(&self) -> u32 {
        self.globals_start() + self.globals * 8
    }

    /// The pointer to tag `index`'s record (its identity).
    pub fn tag(&self, index: u32) -> i32 {
        (self.tags_start() + index * 8) as i32
    }

    /// Total size in bytes.
    pub fn size(&self) -> usize {
        (self.tags_start() + self.tags * 8) as usize
    }
}
