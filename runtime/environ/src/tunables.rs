//! Choices about memories that both the generated code and the VM depend on.

/// Bytes of address space reserved for each linear memory, guard excluded.
/// 4 GiB of addressable range plus a 2 GiB guard ([`MEMORY_GUARD`]) lets compiled code skip
/// bounds checks for every access to a 32-bit memory whose static offset is below 2 GiB. A
/// 64-bit memory gets the same reservation (so it holds at most 4 GiB) and explicit checks.
pub const MEMORY_RESERVATION: u64 = 4 << 30;
/// Guard bytes after the 4 GiB addressable range.
pub const MEMORY_GUARD: u64 = 2 << 30;
/// Bytes in a WebAssembly page.
pub const WASM_PAGE_SIZE: u64 = 1 << 16;
/// The most pages a memory can have here: all of a 32-bit memory's 4 GiB, and the same cap for
/// a 64-bit memory, which lives in the same reservation.
pub const MAX_WASM_PAGES: u64 = 1 << 16;
