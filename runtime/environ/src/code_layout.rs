//! Where everything is in a code image, and the encoding of its trap table.
//!
//! A code image is the compiled functions and trampolines, then, from the next page on,
//! read-only data that a cache hit uses straight from the mapped artifact, without
//! deserializing it: the trap table (sorted code offsets as little-endian `u32`s, then one
//! [`TrapKind`] code byte per offset), the exception table ([`crate::exception_table`]), the
//! bytes of the data segments that are copied at instantiation, and the page-aligned memory
//! images.

use serde::{Deserialize, Serialize};

use crate::{memory_image::MemoryImage, module_info::ModuleInfo, trap::TrapKind};

/// No trampoline for this type index.
pub const NONE: u32 = u32::MAX;

/// Where everything is in a code image; serialized into cache artifacts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CodeLayout {
    /// Length of the executable part (functions and trampolines), a multiple of the page size
    /// the image was built for; everything after it is read-only data.
    pub text_len: u32,
    /// End of the last function or trampoline: from here to `text_len` is padding.
    pub code_end: u32,
    /// Offset and length of each defined function.
    pub funcs: Vec<(u32, u32)>,
    /// Host-to-wasm trampoline offset per type index ([`NONE`] when absent).
    pub entry_trampolines: Vec<u32>,
    /// Wasm-to-host trampoline offset per type index ([`NONE`] when absent).
    pub host_trampolines: Vec<u32>,
    /// Image offset of the trap table and its number of entries.
    pub traps: (u32, u32),
    /// Image offset and encoded length of the exception table, and its number of call sites.
    pub exceptions: (u32, u32, u32),
    /// Image offset and length of the data segments' bytes.
    pub data: (u32, u32),
    /// The memory images, at most one per defined memory.
    pub memory_images: Vec<MemoryImage>,
}

impl CodeLayout {
    /// Whether the layout fits an image of `len` bytes and agrees with `info`: one entry per
    /// defined function and per type, data segments inside the data blob, and each memory
    /// image inside the initial size of a memory the module defines.
    pub fn matches(&self, info: &ModuleInfo, len: usize) -> bool {
        let initial_bytes = |memory: u32| {
            (memory >= info.num_imported_memories)
                .then(|| info.memories.get(memory as usize))
                .flatten()
                .map(|m| m.limits.min.saturating_mul(1 << 16))
        };
        self.funcs.len() == info.num_defined_funcs()
            && self.entry_trampolines.len() == info.types.len()
            && self.host_trampolines.len() == info.types.len()
            && self.fits(len)
            && info
                .data
                .listed()
                .all(|(_, d)| u64::from(d.offset) + u64::from(d.len) <= u64::from(self.data.1))
            && self.memory_images.iter().all(|i| {
                initial_bytes(i.memory)
                    .is_some_and(|size| i.memory_offset.saturating_add(u64::from(i.len)) <= size)
            })
            && (!info.data.has_imaged() || !self.memory_images.is_empty())
    }

    /// Whether every range the layout names lies within an image of `len` bytes.
    fn fits(&self, len: usize) -> bool {
        let inside = |offset: u32, size: u64| u64::from(offset) + size <= len as u64;
        let text = |offset: u32, size: u64| u64::from(offset) + size <= u64::from(self.code_end);
        inside(self.text_len, 0)
            && self.code_end <= self.text_len
            && self.funcs.iter().all(|(o, l)| text(*o, u64::from(*l)))
            && self
                .entry_trampolines
                .iter()
                .chain(&self.host_trampolines)
                .all(|o| *o == NONE || text(*o, 1))
            && inside(self.traps.0, trap_table_len(self.traps.1))
            && self.traps.0.is_multiple_of(4)
            && inside(self.exceptions.0, u64::from(self.exceptions.1))
            && inside(self.data.0, u64::from(self.data.1))
            && self
                .memory_images
                .iter()
                .all(|i| inside(i.image_offset, u64::from(i.len)))
    }
}

/// The trap recorded at code offset `offset`, read from the image's trap table.
pub fn trap_at(image: &[u8], layout: &CodeLayout, offset: u32) -> Option<TrapKind> {
    let (start, count) = (layout.traps.0 as usize, layout.traps.1 as usize);
    let offsets = &image[start..start + count * 4];
    let at = |i: usize| u32::from_le_bytes(offsets[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
    let (mut low, mut high) = (0, count);
    while low < high {
        let mid = low + (high - low) / 2;
        if at(mid) < offset {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    if low < count && at(low) == offset {
        TrapKind::from_code(image[start + count * 4 + low])
    } else {
        None
    }
}

/// Appends the trap table of `traps` (sorted by offset) to `image`: the offsets, then the kinds.
pub fn encode_trap_table(image: &mut Vec<u8>, traps: &[(u32, TrapKind)]) {
    debug_assert!(traps.is_sorted_by_key(|(offset, _)| *offset));
    image.extend(traps.iter().flat_map(|(offset, _)| offset.to_le_bytes()));
    image.extend(traps.iter().map(|(_, kind)| *kind as u8));
}

/// Bytes a trap table of `count` entries takes.
pub fn trap_table_len(count: u32) -> u64 {
    u64::from(count) * 5
}
