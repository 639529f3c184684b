//! Parsing and validating a module's sections with wasmparser into a [`ModuleInfo`], keeping the
//! function bodies (with their validators) for the compiler.

use wasmparser::{
    AbstractHeapType, CompositeInnerType, ExternalKind, FuncToValidate, FunctionBody, KnownCustom,
    Name, Operator, Parser, Payload, TableInit, TypeRef, UnpackedIndex, ValidPayload, Validator,
    ValidatorResources, WasmFeatures,
};

use crate::module_info::{
    ConstExpr, ConstOp, DataMode, DataSegment, ElementItems, ElementMode, ElementSegment, Export,
    ExternKind, FuncNames, Import, ModuleInfo,
};
use crate::{
    error::{ModuleError, Result},
    types::{
        AddressType, ExternType, FuncType, GlobalType, HeapType, Limits, MemoryType, RefType,
        TableType, TypeDecl, ValType,
    },
};

/// A function body waiting to be validated and compiled.
pub struct PendingBody<'a> {
    /// Validates the body while it is translated.
    pub validator: FuncToValidate<ValidatorResources>,
    /// The body's bytes.
    pub body: FunctionBody<'a>,
}

/// A parsed module: its info, the bodies of its defined functions and the bytes of its data
/// segments, one after another.
pub struct ParsedModule<'a> {
    /// What the module declares.
    pub info: ModuleInfo,
    /// The defined functions' bodies, in function index order.
    pub bodies: Vec<PendingBody<'a>>,
    /// The data segments' bytes, one after another (see [`crate::module_info::DataSegment`]).
    pub data: Vec<u8>,
}

fn invalid(e: wasmparser::BinaryReaderError) -> ModuleError {
    ModuleError::Invalid(format!(
        "{} (at byte offset {:#x})",
        one_line(e.message()),
        e.offset()
    ))
}

/// A wasmparser message as one line: its bad-magic message prints two byte arrays over many
/// lines, which says less than this does.
fn one_line(message: &str) -> String {
    if message.starts_with("magic header not detected") {
        return "not a WebAssembly module: it does not start with the magic bytes \\0asm".into();
    }
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses and validates `bytes` with `features` (function bodies are validated later, while
/// being translated).
///
/// A module that uses something the runtime does not have (GC types, shared memories) is
/// validated to the end before it is refused, so that an invalid module is reported as
/// invalid, whatever it uses.
pub fn parse(bytes: &[u8], features: WasmFeatures) -> Result<ParsedModule<'_>> {
    let mut validator = Validator::new_with_features(features);
    let mut info = ModuleInfo::default();
    let mut bodies = Vec::new();
    let mut data = Vec::new();
    let mut unsupported = None;
    // The parser's features decide how bodies are decoded (e.g. whether `memory.grow`'s
    // reserved byte must be a single zero), so they must be the validator's.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(invalid)?;
        match validator.payload(&payload).map_err(invalid)? {
            ValidPayload::Func(validator, body) => {
                info.code_bytes += body.range().end - body.range().start;
                bodies.push(PendingBody { validator, body });
                continue;
            }
            ValidPayload::End(_) => break,
            ValidPayload::Ok | ValidPayload::Parser(_) => {}
        }
        if unsupported.is_none() {
            match read_section(&mut info, &mut data, payload) {
                Err(e @ ModuleError::Unsupported(_)) => unsupported = Some(e),
                other => other?,
            }
        }
    }
    if let Some(unsupported) = unsupported {
        validate_bodies(bodies)?;
        return Err(unsupported);
    }
    Ok(ParsedModule { info, bodies, data })
}

/// Validates every body, for a module that will not be compiled.
fn validate_bodies(bodies: Vec<PendingBody<'_>>) -> Result<()> {
    for body in bodies {
        let mut validator = body.validator.into_validator(Default::default());
        validator.validate(&body.body).map_err(invalid)?;
    }
    Ok(())
}

