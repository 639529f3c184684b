//! wasmi 2.0 (a pure-Rust interpreter) as the reference: WebAssembly 2.0 with SIMD, tail calls
//! and extended constant expressions; no exceptions, no multi-memory.

use wasm_prof_runtime::TrapKind;

use crate::{
    ArgValue, CallOutcome, Failure, ReferenceEngine, Value, ValueKind, memory_state,
    smith::{differential_config, runtime_config},
};

/// wasmi with the features of [`Wasmi::smith_config`]'s modules, a store and, once
/// instantiated, an instance.
pub struct Wasmi {
    store: wasmi::Store<()>,
    module: wasmi::Module,
    instance: Option<wasmi::Instance>,
}

impl ReferenceEngine for Wasmi {
    const NAME: &'static str = "wasmi";

    fn smith_config() -> wasm_smith::Config {
        differential_config(runtime_config())
    }

    fn compile(bytes: &[u8]) -> Result<Self, String> {
        let mut config = wasmi::Config::default();
        config
            .wasm_multi_memory(false)
            .wasm_tail_call(true)
            .wasm_extended_const(true)
            .wasm_memory64(true)
            .wasm_custom_page_sizes(false)
            .wasm_wide_arithmetic(false)
            .wasm_relaxed_simd(false)
            .wasm_simd(true);
        // Deep enough that the termination fuel, not the recursion limit, ends runaway
        // recursion (wasm-prof's 1 MiB stack holds far more frames).
        config.set_max_recursion_depth(100_000);
        let engine = wasmi::Engine::new(&config);
        let module = wasmi::Module::new(&engine, bytes).map_err(|e| e.to_string())?;
        let store = wasmi::Store::new(&engine, ());
        Ok(Self {
            store,
            module,
            instance: None,
        })
    }

    fn instantiate(&mut self) -> Result<(), Failure> {
        let linker = wasmi::Linker::<()>::new(self.store.engine());
        let instance = linker
            .instantiate_and_start(&mut self.store, &self.module)
            .map_err(|e| failure(&e))?;
        self.instance = Some(instance);
        Ok(())
    }

    fn exported_functions(&mut self) -> Vec<(String, Vec<ValueKind>)> {
        let Some(instance) = self.instance else {
            return Vec::new();
        };
        let exports: Vec<(String, wasmi::Extern)> = instance
            .exports(&self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        exports
            .into_iter()
            .filter_map(|(name, export)| {
                let func = export.into_func()?;
                let params = func.ty(&self.store).params().iter().map(kind).collect();
                Some((name, params))
            })
            .collect()
    }

    fn call(&mut self, name: &str, args: &[ArgValue]) -> CallOutcome {
        let Some(func) = self
            .instance
            .and_then(|instance| instance.get_func(&self.store, name))
        else {
            return Err(Failure::Error(format!(
                "wasmi has no function export {name}"
            )));
        };
        let ty = func.ty(&self.store);
        let inputs: Vec<wasmi::Val> = args
            .iter()
            .zip(ty.params())
            .map(|(a, t)| to_wasmi(*a, t))
            .collect();
        let mut outputs: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        func.call(&mut self.store, &inputs, &mut outputs)
            .map_err(|e| failure(&e))?;
        Ok(outputs.iter().map(value).collect())
    }

    fn exported_state(&mut self) -> Vec<(String, Vec<Value>)> {
        let Some(instance) = self.instance else {
            return Vec::new();
        };
        let mut state = Vec::new();
        for export in instance.exports(&self.store) {
            let name = export.name().to_string();
            match export.into_extern() {
                wasmi::Extern::Global(global) => {
                    state.push((name, vec![value(&global.get(&self.store))]));
                }
                wasmi::Extern::Memory(memory) => {
                    state.push((name, memory_state(memory.data(&self.store))));
                }
                _ => {}
            }
        }
        state
    }
}

fn kind(ty: &wasmi::ValType) -> ValueKind {
    match ty {
        wasmi::ValType::I32 => ValueKind::I32,
        wasmi::ValType::I64 => ValueKind::I64,
        wasmi::ValType::F32 => ValueKind::F32,
        wasmi::ValType::F64 => ValueKind::F64,
        wasmi::ValType::V128 => ValueKind::V128,
        wasmi::ValType::FuncRef | wasmi::ValType::ExternRef => ValueKind::Ref,
    }
}

fn to_wasmi(arg: ArgValue, ty: &wasmi::ValType) -> wasmi::Val {
    match arg {
        ArgValue::I32(v) => wasmi::Val::I32(v),
        ArgValue::I64(v) => wasmi::Val::I64(v),
        ArgValue::F32(v) => wasmi::Val::F32(wasmi::F32::from_bits(v)),
        ArgValue::F64(v) => wasmi::Val::F64(wasmi::F64::from_bits(v)),
        ArgValue::V128(v) => wasmi::Val::V128(wasmi::V128::from(v)),
        ArgValue::NullRef => wasmi::Val::default_for_ty(*ty),
    }
}

fn value(v: &wasmi::Val) -> Value {
    match v {
        wasmi::Val::I32(v) => Value::Bits(u128::from(*v as u32)),
        wasmi::Val::I64(v) => Value::Bits(u128::from(*v as u64)),
        wasmi::Val::F32(v) => Value::Bits(u128::from(v.to_bits())),
        wasmi::Val::F64(v) => Value::Bits(u128::from(v.to_bits())),
        wasmi::Val::V128(v) => Value::Bits(v.as_u128()),
        wasmi::Val::FuncRef(r) => Value::Ref { null: r.is_null() },
        wasmi::Val::ExternRef(r) => Value::Ref { null: r.is_null() },
    }
}

/// A wasmi error, normalized.
fn failure(e: &wasmi::Error) -> Failure {
    use wasmi::{
        TrapCode as T,
        errors::{ErrorKind, InstantiationError},
    };
    // wasmi reports an element segment that does not fit its table as an instantiation
    // error, where the spec (and wasm-prof) trap with "out of bounds table access".
    if let ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) = e.kind()
    {
        return Failure::Trap(TrapKind::TableOutOfBounds);
    }
    let kind = match e.as_trap_code() {
        Some(T::UnreachableCodeReached) => TrapKind::UnreachableCodeReached,
        Some(T::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
        Some(T::TableOutOfBounds) => TrapKind::TableOutOfBounds,
        Some(T::IndirectCallToNull) => TrapKind::IndirectCallToNull,
        Some(T::IntegerDivisionByZero) => TrapKind::IntegerDivisionByZero,
        Some(T::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(T::BadConversionToInteger) => TrapKind::BadConversionToInteger,
        Some(T::StackOverflow) => TrapKind::StackOverflow,
        Some(T::BadSignature) => TrapKind::BadSignature,
        _ => return Failure::Error(format!("wasmi error: {e}")),
    };
    Failure::Trap(kind)
}
