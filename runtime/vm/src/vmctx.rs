//! The records compiled code reads through a `vmctx`, laid out as
//! [`wasm_prof_environ::vmoffsets`] says; the assertions below fail the build if the two ever
//! disagree.

use std::{mem::offset_of, sync::atomic::AtomicU64};

use wasm_prof_environ::vmoffsets as offsets;

/// A function reference as compiled code sees it (a table element points to one of these).
#[repr(C)]
pub struct VMFuncRef {
    /// Entry of the function, wasm calling convention.
    pub func_ptr: *const u8,
    /// The `vmctx` (or host context) to pass as the callee context.
    pub vmctx: *mut u8,
    /// Process-wide type id (see `signatures`), compared by `call_indirect`.
    pub type_id: u32,
}

/// A linear memory's base and current length.
#[repr(C)]
pub struct VMMemory {
    /// The first byte.
    pub base: *mut u8,
    /// Accessible bytes.
    pub length: usize,
}

/// A table's element array and current length.
#[repr(C)]
pub struct VMTable {
    /// The first element (0 is a null reference).
    pub base: *mut usize,
    /// Number of elements.
    pub length: usize,
    /// Non-zero while some elements still hold their initial function lazily
    /// ([`crate::table`]): compiled `table.set` then has them written first.
    pub lazy: usize,
}

/// Storage of one global (16 bytes so a v128 fits).
#[repr(C, align(16))]
pub struct VMGlobal(pub u128);

/// Per-store limits compiled code checks.
#[repr(C)]
pub struct VMLimits {
    /// Lowest stack address guest code may use.
    pub stack_limit: usize,
    /// Epoch at which guest code traps with `Interrupt`.
    pub epoch_deadline: u64,
    /// The engine's epoch counter.
    pub epoch: *const AtomicU64,
}

const _: () = {
    assert!(offset_of!(VMFuncRef, func_ptr) == offsets::FUNCREF_FUNC_PTR as usize);
    assert!(offset_of!(VMFuncRef, vmctx) == offsets::FUNCREF_VMCTX as usize);
    assert!(offset_of!(VMFuncRef, type_id) == offsets::FUNCREF_TYPE_ID as usize);
    assert!(size_of::<VMFuncRef>() == offsets::FUNCREF_SIZE as usize);
    assert!(offset_of!(VMMemory, base) == offsets::BASE as usize);
    assert!(offset_of!(VMMemory, length) == offsets::LENGTH as usize);
    assert!(offset_of!(VMTable, base) == offsets::BASE as usize);
    assert!(offset_of!(VMTable, length) == offsets::LENGTH as usize);
    assert!(offset_of!(VMTable, lazy) == offsets::TABLE_LAZY as usize);
    assert!(offset_of!(VMLimits, stack_limit) == offsets::LIMITS_STACK as usize);
    assert!(offset_of!(VMLimits, epoch_deadline) == offsets::LIMITS_DEADLINE as usize);
    assert!(offset_of!(VMLimits, epoch) == offsets::LIMITS_EPOCH as usize);
    assert!(size_of::<VMGlobal>() == 16);
};