fn read_section(info: &mut ModuleInfo, blob: &mut Vec<u8>, payload: Payload<'_>) -> Result<()> {
    match payload {
        Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
            return Err(ModuleError::Unsupported("components".into()));
        }
        Payload::TypeSection(reader) => {
            for group in reader {
                read_rec_group(info, group.map_err(invalid)?)?;
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.into_imports() {
                let import = import.map_err(invalid)?;
                let ty = match import.ty {
                    TypeRef::Func(index) => {
                        info.functions.push(index);
                        info.num_imported_funcs += 1;
                        ExternType::Func(info.types[index as usize].clone())
                    }
                    TypeRef::Table(t) => {
                        let t = convert_table(&t)?;
                        info.tables.push(t);
                        info.num_imported_tables += 1;
                        ExternType::Table(t)
                    }
                    TypeRef::Memory(m) => {
                        let m = convert_memory(&m)?;
                        info.memories.push(m);
                        info.num_imported_memories += 1;
                        ExternType::Memory(m)
                    }
                    TypeRef::Global(g) => {
                        let g = convert_global(&g)?;
                        info.globals.push(g);
                        info.num_imported_globals += 1;
                        ExternType::Global(g)
                    }
                    TypeRef::Tag(tag) => {
                        info.tags.push(tag.func_type_idx);
                        info.num_imported_tags += 1;
                        ExternType::Tag(info.types[tag.func_type_idx as usize].clone())
                    }
                    TypeRef::FuncExact(_) => {
                        unreachable!("the validator rejects exact function imports")
                    }
                };
                info.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    ty,
                });
            }
        }
        Payload::FunctionSection(reader) => {
            for index in reader {
                info.functions.push(index.map_err(invalid)?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader {
                let table = table.map_err(invalid)?;
                info.tables.push(convert_table(&table.ty)?);
                info.table_inits.push(match table.init {
                    TableInit::RefNull => None,
                    TableInit::Expr(expr) => Some(convert_const(&expr)?),
                });
            }
        }
        Payload::MemorySection(reader) => {
            for memory in reader {
                info.memories
                    .push(convert_memory(&memory.map_err(invalid)?)?);
            }
        }
        Payload::GlobalSection(reader) => {
            for global in reader {
                let global = global.map_err(invalid)?;
                info.globals.push(convert_global(&global.ty)?);
                info.global_inits.push(convert_const(&global.init_expr)?);
            }
        }
        Payload::ExportSection(reader) => {
            for export in reader {
                let export = export.map_err(invalid)?;
                let kind = match export.kind {
                    ExternalKind::Func => ExternKind::Func,
                    ExternalKind::Table => ExternKind::Table,
                    ExternalKind::Memory => ExternKind::Memory,
                    ExternalKind::Global => ExternKind::Global,
                    ExternalKind::Tag => ExternKind::Tag,
                    ExternalKind::FuncExact => {
                        unreachable!("the validator rejects exact function exports")
                    }
                };
                info.exports.push(Export {
                    name: export.name.to_string(),
                    kind,
                    index: export.index,
                });
            }
        }
        Payload::TagSection(reader) => {
            for tag in reader {
                info.tags.push(tag.map_err(invalid)?.func_type_idx);
            }
        }
        Payload::StartSection { func, .. } => info.start = Some(func),
        Payload::ElementSection(reader) => {
            for element in reader {
                info.elements
                    .push(convert_element(element.map_err(invalid)?)?);
            }
        }
        Payload::DataSection(reader) => {
            for data in reader {
                let data = data.map_err(invalid)?;
                let mode = match data.kind {
                    wasmparser::DataKind::Passive => DataMode::Passive,
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => DataMode::Active {
                        memory: memory_index,
                        offset: convert_const(&offset_expr)?,
                    },
                };
                let offset = u32::try_from(blob.len())
                    .map_err(|_| ModuleError::Limit("more than 4 GiB of data segments".into()))?;
                blob.extend_from_slice(data.data);
                info.data.push(DataSegment {
                    mode,
                    offset,
                    len: data.data.len() as u32,
                });
            }
        }
        Payload::CustomSection(reader) => {
            if let KnownCustom::Name(names) = reader.as_known() {
                // A malformed name section is ignored, as the spec asks.
                let _ = read_names(info, names);
            }
        }
        _ => {}
    }
    Ok(())
}

