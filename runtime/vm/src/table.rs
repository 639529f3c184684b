//! Tables of references (function references or host references), growable.

use wasm_prof_environ::{AddressType, TableType};

use crate::{
    error::{Result, VmError},
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
            },
            ty,
            elements: vec![init; ty.limits.min as usize],
        });
        table.sync();
        Ok(table)
    }

    fn sync(&mut self) {
        self.vm.base = self.elements.as_mut_ptr();
        self.vm.length = self.elements.len();
    }

    /// The elements.
    pub fn elements(&self) -> &[usize] {
        &self.elements
    }

    /// The elements, writable.
    pub fn elements_mut(&mut self) -> &mut [usize] {
        &mut self.elements
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None` when the limits
    /// forbid it.
    pub fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
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
