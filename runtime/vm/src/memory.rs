//! Linear memories: a 6 GiB reservation (4 GiB addressable plus a 2 GiB guard) of which only the
//! current size is readable and writable, so compiled code needs no bounds checks on a 32-bit
//! memory and the pages stay virtual until touched. A 64-bit memory gets the same reservation,
//! so it holds at most 4 GiB: it cannot be created larger, and growing it past that returns -1
//! (which the spec allows); compiled code bounds-checks each of its accesses.

use std::{fs::File, os::fd::AsRawFd};

use wasm_prof_environ::{
    MemoryType,
    tunables::{
        MAX_WASM_PAGES as MAX_PAGES, MEMORY_GUARD, MEMORY_RESERVATION, WASM_PAGE_SIZE as PAGE,
    },
};

use crate::{
    error::{Result, VmError},
    vmctx::VMMemory,
};

/// A linear memory owned by a store.
pub struct MemoryData {
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
            return Err(VmError::Limit(format!(
                "memory of {} pages exceeds the 4 GiB this runtime reserves for a memory",
                ty.limits.min
            )));
        }
        let size = (MEMORY_RESERVATION + MEMORY_GUARD) as usize;
        let mut reservation = region::alloc(size, region::Protection::NONE).map_err(|e| {
            VmError::Limit(format!(
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
            .map_err(|e| VmError::Limit(format!("cannot commit memory pages: {e}")))?;
        }
        self.vm.length = new;
        Ok(())
    }

    /// Puts a memory image's `bytes` at `offset`. When `file` names where the same bytes lie in
    /// a file, and every boundary is page-aligned, the file's pages are mapped there
    /// copy-on-write (private, so guest writes never reach the file); otherwise the bytes are
    /// copied.
    pub fn initialize(
        &mut self,
        offset: u64,
        bytes: &[u8],
        file: Option<(&File, u64)>,
    ) -> Result<()> {
        let fits = offset
            .checked_add(bytes.len() as u64)
            .is_some_and(|end| end <= self.vm.length as u64);
        if !fits {
            return Err(VmError::Limit(
                "a memory image extends past the memory's initial size".into(),
            ));
        }
        let offset = offset as usize;
        if let Some((file, file_offset)) = file
            && self.map_file(offset, bytes.len(), file, file_offset)?
        {
            return Ok(());
        }
        self.data_mut()[offset..offset + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// Maps `len` bytes of `file` from `file_offset` over the accessible bytes at `offset`:
    /// `Ok(true)` when mapped, `Ok(false)` (the pages still zero and accessible) when it cannot
    /// be, an error when the pages could not even be restored.
    fn map_file(
        &mut self,
        offset: usize,
        len: usize,
        file: &File,
        file_offset: u64,
    ) -> Result<bool> {
        let page = region::page::size();
        let aligned = [offset, len, file_offset as usize]
            .iter()
            .all(|n| n.is_multiple_of(page));
        let Ok(file_offset) = libc::off_t::try_from(file_offset) else {
            return Ok(false);
        };
        if !aligned || len == 0 {
            return Ok(false);
        }
        if self.map_fixed(
            offset,
            len,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            file_offset,
        ) {
            return Ok(true);
        }
        // A failed MAP_FIXED may have unmapped the range: put fresh zero pages back.
        if self.map_fixed(offset, len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) {
            Ok(false)
        } else {
            Err(VmError::Limit(
                "cannot map a memory image, nor restore the memory's pages".into(),
            ))
        }
    }

    /// Maps `len` bytes at `offset` of the accessible bytes read-write with `flags` (plus
    /// MAP_FIXED) from `fd` at `file_offset`; whether it worked.
    fn map_fixed(
        &mut self,
        offset: usize,
        len: usize,
        flags: libc::c_int,
        fd: libc::c_int,
        file_offset: libc::off_t,
    ) -> bool {
        // SAFETY: callers pass a page-aligned `[offset, offset + len)` inside this memory's
        // accessible bytes (checked by `initialize`), which this memory owns and nothing else
        // refers to yet; MAP_FIXED replaces exactly those pages of our own reservation. The
        // mappings are private, so a file is never written, and the store never truncates or
        // rewrites an artifact in place.
        let mapped = unsafe {
            libc::mmap(
                self.vm.base.add(offset).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags | libc::MAP_FIXED,
                fd,
                file_offset,
            )
        };
        mapped != libc::MAP_FAILED
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