fn read_names(
    info: &mut ModuleInfo,
    reader: wasmparser::NameSectionReader<'_>,
) -> wasmparser::Result<()> {
    let mut func_names = Vec::new();
    for name in reader {
        match name? {
            Name::Module { name, .. } => info.name = Some(name.to_string()),
            Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    func_names.push((naming.index, naming.name));
                }
            }
            _ => {}
        }
    }
    info.func_names = FuncNames::from_pairs(func_names);
    Ok(())
}

fn convert_element(element: wasmparser::Element<'_>) -> Result<ElementSegment> {
    let mode = match element.kind {
        wasmparser::ElementKind::Passive => ElementMode::Passive,
        wasmparser::ElementKind::Declared => ElementMode::Declared,
        wasmparser::ElementKind::Active {
            table_index,
            offset_expr,
        } => ElementMode::Active {
            table: table_index.unwrap_or(0),
            offset: convert_const(&offset_expr)?,
        },
    };
    let (ty, items) = match element.items {
        wasmparser::ElementItems::Functions(reader) => (
            RefType {
                nullable: false,
                heap: HeapType::Func,
            },
            ElementItems::Funcs(
                reader
                    .into_iter()
                    .collect::<wasmparser::Result<_>>()
                    .map_err(invalid)?,
            ),
        ),
        wasmparser::ElementItems::Expressions(ty, reader) => {
            let mut exprs = Vec::new();
            for expr in reader {
                exprs.push(convert_const(&expr.map_err(invalid)?)?);
            }
            (convert_ref(ty)?, ElementItems::Exprs(exprs))
        }
    };
    Ok(ElementSegment { mode, ty, items })
}

/// Converts a validated constant expression.
fn convert_const(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr> {
    let mut ops = Vec::new();
    let mut reader = expr.get_operators_reader();
    while !reader.eof() {
        let op = match reader.read().map_err(invalid)? {
            Operator::I32Const { value } => ConstOp::I32(value),
            Operator::I64Const { value } => ConstOp::I64(value),
            Operator::F32Const { value } => ConstOp::F32(value.bits()),
            Operator::F64Const { value } => ConstOp::F64(value.bits()),
            Operator::V128Const { value } => ConstOp::V128(value.i128() as u128),
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::RefNull { hty } => ConstOp::RefNull(convert_heap(hty)?),
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            Operator::End => continue,
            other => {
                return Err(ModuleError::Unsupported(format!(
                    "constant operator {other:?}"
                )));
            }
        };
        ops.push(op);
    }
    Ok(ConstExpr(ops))
}

/// Reads one recursion group of the type section. Every type must be a function type:
/// struct and array types (the GC proposal) are refused.
fn read_rec_group(info: &mut ModuleInfo, group: wasmparser::RecGroup) -> Result<()> {
    let rec_group = info.types.len() as u32;
    for sub in group.into_types() {
        let CompositeInnerType::Func(ty) = &sub.composite_type.inner else {
            return Err(gc_unsupported("struct and array types"));
        };
        if sub.composite_type.shared {
            return Err(ModuleError::Unsupported("shared types".into()));
        }
        let supertype = match sub.supertype_idxs.first() {
            Some(index) => Some(
                index
                    .as_module_index()
                    .ok_or_else(|| gc_unsupported("supertypes outside the module"))?,
            ),
            None => None,
        };
        let convert = |types: &[wasmparser::ValType]| -> Result<Vec<ValType>> {
            types.iter().map(|t| convert_val(*t, rec_group)).collect()
        };
        info.types.push(FuncType {
            params: convert(ty.params())?,
            results: convert(ty.results())?,
        });
        info.type_decls.push(TypeDecl {
            rec_group,
            supertype,
            is_final: sub.is_final,
        });
    }
    Ok(())
}

fn gc_unsupported(what: &str) -> ModuleError {
    ModuleError::Unsupported(format!("{what} (the GC proposal)"))
}

/// Converts a value type accepted by the validator; a type index relative to a recursion
/// group is made relative to the module with `rec_group`, the group's first type index.
fn convert_val(ty: wasmparser::ValType, rec_group: u32) -> Result<ValType> {
    Ok(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) => ValType::Ref(convert_ref_in(r, rec_group)?),
    })
}

