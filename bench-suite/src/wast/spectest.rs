//! The `spectest` module that spec scripts import from.

use wasm_prof_runtime::{
    AddressType, Extern, FuncType, Global, GlobalType, Limits, Linker, Memory, MemoryType, RefType,
    Result, Store, Table, TableType, Val, ValType,
};

/// Defines `spectest`'s functions, globals, table and memory in `linker`, creating the
/// stateful items in `store`.
///
/// # Errors
/// When the runtime cannot create the table or memory.
pub fn define(linker: &mut Linker, store: &mut Store) -> Result<()> {
    use ValType::{F32, F64, I32, I64};
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.iter().copied(), []);
        linker.func("spectest", name, ty, |_, _, _| Ok(()));
    }
    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(666.6f32.to_bits())),
        ("global_f64", Val::F64(666.6f64.to_bits())),
    ];
    for (name, value) in globals {
        let ty = GlobalType {
            content: value.ty(),
            mutable: false,
        };
        let global = Global::new(store, ty, value)?;
        linker.define("spectest", name, Extern::Global(global));
    }
    let table = Table::new(
        store,
        TableType {
            address_type: AddressType::I32,
            element: RefType::FUNCREF,
            limits: Limits {
                min: 10,
                max: Some(20),
            },
        },
    )?;
    linker.define("spectest", "table", Extern::Table(table));
    let memory = Memory::new(
        store,
        MemoryType {
            address_type: AddressType::I32,
            limits: Limits {
                min: 1,
                max: Some(2),
            },
        },
    )?;
    linker.define("spectest", "memory", Extern::Memory(memory));
    Ok(())
}
