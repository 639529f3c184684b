//! The runtime under test's side of a case.

use wasm_prof_runtime::{Engine, Error, Extern, Linker, Module, Store, Val};

use crate::{ArgValue, Failure, Value, harness::Run, memory_state};

/// A wasm-prof value as every engine can report it.
fn value(v: &Val) -> Value {
    match v {
        Val::I32(v) => Value::Bits(u128::from(*v as u32)),
        Val::I64(v) => Value::Bits(u128::from(*v as u64)),
        Val::F32(v) => Value::Bits(u128::from(*v)),
        Val::F64(v) => Value::Bits(u128::from(*v)),
        Val::V128(v) => Value::Bits(*v),
        Val::FuncRef(r) => Value::Ref { null: r.is_none() },
        Val::ExternRef(r) => Value::Ref { null: r.is_none() },
        Val::ExnRef(r) => Value::Ref { null: r.is_none() },
    }
}

/// A wasm-prof error, normalized.
fn failure(e: &Error) -> Failure {
    match e {
        Error::Trap(trap) => Failure::Trap(trap.kind),
        other => Failure::Error(format!("wasm-prof error: {other}")),
    }
}

/// Instantiates `module` on wasm-prof and makes the calls the reference made, with its
/// arguments.
pub(crate) fn run_wasm_prof(
    engine: &Engine,
    module: &Module,
    arguments: &[(String, Vec<ArgValue>)],
) -> Run {
    let mut store = Store::new(engine);
    let instance = match Linker::new().instantiate(&mut store, module) {
        Ok(instance) => instance,
        Err(e) => return Run::failed(failure(&e)),
    };
    let mut calls = Vec::new();
    for (name, args) in arguments {
        let Some(func) = instance.get_func(&store, name) else {
            let missing = Failure::Error(format!("wasm-prof has no function export {name}"));
            calls.push((name.clone(), Err(missing)));
            continue;
        };
        let ty = func.ty(&store).clone();
        let inputs: Vec<Val> = args
            .iter()
            .zip(&ty.params)
            .map(|(a, t)| a.to_wasm_prof(*t))
            .collect();
        let outcome = func
            .call(&mut store, &inputs)
            .map(|results| results.iter().map(value).collect())
            .map_err(|e| failure(&e));
        calls.push((name.clone(), outcome));
    }
    let exports: Vec<(String, Extern)> = instance
        .exports(&store)
        .map(|(n, e)| (n.to_string(), e))
        .collect();
    let mut state = Vec::new();
    for (name, export) in exports {
        match export {
            Extern::Global(global) => state.push((name, vec![value(&global.get(&store))])),
            Extern::Memory(memory) => state.push((name, memory_state(memory.data(&store)))),
            _ => {}
        }
    }
    state.sort_by(|a, b| a.0.cmp(&b.0));
    Run {
        instantiation: None,
        arguments: arguments.to_vec(),
        calls,
        state,
    }
}
