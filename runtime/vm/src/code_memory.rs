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
    /// `text_len` bytes are code. Where the file system forbids executing mapped files (a
    /// `noexec` mount), the image is copied into fresh pages instead.
    pub fn from_mapping(map: MmapMut, range: Range<usize>, text_len: usize) -> Result<Self> {
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
        match code.protect() {
            Ok(()) => Ok(code),
            Err(_) => Self::from_image(code.bytes(), text_len),
        }
    }

    /// Makes the text read+execute and the rest read-only. The text's end is rounded up to
    /// this system's page size (on a system with larger pages than the image was built for,
    /// some read-only data is executable too).
    fn protect(&self) -> std::result::Result<(), region::Error> {
        let text_end = self
            .text_len
            .next_multiple_of(region::page::size())
            .min(self.range.len());
        let text = self.range.start..self.range.start + text_end;
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
