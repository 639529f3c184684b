//! Lays compiled functions and trampolines out in one code image and resolves the calls
//! between them, so the image is position-independent and can be mapped anywhere. After the
//! code come the trap table, the data segments' bytes and the memory images, as
//! [`wasm_prof_environ::code_layout`] describes.

use std::collections::HashMap;

use cranelift_codegen::{binemit::Reloc, isa::TargetIsa};
use wasm_prof_environ::{
    CodeLayout, FuncType, MemoryImage, ModuleInfo, TrapKind,
    code_layout::{NONE, encode_trap_table},
    exception_table::{self, CallSite, Handler},
    memory_image::DataPlan,
};

use crate::{
    error::{CompileError, Result},
    functions::CompiledFunction,
    trampolines,
};

fn align(image: &mut Vec<u8>, to: usize) {
    image.resize(image.len().next_multiple_of(to), 0);
}

/// What the placed functions contribute to the image's tables, at image offsets.
#[derive(Default)]
struct Tables {
    traps: Vec<(u32, TrapKind)>,
    call_sites: Vec<CallSite>,
}

/// Appends one function, returning its offset.
fn place(image: &mut Vec<u8>, tables: &mut Tables, f: &CompiledFunction) -> u32 {
    align(image, 16);
    let offset = image.len() as u32;
    image.extend_from_slice(&f.code);
    tables
        .traps
        .extend(f.traps.iter().map(|(o, k)| (offset + o, *k)));
    tables.call_sites.extend(f.call_sites.iter().map(|site| {
        CallSite {
            return_address: offset + site.return_address,
            frame_offset: site.frame_offset,
            handlers: site
                .handlers
                .iter()
                .map(|handler| match *handler {
                    Handler::Tag { tag, landing_pad } => Handler::Tag {
                        tag,
                        landing_pad: offset + landing_pad,
                    },
                    Handler::CatchAll { landing_pad } => Handler::CatchAll {
                        landing_pad: offset + landing_pad,
                    },
                    context @ Handler::Context { .. } => context,
                })
                .collect(),
        }
    }));
    offset
}

/// Compiles trampolines (one per distinct signature) and lays out the image: code, then from
/// the next multiple of `page` the trap table, the data blob and the memory images.
pub(crate) fn build_code_image(
    isa: &dyn TargetIsa,
    info: &ModuleInfo,
    functions: Vec<CompiledFunction>,
    data: DataPlan,
    page: usize,
) -> Result<(Vec<u8>, CodeLayout)> {
    let mut image = Vec::with_capacity(functions.iter().map(|f| f.code.len() + 16).sum());
    let mut layout = CodeLayout::default();
    let mut tables = Tables::default();
    for f in &functions {
        let offset = place(&mut image, &mut tables, f);
        layout.funcs.push((offset, f.code.len() as u32));
    }
    let imported_types: Vec<u32> = info.functions[..info.num_imported_funcs as usize].to_vec();
    let mut entry_done: HashMap<&FuncType, u32> = HashMap::new();
    let mut host_done: HashMap<&FuncType, u32> = HashMap::new();
    for (index, ty) in info.types.iter().enumerate() {
        let entry = match entry_done.get(ty) {
            Some(offset) => *offset,
            None => {
                let offset = place(&mut image, &mut tables, &trampolines::entry(isa, ty)?);
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
            let offset = place(&mut image, &mut tables, &trampolines::host(isa, ty)?);
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
                .ok_or_else(|| CompileError::Function {
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
    let Tables {
        mut traps,
        call_sites,
    } = tables;
    traps.sort_by_key(|(offset, _)| *offset);
    layout.code_end = image.len() as u32;
    align(&mut image, page);
    layout.text_len = image.len() as u32;
    layout.traps = (image.len() as u32, traps.len() as u32);
    encode_trap_table(&mut image, &traps);
    align(&mut image, 4);
    let exceptions_start = image.len();
    let sites = exception_table::encode(&mut image, &call_sites);
    layout.exceptions = (
        exceptions_start as u32,
        (image.len() - exceptions_start) as u32,
        sites,
    );
    layout.data = (image.len() as u32, data.blob.len() as u32);
    image.extend_from_slice(&data.blob);
    for planned in data.images {
        align(&mut image, page);
        let image_offset = u32::try_from(image.len())
            .map_err(|_| CompileError::Limit("a code image larger than 4 GiB".into()))?;
        layout.memory_images.push(MemoryImage {
            memory: planned.memory,
            memory_offset: planned.memory_offset,
            image_offset,
            len: planned.bytes.len() as u32,
        });
        image.extend_from_slice(&planned.bytes);
    }
    u32::try_from(image.len())
        .map_err(|_| CompileError::Limit("a code image larger than 4 GiB".into()))?;
    Ok((image, layout))
}

/// Writes a PC-relative call displacement.
fn patch(image: &mut [u8], site: usize, kind: Reloc, delta: i64) -> Result<()> {
    let bad = |what: &str| CompileError::Function {
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
