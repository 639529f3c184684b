//! Executable memory: publishing a code image's text read+execute and the rest of it (trap
//! table, data, memory images) read-only — never writable and executable at once.

use std::ops::Range;

use memmap2::MmapMut;

use crate::error::{Result, VmError};

/// A module's code image: the first `text_len` bytes read+execute, the rest read-only.
pub struct CodeMemory {
    map: MmapMut,
    range: Range<usize>,
    text_len: usize,
}

impl CodeMemory {
    /// Copies `image` into fresh pages and publishes it; its first `text_len` bytes are code.
    pub fn from_image(image: &[u8], text_len: usize) -> Result<Self> {
        let mut map = MmapMut::map_anon(image.len().max(1))
            .map_err(|e| VmError::CodeMemory(format!("cannot map {} bytes: {e}", image.len())))?;
        map[..image.len()].copy_from_slice(image);
        let code = Self {
            map,
            range: 0..image.len(),
            text_len,
        };
        code.protect()
            .map_err(|e| VmError::CodeMemory(format!("cannot make code executable: {e}")))?;
        Ok(code)
    }

    /// Publishes `range` of an existing private mapping (a cache artifact) in place; its first
    /// `text_len` bytes are code. With `anonymous_text`, the text is first moved into
    /// anonymous memory at the same address (the rest stays mapped from the file): `perf`
    /// looks code up in a perf map only when it lies outside any file. Where the file system
    /// forbids executing mapped files (a `noexec` mount), the image is copied into fresh pages
    /// instead.
    pub fn from_mapping(
        map: MmapMut,
        range: Range<usize>,
        text_len: usize,
        anonymous_text: bool,
    ) -> Result<Self> {
        if range.end > map.len() || !range.start.is_multiple_of(region::page::size()) {
            return Err(VmError::CodeMemory(
                "code range is outside the mapping or not page-aligned".into(),
            ));
        }
        let code = Self {
            map,
            range,
            text_len,
        };
        if anonymous_text {
            code.make_text_anonymous().map_err(|e| {
                VmError::CodeMemory(format!("cannot move the code into anonymous memory: {e}"))
            })?;
        }
        match code.protect() {
            Ok(()) => Ok(code),
            Err(_) => Self::from_image(code.bytes(), text_len),
        }
    }

    /// The text's pages, from the start of the image to the end of the page holding its
    /// last byte.
    fn text_pages(&self) -> Range<usize> {
        let end = self
            .text_len
            .next_multiple_of(region::page::size())
            .min(self.range.len());
        self.range.start..self.range.start + end
    }

    /// Replaces the text's file-backed pages with anonymous pages holding the same bytes.
    fn make_text_anonymous(&self) -> std::io::Result<()> {
        let text = self.text_pages();
        if text.is_empty() {
            return Ok(());
        }
        let mut copy = MmapMut::map_anon(text.len())?;
        copy.copy_from_slice(&self.map[text.clone()]);
        // SAFETY: `copy` is a whole anonymous mapping of `text.len()` bytes; the target is a
        // page-aligned range inside `self.map` (its start is checked to be page-aligned and its
        // length is a multiple of the page size, clamped to the mapping), which nothing
        // borrows now. The kernel moves `copy`'s pages there, replacing the file's, and
        // unmaps `copy`'s old address; `self.map` still spans the range and unmaps it on drop.
        let moved = unsafe {
            libc::mremap(
                copy.as_mut_ptr().cast(),
                text.len(),
                text.len(),
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                self.map
                    .as_ptr()
                    .add(text.start)
                    .cast_mut()
                    .cast::<libc::c_void>(),
            )
        };
        if moved == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // Its pages live on at the target: dropping it would unmap its old address, which
        // the kernel has already unmapped and may have handed to someone else.
        std::mem::forget(copy);
        Ok(())
    }

    /// Makes the text read+execute and the rest read-only. The text's end is rounded up to
    /// this system's page size (on a system with larger pages than the image was built for,
    /// some read-only data is executable too).
    fn protect(&self) -> std::result::Result<(), region::Error> {
        let text = self.text_pages();
        protect_range(&self.map, &text, region::Protection::READ_EXECUTE)?;
        protect_range(
            &self.map,
            &(text.end..self.range.end),
            region::Protection::READ,
        )
    }

    /// Address of the first byte of code.
    pub fn base(&self) -> *const u8 {
        // SAFETY: `range.start` is within the mapping.
        unsafe { self.map.as_ptr().add(self.range.start) }
    }

    /// The code bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map[self.range.clone()]
    }

    /// Address range of the executable code.
    pub fn address_range(&self) -> Range<usize> {
        let start = self.base() as usize;
        start..start + self.text_len.min(self.range.len())
    }
}

/// Makes `range` of `map` `protection` (never writable again).
fn protect_range(
    map: &MmapMut,
    range: &Range<usize>,
    protection: region::Protection,
) -> std::result::Result<(), region::Error> {
    if range.is_empty() {
        return Ok(());
    }
    // SAFETY: the range lies inside `map`; its owner keeps no Rust reference to those bytes
    // that writes through them, and from now on they are only executed or read.
    unsafe { region::protect(map.as_ptr().add(range.start), range.len(), protection) }
}
