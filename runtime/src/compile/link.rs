//! Lays compiled functions and trampolines out in one code image and resolves the calls
//! between them, so the image is position-independent and can be mapped anywhere.
//!
//! After the code, the image carries two read-only tables that a cache hit uses straight from
//! the mapped artifact, without deserializing them: the trap table (sorted code offsets as
//! little-endian `u32`s, then one [`TrapKind`] code byte per offset) and the data segments'
//! bytes.

use std::collections::HashMap;

use cranelift_codegen::{binemit::Reloc, isa::TargetIsa};
use serde::{Deserialize, Serialize};

use super::{CompiledFunction, trampolines};
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
}

impl CodeLayout {
    /// Whether every range the layout names lies within an image of `len` bytes.
    pub fn fits(&self, len: usize) -> bool {
        let inside = |offset: u32, size: u64| u64::from(offset) + size <= len as u64;
        self.funcs.iter().all(|(o, l)| inside(*o, u64::from(*l)))
            && self
                .entry_trampolines
                .iter()
                .chain(&self.host_trampolines)
                .all(|o| *o == NONE || inside(*o, 1))
            && inside(self.traps.0, u64::from(self.traps.1) * 5)
            && self.traps.0.is_multiple_of(4)
            && inside(self.data.0, u64::from(self.data.1))
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

/// Compiles trampolines (one per distinct signature) and lays out the image.
pub(crate) fn link(
    isa: &dyn TargetIsa,
    info: &ModuleInfo,
    functions: Vec<CompiledFunction>,
    data: &[u8],
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
    align(&mut image, 4);
    layout.traps = (image.len() as u32, traps.len() as u32);
    image.extend(traps.iter().flat_map(|(offset, _)| offset.to_le_bytes()));
    image.extend(traps.iter().map(|(_, kind)| *kind as u8));
    layout.data = (image.len() as u32, data.len() as u32);
    image.extend_from_slice(data);
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
