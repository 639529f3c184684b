//! Runtime helpers compiled code calls through the `vmctx` libcall table (in [`Libcall`] order): bulk memory and
//! table operations, growing, and throwing (which [`crate::unwind`] implements). Operands arrive
//! as 64-bit integers whatever the memory's or table's address type. Each returns a status as
//! an `i32` (compiled code turns a non-zero status into the operation's trap), or, when
//! growing, the old size as an `i64`.

use std::{ops::Range, sync::LazyLock};

use wasm_prof_environ::{
    Libcall,
    libcall::{LIBCALL_OK as OK, LIBCALL_TRAP as TRAP},
};

use crate::{instance::Instance, signatures, unwind};

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
        Libcall::Throw => unwind::throw_libcall(),
        Libcall::ThrowRef => unwind::throw_ref_libcall(),
        Libcall::IsSubtype => is_subtype as *const () as usize,
        Libcall::RefFunc => ref_func as *const () as usize,
        Libcall::TableResolve => table_resolve as *const () as usize,
        Libcall::TableMaterialize => table_materialize as *const () as usize,
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

/// The range of `len` items from `at` when it lies within `bound` items (a memory, table or
/// segment of that length).
pub(crate) fn checked_range(at: u64, len: u64, bound: usize) -> Option<Range<usize>> {
    let start = usize::try_from(at).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= bound).then_some(start..end)
}

/// Copies `len` items within or between slices after checking both ranges.
fn copy_checked<T: Copy>(dst: &mut [T], dst_at: u64, src: &[T], src_at: u64, len: u64) -> bool {
    let (Some(to), Some(from)) = (
        checked_range(dst_at, len, dst.len()),
        checked_range(src_at, len, src.len()),
    ) else {
        return false;
    };
    dst[to].copy_from_slice(&src[from]);
    true
}

/// `memory.copy` on one slice (ranges may overlap).
fn copy_within_checked<T: Copy>(data: &mut [T], dst: u64, src: u64, len: u64) -> bool {
    let (Some(to), Some(from)) = (
        checked_range(dst, len, data.len()),
        checked_range(src, len, data.len()),
    ) else {
        return false;
    };
    data.copy_within(from, to.start);
    true
}

/// Fills `len` items from `at` after a bounds check.
fn fill_checked<T: Copy>(data: &mut [T], at: u64, value: T, len: u64) -> bool {
    let Some(range) = checked_range(at, len, data.len()) else {
        return false;
    };
    data[range].fill(value);
    true
}

/// `memory.grow`: the old size in pages, or all ones (-1 in either address type) when the
/// memory cannot grow by `delta` pages.
extern "C" fn memory_grow(vmctx: *mut u8, memory: u32, delta: u64) -> u64 {
    let instance = instance_of(vmctx);
    instance.memory_mut(memory).grow(delta).unwrap_or(u64::MAX)
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
/// one to another, with both ranges checked. `same` says whether the two indices resolve to
/// one storage — also when they differ, as two imports of one memory or table do.
fn copy_items<T: Copy>(
    instance: &mut Instance,
    items: fn(&mut Instance, u32) -> &mut [T],
    (dst_index, src_index): (u32, u32),
    same: bool,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    if same {
        return status(copy_within_checked(
            items(instance, dst_index),
            dst,
            src,
            len,
        ));
    }
    let src_items: *const [T] = items(instance, src_index);
    // SAFETY: the two indices resolve to distinct memories or tables (`same` is false), which
    // own distinct storage, and nothing resizes either while copying.
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
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    let instance = instance_of(vmctx);
    let same = instance.same_memory(dst_mem, src_mem);
    copy_items(
        instance,
        memory_bytes,
        (dst_mem, src_mem),
        same,
        dst,
        src,
        len,
    )
}

extern "C" fn memory_fill(vmctx: *mut u8, memory: u32, dst: u64, value: u64, len: u64) -> u32 {
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
    dst: u64,
    src: u64,
    len: u64,
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

/// `table.grow`: the old size, or all ones (-1 in either address type) when the table cannot
/// grow by `delta` elements.
extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u64, init: usize) -> u64 {
    let instance = instance_of(vmctx);
    instance
        .table_mut(table)
        .grow(delta, init)
        .unwrap_or(u64::MAX)
}

extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    let instance = instance_of(vmctx);
    let same = instance.same_table(dst_table, src_table);
    copy_items(
        instance,
        table_elements,
        (dst_table, src_table),
        same,
        dst,
        src,
        len,
    )
}

extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u64, value: usize, len: u64) -> u32 {
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
    dst: u64,
    src: u64,
    len: u64,
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

/// `ref.func` of a function whose reference record is still empty: fills it.
extern "C" fn ref_func(vmctx: *mut u8, func: u32) -> usize {
    instance_of(vmctx).funcref(func)
}

/// A null element read from a function table: its initial function when it still holds that
/// lazily, else null.
extern "C" fn table_resolve(vmctx: *mut u8, table: u32, index: u64) -> usize {
    instance_of(vmctx).table_mut(table).resolve(index as usize)
}

/// `table.set` on a table that still holds some initial functions lazily: writes them.
extern "C" fn table_materialize(vmctx: *mut u8, table: u32) -> u32 {
    instance_of(vmctx).table_mut(table).materialize();
    OK
}

extern "C" fn is_subtype(_vmctx: *mut u8, actual: u32, expected: u32) -> u32 {
    u32::from(signatures::is_subtype(actual, expected))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use wasm_prof_environ::{
        AddressType, CodeLayout, Limits, MemoryType, ModuleInfo, RefType, TableType,
    };

    use super::*;
    use crate::{
        compiled_module::CompiledModule,
        instance::instantiate,
        memory::MemoryData,
        store_data::{StoreData, StoreItem},
        table::TableData,
    };

    static EPOCH: AtomicU64 = AtomicU64::new(0);

    /// A store with one table of `1..=8` and one memory whose first bytes are `1..=8`, and an
    /// instance of a module that imports that table twice and that memory twice.
    fn instance_importing_everything_twice() -> (StoreData, usize) {
        let limits = Limits { min: 1, max: None };
        let info = ModuleInfo {
            tables: vec![
                TableType {
                    address_type: AddressType::I32,
                    element: RefType::FUNCREF,
                    limits: Limits { min: 8, max: None },
                };
                2
            ],
            num_imported_tables: 2,
            memories: vec![
                MemoryType {
                    address_type: AddressType::I32,
                    limits,
                };
                2
            ],
            num_imported_memories: 2,
            ..ModuleInfo::default()
        };
        let module = CompiledModule::from_image(info, CodeLayout::default(), &[]).unwrap();
        let mut store = StoreData::new(&EPOCH);
        let mut table = TableData::new(
            TableType {
                address_type: AddressType::I32,
                element: RefType::FUNCREF,
                limits: Limits { min: 8, max: None },
            },
            0,
        )
        .unwrap();
        for (i, slot) in table.elements_mut().iter_mut().enumerate() {
            *slot = i + 1;
        }
        store.tables.push(table);
        let mut memory = MemoryData::new(MemoryType {
            address_type: AddressType::I32,
            limits,
        })
        .unwrap();
        memory.data_mut()[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        store.memories.push(memory);
        let imports = [
            StoreItem::Table(0),
            StoreItem::Table(0),
            StoreItem::Memory(0),
            StoreItem::Memory(0),
        ];
        let index = instantiate(&mut store, &module, &imports).unwrap();
        (store, index)
    }

    /// `table.copy` and `memory.copy` between two imports of one table or memory copy within
    /// one storage, as `memmove` does — never through a shared and a mutable slice over the
    /// same elements (which std's debug checks turn into an abort).
    #[test]
    fn copies_between_two_imports_of_one_storage_overlap_correctly() {
        let (mut store, index) = instance_importing_everything_twice();
        let vmctx = store.instances[index].vmctx_ptr();
        assert_eq!(table_copy(vmctx, 0, 1, 1, 0, 6), OK);
        assert_eq!(store.tables[0].elements_mut(), [1, 1, 2, 3, 4, 5, 6, 8]);
        assert_eq!(memory_copy(vmctx, 1, 0, 0, 2, 6), OK);
        assert_eq!(&store.memories[0].data()[..8], [3, 4, 5, 6, 7, 8, 7, 8]);
        assert_eq!(table_copy(vmctx, 1, 0, 3, 0, 6), TRAP);
    }
}