fn convert_ref(ty: wasmparser::RefType) -> Result<RefType> {
    convert_ref_in(ty, 0)
}

fn convert_ref_in(ty: wasmparser::RefType, rec_group: u32) -> Result<RefType> {
    Ok(RefType {
        nullable: ty.is_nullable(),
        heap: convert_heap_in(ty.heap_type(), rec_group)?,
    })
}

fn convert_heap(ty: wasmparser::HeapType) -> Result<HeapType> {
    convert_heap_in(ty, 0)
}

fn convert_heap_in(ty: wasmparser::HeapType, rec_group: u32) -> Result<HeapType> {
    use AbstractHeapType as A;
    let index = match ty {
        wasmparser::HeapType::Abstract { shared: true, .. } => {
            return Err(ModuleError::Unsupported("shared references".into()));
        }
        wasmparser::HeapType::Abstract { ty, .. } => {
            return match ty {
                A::Func => Ok(HeapType::Func),
                A::NoFunc => Ok(HeapType::NoFunc),
                A::Extern => Ok(HeapType::Extern),
                A::NoExtern => Ok(HeapType::NoExtern),
                A::Exn => Ok(HeapType::Exn),
                A::NoExn => Ok(HeapType::NoExn),
                other => Err(gc_unsupported(&format!(
                    "{} references",
                    format!("{other:?}").to_lowercase()
                ))),
            };
        }
        wasmparser::HeapType::Concrete(index) => index,
        wasmparser::HeapType::Exact(_) => {
            return Err(ModuleError::Unsupported("exact references".into()));
        }
    };
    match index {
        UnpackedIndex::Module(index) => Ok(HeapType::Module(index)),
        UnpackedIndex::RecGroup(index) => Ok(HeapType::Module(rec_group + index)),
        UnpackedIndex::Id(_) => Err(ModuleError::Unsupported(
            "a type id where a type index was expected".into(),
        )),
    }
}

fn convert_table(t: &wasmparser::TableType) -> Result<TableType> {
    Ok(TableType {
        address_type: address_type(t.table64),
        element: convert_ref(t.element_type)?,
        limits: Limits {
            min: t.initial,
            max: t.maximum,
        },
    })
}

/// A memory's type; shared memories are refused, since a store runs one thread and nothing
/// could share them.
fn convert_memory(m: &wasmparser::MemoryType) -> Result<MemoryType> {
    if m.shared {
        return Err(ModuleError::Unsupported("shared memories".into()));
    }
    Ok(MemoryType {
        address_type: address_type(m.memory64),
        limits: Limits {
            min: m.initial,
            max: m.maximum,
        },
    })
}

/// The address type wasmparser's `memory64`/`table64` flag stands for.
fn address_type(is_64: bool) -> AddressType {
    if is_64 {
        AddressType::I64
    } else {
        AddressType::I32
    }
}

fn convert_global(g: &wasmparser::GlobalType) -> Result<GlobalType> {
    Ok(GlobalType {
        content: convert_val(g.content_type, 0)?,
        mutable: g.mutable,
    })
}

#[cfg(test)]
mod error_tests {
    use super::*;

    #[test]
    fn malformed_modules_are_described_in_one_line() {
        for bytes in [&b"(module)"[..], b"\0asm\x01\0\0\0\x01", b""] {
            let Err(ModuleError::Invalid(message)) = parse(bytes, WasmFeatures::default()) else {
                panic!("{bytes:?} parsed");
            };
            assert!(!message.contains('\n'), "{message}");
        }
        let Err(ModuleError::Invalid(message)) = parse(b"(module)", WasmFeatures::default()) else {
            panic!("text parsed");
        };
        assert!(message.starts_with("not a WebAssembly module"), "{message}");
    }
}
