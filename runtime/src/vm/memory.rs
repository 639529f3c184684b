//! Linear memories: a 6 GiB reservation (4 GiB addressable plus a 2 GiB guard) of which only the
//! current size is readable and writable, so compiled code needs no bounds checks and the pages
//! stay virtual until touched.

use crate::{
    config::{MEMORY_GUARD, MEMORY_RESERVATION},
    error::{Error, Result},
    types::MemoryType,
    vm::vmctx::VMMemory,
};

const PAGE: u64 = 1 << 16;
const MAX_PAGES: u64 = 1 << 16;

/// A linear memory owned by a store.
pub(crate) struct MemoryData {
    /// What compiled code reads.
    pub vm: VMMemory,
    /// The declared type.
    pub ty: MemoryType,
    reservation: region::Allocation,
}

impl MemoryData {
    /// Reserves address space and makes the initial pages accessible.
    pub fn new(ty: MemoryType) -> Result<Box<Self>> {
        if ty.limits.min > MAX_PAGES {
            return Err(Error::Limit(format!(
                "memory of {} pages exceeds the 4 GiB of a 32-bit memory",
                ty.limits.min
            )));
        }
        let size = (MEMORY_RESERVATION + MEMORY_GUARD) as usize;
        let mut reservation = region::alloc(size, region::Protection::NONE).map_err(|e| {
            Error::Limit(format!(
                "cannot reserve 6 GiB of address space for a memory: {e}"
            ))
        })?;
        let base = reservation.as_mut_ptr::<u8>();
        let mut memory = Box::new(Self {
            vm: VMMemory { base, length: 0 },
            ty,
            reservation,
        });
        memory.commit(ty.limits.min * PAGE)?;
        Ok(memory)
    }

    /// Makes the first `bytes` of the reservation accessible.
    fn commit(&mut self, bytes: u64) -> Result<()> {
        let old = self.vm.length;
        let new = bytes as usize;
        if new > old {
            // SAFETY: `[old, new)` lies inside the reservation (new <= 4 GiB), which this memory
            // owns; nothing else refers to those pages yet.
            unsafe {
                region::protect(
                    self.reservation.as_ptr::<u8>().add(old),
                    new - old,
                    region::Protection::READ_WRITE,
                )
            }
            .map_err(|e| Error::Limit(format!("cannot commit memory pages: {e}")))?;
        }
        self.vm.length = new;
        Ok(())
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        self.vm.length as u64 / PAGE
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` when the limits forbid it.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.ty.limits.max.unwrap_or(MAX_PAGES).min(MAX_PAGES) {
            return None;
        }
        self.commit(new * PAGE).ok()?;
        Some(old)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `length` bytes from `base` are committed read-write and owned by this memory.
        unsafe { std::slice::from_raw_parts(self.vm.base, self.vm.length) }
    }

    /// The accessible bytes, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` makes this the only Rust reference.
        unsafe { std::slice::from_raw_parts_mut(self.vm.base, self.vm.length) }
    }
}
