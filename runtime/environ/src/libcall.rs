//! The runtime helpers compiled code calls through the `vmctx` libcall table. The compiler
//! declares their signatures and the VM fills the table in this order, so both take the order
//! from [`Libcall`].

/// The helpers, in table order (compiled code indexes the table by this number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Libcall {
    /// `memory.grow`: (memory, delta pages) → old size in pages or `u32::MAX`.
    MemoryGrow = 0,
    /// `memory.copy`: (dst memory, src memory, dst, src, len) → status.
    MemoryCopy,
    /// `memory.fill`: (memory, dst, byte, len) → status.
    MemoryFill,
    /// `memory.init`: (memory, segment, dst, src, len) → status.
    MemoryInit,
    /// `data.drop`: (segment) → status.
    DataDrop,
    /// `table.grow`: (table, delta, init reference) → old size or `u32::MAX`.
    TableGrow,
    /// `table.copy`: (dst table, src table, dst, src, len) → status.
    TableCopy,
    /// `table.fill`: (table, dst, reference, len) → status.
    TableFill,
    /// `table.init`: (table, segment, dst, src, len) → status.
    TableInit,
    /// `elem.drop`: (segment) → status.
    ElemDrop,
    /// `throw`: (tag, address of the values in 16-byte slots) → never returns: unwinds to the
    /// handler, or out of the guest call when none catches.
    Throw,
    /// `throw_ref`: (exception reference) → never returns; traps on null.
    ThrowRef,
    /// An indirect call's type check when the ids differ: (callee's type id, expected type id)
    /// → 1 when the callee's type declares the expected one among its supertypes, else 0.
    IsSubtype,
    /// `ref.func` when the function's reference record is still empty: (function index) →
    /// the record's address, written.
    RefFunc,
    /// A null element read from a function table by `call_indirect` or `table.get`: (table,
    /// index in bounds) → the element, resolved when it still held its initial function
    /// lazily, else 0.
    TableResolve,
    /// `table.set` on a table with lazily initialised elements: (table) → status; writes them
    /// first.
    TableMaterialize,
}

impl Libcall {
    /// How many helpers the table holds.
    pub const COUNT: usize = 16;

    /// Every helper, in table order.
    pub const ALL: [Libcall; Libcall::COUNT] = [
        Libcall::MemoryGrow,
        Libcall::MemoryCopy,
        Libcall::MemoryFill,
        Libcall::MemoryInit,
        Libcall::DataDrop,
        Libcall::TableGrow,
        Libcall::TableCopy,
        Libcall::TableFill,
        Libcall::TableInit,
        Libcall::ElemDrop,
        Libcall::Throw,
        Libcall::ThrowRef,
        Libcall::IsSubtype,
        Libcall::RefFunc,
        Libcall::TableResolve,
        Libcall::TableMaterialize,
    ];
}

/// What a helper returns on success (status helpers).
pub const LIBCALL_OK: u32 = 0;
/// What a status helper returns when the operation traps.
pub const LIBCALL_TRAP: u32 = 1;

/// What a host function's dispatcher returns to its wasm-to-host trampoline when the function
/// returned: its results are in the value slots.
pub const HOST_RETURNED: u32 = 0;
/// The dispatcher's status when the host function failed: the trampoline traps.
pub const HOST_TRAPPED: u32 = 1;
/// The dispatcher's status when the host function threw an exception (or let one out of a
/// nested guest call): the first value slot holds the `exnref`, which the trampoline rethrows.
pub const HOST_THREW: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_order_is_the_discriminant_order() {
        for (i, call) in Libcall::ALL.into_iter().enumerate() {
            assert_eq!(call as usize, i);
        }
    }
}
