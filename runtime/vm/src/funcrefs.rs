//! An instance's function references (`VMFuncRef` records), filled on first use.
//!
//! Instantiating a module with tens of thousands of functions used to write a record for each;
//! most are never taken as a reference. The records now start zeroed (fresh pages the kernel
//! provides on first touch, no work per function) and a defined function's record is written
//! when a reference to it is first made: by `ref.func` (compiled code checks the record and
//! calls the `RefFunc` helper when it is empty), by a table element resolved on first use
//! ([`crate::table`]), or by a constant expression or segment the instance evaluates. A record
//! is therefore complete before any reference to it exists, and compiled code that reads one
//! through a reference never sees it empty. Imported functions' records are written at
//! instantiation.

use std::{
    alloc::{self, Layout},
    ptr::NonNull,
    sync::Arc,
};

use memmap2::MmapMut;

use crate::{
    compiled_module::CompiledModule,
    error::{Result, VmError},
    vmctx::VMFuncRef,
};

/// The zero-initialised array of one instance's function references, which it owns. The
/// records are reached through [`FuncRefs`] views, by raw pointer only (compiled code, the
/// instance and its lazily initialised tables all write to them), never through Rust
/// references that would claim them exclusively.
pub(crate) struct FuncRefArray {
    refs: FuncRefs,
    /// Where the records live: a large array in its own anonymous mapping, whose pages the
    /// kernel zeroes on first touch (a heap allocation of that size would be cleared, and so
    /// touched, whole), a small one on the heap.
    storage: Storage,
}

enum Storage {
    Heap(Layout),
    Mapped(#[expect(dead_code, reason = "held for its drop, which unmaps the records")] MmapMut),
}

/// Arrays of at least this many bytes get their own mapping.
const MAPPED_FROM: usize = 16 << 10;

impl FuncRefArray {
    /// `len` empty records. All-zero bytes are a valid `VMFuncRef` (null pointers, type id 0):
    /// the empty record.
    pub(crate) fn zeroed(len: usize) -> Result<Self> {
        let layout = Layout::array::<VMFuncRef>(len)
            .map_err(|_| VmError::Limit(format!("{len} function references do not fit")))?;
        let (base, storage) = if layout.size() >= MAPPED_FROM {
            let mut map = MmapMut::map_anon(layout.size()).map_err(|e| {
                VmError::Limit(format!("cannot map {len} function references: {e}"))
            })?;
            (map.as_mut_ptr(), Storage::Mapped(map))
        } else if layout.size() == 0 {
            (
                NonNull::<VMFuncRef>::dangling().as_ptr().cast(),
                Storage::Heap(layout),
            )
        } else {
            // SAFETY: the layout has a non-zero size (checked above).
            let raw = unsafe { alloc::alloc_zeroed(layout) };
            if raw.is_null() {
                alloc::handle_alloc_error(layout)
            }
            (raw, Storage::Heap(layout))
        };
        let base = NonNull::new(base.cast::<VMFuncRef>()).expect("allocations are not null");
        Ok(Self {
            refs: FuncRefs { base, len },
            storage,
        })
    }

    /// A view of the records, valid while `self` lives.
    pub(crate) fn refs(&self) -> FuncRefs {
        self.refs
    }
}

impl Drop for FuncRefArray {
    fn drop(&mut self) {
        if let Storage::Heap(layout) = self.storage
            && layout.size() != 0
        {
            // SAFETY: allocated in `zeroed` with this very layout; views outlive the array
            // only inside the same store, which drops them unused.
            unsafe { alloc::dealloc(self.refs.base.as_ptr().cast(), layout) }
        }
    }
}

/// A view of an instance's [`FuncRefArray`]: its instance and that instance's tables keep one.
#[derive(Clone, Copy)]
pub(crate) struct FuncRefs {
    base: NonNull<VMFuncRef>,
    len: usize,
}

impl FuncRefs {
    /// Address of the first record (what the `vmctx` points compiled code to).
    pub(crate) fn base(self) -> *mut VMFuncRef {
        self.base.as_ptr()
    }

    /// Address of record `index`.
    fn slot(self, index: u32) -> *mut VMFuncRef {
        assert!((index as usize) < self.len, "function index out of range");
        // SAFETY: `index` is below `len` (checked above), so the result lies in the array.
        unsafe { self.base.as_ptr().add(index as usize) }
    }

    /// Writes record `index`.
    pub(crate) fn set(self, index: u32, record: VMFuncRef) {
        // SAFETY: the slot lies in the array, which lives as long as the store that holds this
        // view; no Rust reference to a record exists (see [`FuncRefArray`]), and a store runs
        // on one thread at a time.
        unsafe { self.slot(index).write(record) }
    }
}

/// One instance's function references together with what a defined function's record holds
/// (its code in the instance's module, the instance's `vmctx`, the function type's
/// process-wide id): the instance and its lazily initialised tables keep one.
#[derive(Clone)]
pub(crate) struct FuncRefOwner {
    /// The instance's records.
    pub refs: FuncRefs,
    /// The instance's module.
    pub module: Arc<CompiledModule>,
    /// The instance's `vmctx`.
    pub vmctx: *mut u8,
}

impl FuncRefOwner {
    /// Address of the record of function `index`, written first when empty.
    pub(crate) fn get(&self, index: u32) -> usize {
        let slot = self.refs.slot(index);
        // SAFETY: as in `FuncRefs::set`; the code pointer tells an empty record from a full
        // one.
        if unsafe { (*slot).func_ptr }.is_null() {
            self.refs.set(index, self.record(index));
        }
        slot as usize
    }

    /// The record of function `index`, which must be a defined one (imported functions'
    /// records are written at instantiation and never empty).
    fn record(&self, index: u32) -> VMFuncRef {
        let info = self.module.info();
        let defined = index
            .checked_sub(info.num_imported_funcs)
            .expect("imported functions' records are written at instantiation");
        VMFuncRef {
            func_ptr: self.module.func_ptr(defined as usize),
            vmctx: self.vmctx,
            type_id: self.module.type_ids()[info.functions[index as usize] as usize],
        }
    }
}
