//! Tables of references (function references or host references), growable.
//!
//! A function table defined by an instance may start *lazy*: instead of writing every element
//! of its active segments at instantiation (thousands of function references for a large C++
//! or Go module), the table remembers those segments and an element is resolved when first
//! read — by `call_indirect` or `table.get` in compiled code, which find a null element and ask
//! `TableData::resolve`, or by the host. Anything that writes, copies, grows or fills the
//! table first applies the remembered segments in order ([`TableData::elements_mut`]), so a
//! later write is never undone; compiled `table.set` checks the record's `lazy` word and asks
//! for that before storing.

use wasm_prof_environ::{AddressType, TableType, module_info::ElementItems};

use crate::{
    error::{Result, VmError},
    funcrefs::FuncRefOwner,
    vmctx::VMTable,
};

/// The most elements a table may hold here, whatever its declared maximum.
const MAX_ELEMENTS: u64 = 10_000_000;

/// A table owned by a store. Elements are raw references: 0 is null.
pub struct TableData {
    /// What compiled code reads.
    pub vm: VMTable,
    /// The declared type.
    pub ty: TableType,
    elements: Vec<usize>,
    lazy: Option<LazyElements>,
}

/// Active element segments of function indices not yet written into a table.
struct LazyElements {
    /// The function references of the instance whose segments these are.
    owner: FuncRefOwner,
    /// The segments, in order: (first element, segment index in the owner's module).
    segments: Vec<(usize, u32)>,
}

impl LazyElements {
    /// The function indices of `segment`.
    fn items(&self, segment: u32) -> &[u32] {
        match &self.owner.module.info().elements[segment as usize].items {
            ElementItems::Funcs(funcs) => funcs,
            ElementItems::Exprs(_) => {
                unreachable!("only segments of function indices are deferred")
            }
        }
    }

    /// The reference element `index` starts with: the last segment covering it decides.
    fn initial(&self, index: usize) -> Option<usize> {
        self.segments.iter().rev().find_map(|&(at, segment)| {
            let func = self.items(segment).get(index.checked_sub(at)?)?;
            Some(self.owner.get(*func))
        })
    }
}

impl TableData {
    /// A table of `ty.limits.min` elements, each `init`.
    pub fn new(ty: TableType, init: usize) -> Result<Box<Self>> {
        if ty.limits.min > MAX_ELEMENTS {
            return Err(VmError::Limit(format!(
                "table of {} elements exceeds this runtime's limit of {MAX_ELEMENTS}",
                ty.limits.min
            )));
        }
        let mut table = Box::new(Self {
            vm: VMTable {
                base: std::ptr::null_mut(),
                length: 0,
                lazy: 0,
            },
            ty,
            elements: vec![init; ty.limits.min as usize],
            lazy: None,
        });
        table.sync();
        Ok(table)
    }

    fn sync(&mut self) {
        self.vm.base = self.elements.as_mut_ptr();
        self.vm.length = self.elements.len();
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether the table has no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Element `index`, when in bounds (a lazy element is resolved, not stored).
    pub fn get(&self, index: usize) -> Option<usize> {
        let raw = *self.elements.get(index)?;
        match &self.lazy {
            Some(lazy) if raw == 0 => Some(lazy.initial(index).unwrap_or(0)),
            _ => Some(raw),
        }
    }

    /// Element `index` (in bounds: compiled code checked it), resolved and stored when it still
    /// holds its initial function lazily; 0 when it is null.
    pub(crate) fn resolve(&mut self, index: usize) -> usize {
        let raw = self.elements[index];
        let Some(lazy) = self.lazy.as_ref().filter(|_| raw == 0) else {
            return raw;
        };
        let value = lazy.initial(index).unwrap_or(0);
        self.elements[index] = value;
        value
    }

    /// The elements, writable: lazily initialised elements are written first.
    pub fn elements_mut(&mut self) -> &mut [usize] {
        self.materialize();
        &mut self.elements
    }

    /// Makes active segment `segment` of `owner`'s module, of function indices, the initial
    /// content of elements `at..` without writing them: each is resolved on first read. The
    /// caller has checked that the segment fits.
    pub(crate) fn defer_segment(&mut self, owner: &FuncRefOwner, at: usize, segment: u32) {
        let lazy = self.lazy.get_or_insert_with(|| LazyElements {
            owner: owner.clone(),
            segments: Vec::new(),
        });
        debug_assert!(std::ptr::eq(lazy.owner.vmctx, owner.vmctx));
        lazy.segments.push((at, segment));
        self.vm.lazy = 1;
    }

    /// Writes every lazily initialised element (the deferred segments in order).
    pub(crate) fn materialize(&mut self) {
        let Some(lazy) = self.lazy.take() else {
            return;
        };
        self.vm.lazy = 0;
        for &(at, segment) in &lazy.segments {
            let items = lazy.items(segment);
            for (slot, func) in self.elements[at..at + items.len()].iter_mut().zip(items) {
                *slot = lazy.owner.get(*func);
            }
        }
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None` when the limits
    /// forbid it.
    pub fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        self.materialize();
        let old = self.elements.len() as u64;
        let new = old.checked_add(delta)?;
        let max = self.ty.limits.max.unwrap_or(match self.ty.address_type {
            AddressType::I32 => u64::from(u32::MAX),
            AddressType::I64 => u64::MAX,
        });
        if new > max || new > MAX_ELEMENTS {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }
}
