//! wasmtime as the reference engine of differential execution (see `wasm-prof-differential`):
//! it runs what wasmi cannot, so its modules add exceptions and multi-memory to wasmi's
//! WebAssembly 2.0 with SIMD, tail calls and extended constant expressions.

use std::sync::OnceLock;

use wasm_prof_differential::{
    ArgValue, CallOutcome, Failure, ReferenceEngine, Value, ValueKind, memory_state,
    smith::{differential_config, runtime_config},
};
use wasm_prof_runtime::TrapKind;
use wasmtime::{
    Engine, Extern, Instance, Linker, Module, Store, ThrownException, Trap, Val, ValType,
};

use crate::engines::wasmtime::config;

/// Memories a generated module may have (wasmi's modules have one).
const MAX_MEMORIES: usize = 4;

/// A wasmtime module, its store and, once instantiated, its instance.
pub struct WasmtimeReference {
    store: Store<()>,
    module: Module,
    instance: Option<Instance>,
}

/// One engine for every case: creating one costs more than a small case.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = config();
        // wasm-prof's default (wasmtime's is 512 KiB), so that recursion fails alike.
        config.max_wasm_stack(1 << 20);
        Engine::new(&config).expect("wasmtime's configuration is valid")
    })
}

impl ReferenceEngine for WasmtimeReference {
    const NAME: &'static str = "wasmtime";

    fn smith_config() -> wasm_smith::Config {
        // Relaxed SIMD stays off: its results are implementation-defined, so the engines may
        // differ without a bug.
        differential_config(wasm_smith::Config {
            exceptions_enabled: true,
            max_memories: MAX_MEMORIES,
            ..runtime_config()
        })
    }

    fn compile(bytes: &[u8]) -> Result<Self, String> {
        let module = Module::new(engine(), bytes).map_err(|e| format!("{e:?}"))?;
        Ok(Self {
            store: Store::new(engine(), ()),
            module,
            instance: None,
        })
    }

    fn instantiate(&mut self) -> Result<(), Failure> {
        let instance = Linker::new(engine())
            .instantiate(&mut self.store, &self.module)
            .map_err(|e| self.failure(&e))?;
        self.instance = Some(instance);
        Ok(())
    }

    fn exported_functions(&mut self) -> Vec<(String, Vec<ValueKind>)> {
        self.exports()
            .into_iter()
            .filter_map(|(name, export)| {
                let func = export.into_func()?;
                let params = func.ty(&self.store).params().map(|t| kind(&t)).collect();
                Some((name, params))
            })
            .collect()
    }

    fn call(&mut self, name: &str, args: &[ArgValue]) -> CallOutcome {
        let Some(func) = self
            .instance
            .and_then(|instance| instance.get_func(&mut self.store, name))
        else {
            return Err(Failure::Error(format!(
                "wasmtime has no function export {name}"
            )));
        };
        let ty = func.ty(&self.store);
        let inputs = args
            .iter()
            .zip(ty.params())
            .map(|(a, t)| to_wasmtime(*a, &t))
            .collect::<Result<Vec<Val>, Failure>>()?;
        let mut outputs = vec![Val::I32(0); ty.results().len()];
        func.call(&mut self.store, &inputs, &mut outputs)
            .map_err(|e| self.failure(&e))?;
        Ok(outputs.iter().map(value).collect())
    }

    fn exported_state(&mut self) -> Vec<(String, Vec<Value>)> {
        let mut state = Vec::new();
        for (name, export) in self.exports() {
            match export {
                Extern::Global(global) => {
                    state.push((name, vec![value(&global.get(&mut self.store))]));
                }
                Extern::Memory(memory) => {
                    state.push((name, memory_state(memory.data(&self.store))));
                }
                _ => {}
            }
        }
        state
    }
}

impl WasmtimeReference {
    /// The instance's exports in export order (none before instantiation).
    fn exports(&mut self) -> Vec<(String, Extern)> {
        let Some(instance) = self.instance else {
            return Vec::new();
        };
        instance
            .exports(&mut self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect()
    }

    /// A wasmtime error, normalized; an uncaught exception is taken off the store, where
    /// wasmtime leaves it pending.
    fn failure(&mut self, e: &wasmtime::Error) -> Failure {
        if e.is::<ThrownException>() {
            self.store.take_pending_exception();
            return Failure::Trap(TrapKind::UncaughtException);
        }
        let kind = match e.downcast_ref::<Trap>() {
            Some(Trap::StackOverflow) => TrapKind::StackOverflow,
            Some(Trap::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
            Some(Trap::HeapMisaligned) => TrapKind::HeapMisaligned,
            Some(Trap::TableOutOfBounds) => TrapKind::TableOutOfBounds,
            Some(Trap::IndirectCallToNull) => TrapKind::IndirectCallToNull,
            Some(Trap::BadSignature) => TrapKind::BadSignature,
            Some(Trap::IntegerOverflow) => TrapKind::IntegerOverflow,
            Some(Trap::IntegerDivisionByZero) => TrapKind::IntegerDivisionByZero,
            Some(Trap::BadConversionToInteger) => TrapKind::BadConversionToInteger,
            Some(Trap::UnreachableCodeReached) => TrapKind::UnreachableCodeReached,
            Some(Trap::Interrupt) => TrapKind::Interrupt,
            Some(Trap::NullReference) => TrapKind::NullReference,
            Some(Trap::AtomicWaitNonSharedMemory) => TrapKind::WaitOnUnsharedMemory,
            _ => return Failure::Error(format!("wasmtime error: {e:?}")),
        };
        Failure::Trap(kind)
    }
}

fn kind(ty: &ValType) -> ValueKind {
    match ty {
        ValType::I32 => ValueKind::I32,
        ValType::I64 => ValueKind::I64,
        ValType::F32 => ValueKind::F32,
        ValType::F64 => ValueKind::F64,
        ValType::V128 => ValueKind::V128,
        ValType::Ref(_) => ValueKind::Ref,
    }
}

fn to_wasmtime(arg: ArgValue, ty: &ValType) -> Result<Val, Failure> {
    Ok(match arg {
        ArgValue::I32(v) => Val::I32(v),
        ArgValue::I64(v) => Val::I64(v),
        ArgValue::F32(v) => Val::F32(v),
        ArgValue::F64(v) => Val::F64(v),
        ArgValue::V128(v) => Val::V128(v.into()),
        ArgValue::NullRef => Val::default_for_ty(ty).ok_or_else(|| {
            Failure::Error(format!(
                "a null argument for the non-nullable parameter {ty}"
            ))
        })?,
    })
}

fn value(v: &Val) -> Value {
    match v {
        Val::I32(v) => Value::Bits(u128::from(*v as u32)),
        Val::I64(v) => Value::Bits(u128::from(*v as u64)),
        Val::F32(v) => Value::Bits(u128::from(*v)),
        Val::F64(v) => Value::Bits(u128::from(*v)),
        Val::V128(v) => Value::Bits(v.as_u128()),
        reference => Value::Ref {
            null: (*reference).ref_().is_none_or(|r| r.is_null()),
        },
    }
}
