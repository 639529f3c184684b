//! Lays compiled functions and trampolines out in one code image and resolves the calls
//! between them, so the image is position-independent and can be mapped anywhere.
//!
//! After the code, from the next page on, the image carries read-only data that a cache hit uses
//! straight from the mapped artifact, without deserializing it: the trap table (sorted code
//! offsets as little-endian `u32`s, then one [`TrapKind`] code byte per offset), the bytes of the
//! data segments that are copied at instantiation, and the page-aligned memory images.

use std::collections::HashMap;

use cranelift_codegen::{binemit::Reloc, isa::TargetIsa};
use serde::{Deserialize, Serialize};

use super::{
    CompiledFunction,
    memory_image::{DataPlan, MemoryImage},
    trampolines,
};
use crate::{
    error::{Error, Result, TrapKind},
    module::info::ModuleInfo,
    types::FuncType,
};

/// No trampoline for this type index.
pub(crate) const NONE: u32 = u32::MAX;

/// Where everything is in a code image; serialized into cache artifacts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct CodeLayout {
    /// Length of the executable part (functions and trampolines), a multiple of the page size
    /// the image was built for; everything after it is read-only data.
    pub text_len: u32,
    /// Offset and length of each defined function.
    pub funcs: Vec<(u32, u32)>,
    /// Host-to-wasm trampoline offset per type index ([`NONE`] when absent).
    pub entry_trampolines: Vec<u32>,
    /// Wasm-to-host trampoline offset per type index ([`NONE`] when absent).
    pub host_trampolines: Vec<u32>,
    /// Image offset of the trap table and its number of entries.
    pub traps: (u32, u32),
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
                .map(|m| m.limits.min << 16)
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
        let text = |offset: u32, size: u64| u64::from(offset) + size <= u64::from(self.text_len);
        inside(self.text_len, 0)
            && self.funcs.iter().all(|(o, l)| text(*o, u64::from(*l)))
            && self
                .entry_trampolines
                .iter()
                .chain(&self.host_trampolines)
                .all(|o| *o == NONE || text(*o, 1))
            && inside(self.traps.0, u64::from(self.traps.1) * 5)
            && self.traps.0.is_multiple_of(4)
            && inside(self.data.0, u64::from(self.data.1))
            && self
                .memory_images
                .iter()
                .all(|i| inside(i.image_offset, u64::from(i.len)))
    }
}

/// The trap recorded at code offset `offset`, read from the image's trap table.
pub(crate) fn trap_at(image: &[u8], layout: &CodeLayout, offset: u32) -> Option<TrapKind> {
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

fn align(image: &mut Vec<u8>, to: usize) {
    image.resize(image.len().next_multiple_of(to), 0);
}

/// Appends one function, returning its offset.
fn place(image: &mut Vec<u8>, traps: &mut Vec<(u32, TrapKind)>, f: &CompiledFunction) -> u32 {
    align(image, 16);
    let offset = image.len() as u32;
    image.extend_from_slice(&f.code);
    traps.extend(f.traps.iter().map(|(o, k)| (offset + o, *k)));
    offset
}

/// Compiles trampolines (one per distinct signature) and lays out the image: code, then from
/// the next multiple of `page` the trap table, the data blob and the memory images.
pub(crate) fn link(
    isa: &dyn TargetIsa,
    info: &ModuleInfo,
    functions: Vec<CompiledFunction>,
    data: DataPlan,
    page: usize,
) -> Result<(Vec<u8>, CodeLayout)> {
    let mut image = Vec::with_capacity(functions.iter().map(|f| f.code.len() + 16).sum());
    let mut layout = CodeLayout::default();
    let mut traps = Vec::new();
    for f in &functions {
        let offset = place(&mut image, &mut traps, f);
        layout.funcs.push((offset, f.code.len() as u32));
    }
    let imported_types: Vec<u32> = info.functions[..info.num_imported_funcs as usize].to_vec();
    let mut entry_done: HashMap<&FuncType, u32> = HashMap::new();
    let mut host_done: HashMap<&FuncType, u32> = HashMap::new();
    for (index, ty) in info.types.iter().enumerate() {
        let entry = match entry_done.get(ty) {
            Some(offset) => *offset,
            None => {
                let offset = place(&mut image, &mut traps, &trampolines::entry(isa, ty)?);
                entry_done.insert(ty, offset);
                offset
            }
        };
        layout.entry_trampolines.push(entry);
        let host = if !imported_types.contains(&(index as u32)) {
            NONE
        } else if let Some(offset) = host_done.get(ty) {
            *offset
        } else {
            let offset = place(&mut image, &mut traps, &trampolines::host(isa, ty)?);
            host_done.insert(ty, offset);
            offset
        };
        layout.host_trampolines.push(host);
    }
    for (f, (offset, _)) in functions.iter().zip(&layout.funcs) {
        for reloc in &f.relocs {
            let defined = reloc
                .target
                .checked_sub(info.num_imported_funcs)
                .ok_or_else(|| Error::Compile {
                    func_index: reloc.target,
                    message: "direct call relocation to an imported function".into(),
                })?;
            let target = i64::from(layout.funcs[defined as usize].0);
            let site = i64::from(offset + reloc.offset);
            patch(
                &mut image,
                site as usize,
                reloc.kind,
                target - site + reloc.addend,
            )?;
        }
    }
    traps.sort_by_key(|(offset, _)| *offset);
    align(&mut image, page);
    layout.text_len = image.len() as u32;
    layout.traps = (image.len() as u32, traps.len() as u32);
    image.extend(traps.iter().flat_map(|(offset, _)| offset.to_le_bytes()));
    image.extend(traps.iter().map(|(_, kind)| *kind as u8));
    layout.data = (image.len() as u32, data.blob.len() as u32);
    image.extend_from_slice(&data.blob);
    for planned in data.images {
        align(&mut image, page);
        let image_offset = u32::try_from(image.len())
            .map_err(|_| Error::Limit("a code image larger than 4 GiB".into()))?;
        layout.memory_images.push(MemoryImage {
            memory: planned.memory,
            memory_offset: planned.memory_offset,
            image_offset,
            len: planned.bytes.len() as u32,
        });
        image.extend_from_slice(&planned.bytes);
    }
    u32::try_from(image.len())
        .map_err(|_| Error::Limit("a code image larger than 4 GiB".into()))?;
    Ok((image, layout))
}

/// Writes a PC-relative call displacement.
fn patch(image: &mut [u8], site: usize, kind: Reloc, delta: i64) -> Result<()> {
    let bad = |what: &str| Error::Compile {
        func_index: u32::MAX,
        message: format!("{what} for relocation {kind:?}"),
    };
    match kind {
        Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 | Reloc::X86PCRel4 => {
            let value = i32::try_from(delta).map_err(|_| bad("call displacement out of range"))?;
            image[site..site + 4].copy_from_slice(&value.to_le_bytes());
        }
        Reloc::Arm64Call => {
            let words = delta >> 2;
            if !(-(1 << 25)..(1 << 25)).contains(&words) {
                return Err(bad("call displacement out of range"));
            }
            let old = u32::from_le_bytes(image[site..site + 4].try_into().expect("4 bytes"));
            let new = (old & 0xfc00_0000) | (words as u32 & 0x03ff_ffff);
            image[site..site + 4].copy_from_slice(&new.to_le_bytes());
        }
        _ => return Err(bad("unsupported relocation")),
    }
    Ok(())
}
