//! Runtime helpers compiled code calls through the `vmctx` libcall table (in [`Libcall`] order): bulk memory and
//! table operations, and growing. Each returns a status or a result as an `i32`; compiled code
//! turns a non-zero status into the operation's trap.

use std::sync::LazyLock;

use wasm_prof_environ::{
    Libcall,
    libcall::{LIBCALL_OK as OK, LIBCALL_TRAP as TRAP},
};

use crate::instance::Instance;

/// Addresses of the helpers, indexed by [`Libcall`].
pub(crate) static LIBCALLS: LazyLock<[usize; Libcall::COUNT]> = LazyLock::new(|| {
    Libcall::ALL.map(|libcall| match libcall {
        Libcall::MemoryGrow => memory_grow as *const () as usize,
        Libcall::MemoryCopy => memory_copy as *const () as usize,
        Libcall::MemoryFill => memory_fill as *const () as usize,
        Libcall::MemoryInit => memory_init as *const () as usize,
        Libcall::DataDrop => data_drop as *const () as usize,
        Libcall::TableGrow => table_grow as *const () as usize,
        Libcall::TableCopy => table_copy as *const () as usize,
        Libcall::TableFill => table_fill as *const () as usize,
        Libcall::TableInit => table_init as *const () as usize,
        Libcall::ElemDrop => elem_drop as *const () as usize,
    })
});

/// The instance whose code called a libcall. Only the libcalls below call this, each with the
/// vmctx compiled code passed it.
fn instance_of<'a>(vmctx: *mut u8) -> &'a mut Instance {
    // SAFETY: compiled code passes its own instance's vmctx, and that instance lives while its
    // code runs; nothing else holds a reference to the instance during a libcall.
    unsafe { Instance::from_vmctx(vmctx) }
}

fn status(ok: bool) -> u32 {
    if ok { OK } else { TRAP }
}

/// Copies `len` items within or between slices after checking both ranges.
fn copy_checked<T: Copy>(dst: &mut [T], dst_at: u32, src: &[T], src_at: u32, len: u32) -> bool {
    let (d, s, n) = (dst_at as usize, src_at as usize, len as usize);
    if d.checked_add(n).is_none_or(|end| end > dst.len())
        || s.checked_add(n).is_none_or(|end| end > src.len())
    {
        return false;
    }
    dst[d..d + n].copy_from_slice(&src[s..s + n]);
    true
}

/// `memory.copy` on one slice (ranges may overlap).
fn copy_within_checked<T: Copy>(data: &mut [T], dst: u32, src: u32, len: u32) -> bool {
    let (d, s, n) = (dst as usize, src as usize, len as usize);
    if d.checked_add(n).is_none_or(|end| end > data.len())
        || s.checked_add(n).is_none_or(|end| end > data.len())
    {
        return false;
    }
    data.copy_within(s..s + n, d);
    true
}

/// Fills `len` items from `at` after a bounds check.
fn fill_checked<T: Copy>(data: &mut [T], at: u32, value: T, len: u32) -> bool {
    let (d, n) = (at as usize, len as usize);
    match d.checked_add(n) {
        Some(end) if end <= data.len() => {
            data[d..end].fill(value);
            true
        }
        _ => false,
    }
}

extern "C" fn memory_grow(vmctx: *mut u8, memory: u32, delta: u32) -> u32 {
    let instance = instance_of(vmctx);
    instance
        .memory_mut(memory)
        .grow(u64::from(delta))
        .map_or(u32::MAX, |old| old as u32)
}

/// The bytes of memory `index`.
fn memory_bytes(instance: &mut Instance, index: u32) -> &mut [u8] {
    instance.memory_mut(index).data_mut()
}

/// The elements of table `index`.
fn table_elements(instance: &mut Instance, index: u32) -> &mut [usize] {
    instance.table_mut(index).elements_mut()
}

/// `memory.copy` and `table.copy`: within one memory or table (ranges may overlap) or from
/// one to another, with both ranges checked.
fn copy_items<T: Copy>(
    instance: &mut Instance,
    items: fn(&mut Instance, u32) -> &mut [T],
    (dst_index, src_index): (u32, u32),
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    if dst_index == src_index {
        return status(copy_within_checked(
            items(instance, dst_index),
            dst,
            src,
            len,
        ));
    }
    let src_items: *const [T] = items(instance, src_index);
    // SAFETY: distinct memories or tables own distinct storage, and nothing resizes it while
    // copying.
    let src_items = unsafe { &*src_items };
    status(copy_checked(
        items(instance, dst_index),
        dst,
        src_items,
        src,
        len,
    ))
}

extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    src_mem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    let instance = instance_of(vmctx);
    copy_items(instance, memory_bytes, (dst_mem, src_mem), dst, src, len)
}

extern "C" fn memory_fill(vmctx: *mut u8, memory: u32, dst: u32, value: u32, len: u32) -> u32 {
    let instance = instance_of(vmctx);
    status(fill_checked(
        instance.memory_mut(memory).data_mut(),
        dst,
        value as u8,
        len,
    ))
}

extern "C" fn memory_init(
    vmctx: *mut u8,
    memory: u32,
    segment: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    let instance = instance_of(vmctx);
    let bytes: *const [u8] = instance.data_segment(segment);
    // SAFETY: segment bytes live in the module, which the instance keeps alive; they are never
    // part of a linear memory.
    let bytes = unsafe { &*bytes };
    status(copy_checked(
        instance.memory_mut(memory).data_mut(),
        dst,
        bytes,
        src,
        len,
    ))
}

extern "C" fn data_drop(vmctx: *mut u8, segment: u32) -> u32 {
    instance_of(vmctx).drop_data(segment);
    OK
}

extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u32, init: usize) -> u32 {
    let instance = instance_of(vmctx);
    instance
        .table_mut(table)
        .grow(u64::from(delta), init)
        .map_or(u32::MAX, |old| old as u32)
}

extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    let instance = instance_of(vmctx);
    copy_items(
        instance,
        table_elements,
        (dst_table, src_table),
        dst,
        src,
        len,
    )
}

extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, value: usize, len: u32) -> u32 {
    let instance = instance_of(vmctx);
    status(fill_checked(
        instance.table_mut(table).elements_mut(),
        dst,
        value,
        len,
    ))
}

extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    segment: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    let instance = instance_of(vmctx);
    let items: *const [usize] = instance.element_segment(segment);
    // SAFETY: passive element items are owned by the instance and never resized by table ops.
    let items = unsafe { &*items };
    status(copy_checked(
        instance.table_mut(table).elements_mut(),
        dst,
        items,
        src,
        len,
    ))
}

extern "C" fn elem_drop(vmctx: *mut u8, segment: u32) -> u32 {
    instance_of(vmctx).drop_elements(segment);
    OK
}
