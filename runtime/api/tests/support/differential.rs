//! Differential execution against an independent engine: a module that wasm-smith generates is
//! instantiated and run on wasm-prof (compiled, and loaded back from the cache) and on wasmi (a
//! pure-Rust interpreter), every exported function called with the same generated arguments,
//! and the results, traps, exported globals and memories compared.
//!
//! Shared by the fixed-seed test (`tests/differential.rs`) and the campaign example
//! (`examples/differential.rs`).

use std::path::Path;

#[path = "smith.rs"]
mod smith;

use arbitrary::{Arbitrary, Unstructured};
use wasm_prof_runtime::{
    CacheOutcome, Config, Engine, Error, Extern, Linker, Module, Store, TrapKind, Val, ValType,
    config::wasm_features,
};

use smith::{Bytes, runtime_config};

/// Fuel wasm-smith's termination pass gives each module: loops and calls trap once it is
/// spent, so every generated function ends.
const FUEL: u32 = 1_000;

/// wasm-smith limited to what wasm-prof accepts, with exports of
/// everything, no imports, canonical NaNs (so that float results compare bit for bit) and
/// memories and tables whose maximum bounds what `grow` can do in either engine.
pub fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        max_imports: 0,
        min_funcs: 2,
        export_everything: true,
        canonicalize_nans: true,
        memory_max_size_required: true,
        max_memory32_bytes: 16 << 16,
        max_memory64_bytes: 16 << 16,
        table_max_size_required: true,
        max_table_elements: 1_000,
        ..runtime_config()
    }
}

/// What happened to one generated module.
#[derive(Debug)]
pub enum Verdict {
    /// wasm-smith could not make a module from these bytes, or the runtime's validator does
    /// not accept it (wasm-smith is newer than the runtime's wasmparser).
    Skipped,
    /// Both engines agreed on everything; `calls` exported functions were compared.
    Agreed { calls: usize },
    /// The engines differ in a way that is not a bug: a stack overflow (the engines' stacks
    /// differ in size, so one may overflow where the other does not).
    Explained(String),
    /// The engines disagree: a bug in one of them.
    Mismatch(String),
}

/// A value as both engines can report it: numbers bit for bit, references by null-ness.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Bits(u128),
    Ref { null: bool },
}

/// The outcome of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Returned(Vec<Value>),
    Trapped(String),
}

/// Runs the module that wasm-smith makes from `raw` on both engines and compares them.
/// `cache` is a cache directory for wasm-prof (the module is compiled into it, then loaded
/// back from it and run again).
pub fn run_case(raw: &[u8], cache: &Path) -> Verdict {
    let mut u = Unstructured::new(raw);
    let Ok(mut generated) = wasm_smith::Module::new(smith_config(), &mut u) else {
        return Verdict::Skipped;
    };
    if generated.ensure_termination(FUEL).is_err() {
        return Verdict::Skipped;
    }
    let bytes = generated.to_bytes();
    if wasmparser::Validator::new_with_features(wasm_features())
        .validate_all(&bytes)
        .is_err()
    {
        return Verdict::Skipped;
    }
    let wasmi = match Wasmi::new(&bytes) {
        Ok(wasmi) => wasmi,
        Err(e) => return Verdict::Mismatch(format!("wasmi refused a valid module: {e}")),
    };
    let mut config = Config::new();
    config.cache_dir(cache);
    let engine = match Engine::new(config) {
        Ok(engine) => engine,
        Err(e) => return Verdict::Mismatch(format!("no engine: {e}")),
    };
    let compiled = match Module::new(&engine, &bytes) {
        Ok(module) => module,
        Err(e) => return Verdict::Mismatch(format!("wasm-prof refused a valid module: {e}")),
    };
    let reloaded = match Module::new(&engine, &bytes) {
        Ok(module) if *module.cache_outcome() == CacheOutcome::Hit => module,
        Ok(module) => {
            return Verdict::Mismatch(format!(
                "the second load was not a cache hit ({:?}): {:?}",
                module.cache_outcome(),
                module.cache_warnings()
            ));
        }
        Err(e) => return Verdict::Mismatch(format!("loading back from the cache failed: {e}")),
    };
    // The arguments are drawn once, from bytes of their own (what wasm-smith leaves of `raw`
    // is often nothing), and given to every run.
    let mut arguments = vec![0u8; 4096];
    Bytes(u64::from_le_bytes(raw[..8].try_into().expect("8 bytes")) | 1).fill(&mut arguments);
    let mut wasmi = wasmi;
    let expected = wasmi.run(&mut Unstructured::new(&arguments));
    let mut calls = 0;
    for (label, module) in [("compiled", &compiled), ("cached", &reloaded)] {
        let actual = run_wasm_prof(&engine, module, &expected.arguments);
        if let Some(why) = stack_overflow(&expected).or_else(|| stack_overflow(&actual)) {
            return Verdict::Explained(why);
        }
        if let Some(difference) = expected.difference(&actual) {
            return Verdict::Mismatch(format!("{label}: {difference}"));
        }
        calls = actual.calls.len();
    }
    Verdict::Agreed { calls }
}

/// Everything one engine did with one module.
#[derive(Debug)]
struct Run {
    /// Instantiation's outcome (a trap in a segment or the start function), if it failed.
    instantiation: Option<String>,
    /// The arguments of each call, in export order.
    arguments: Vec<(String, Vec<ArgValue>)>,
    /// Each call's outcome, in the same order.
    calls: Vec<(String, Outcome)>,
    /// Exported globals' final values and exported memories' final bytes, sorted by export
    /// name (engines list exports in different orders).
    state: Vec<(String, Vec<Value>)>,
}

impl Run {
    /// The first difference between two runs, described.
    fn difference(&self, other: &Run) -> Option<String> {
        if self.instantiation != other.instantiation {
            return Some(format!(
                "instantiation: wasmi {:?}, wasm-prof {:?}",
                self.instantiation, other.instantiation
            ));
        }
        for ((name, a), (_, b)) in self.calls.iter().zip(&other.calls) {
            if a != b {
                return Some(format!("call of {name}: wasmi {a:?}, wasm-prof {b:?}"));
            }
        }
        if self.calls.len() != other.calls.len() {
            return Some(format!(
                "{} calls on wasmi, {} on wasm-prof",
                self.calls.len(),
                other.calls.len()
            ));
        }
        for ((name, a), (_, b)) in self.state.iter().zip(&other.state) {
            if a != b {
                let at = a
                    .iter()
                    .zip(b)
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.len().min(b.len()));
                return Some(format!(
                    "final state of export {name} differs at word {at}: wasmi {:?}, wasm-prof {:?}",
                    a.get(at),
                    b.get(at)
                ));
            }
        }
        (self.state.len() != other.state.len()).then(|| "exports differ".to_string())
    }
}

/// Why a run cannot be compared, when one overflowed its stack.
fn stack_overflow(run: &Run) -> Option<String> {
    let overflowed = |outcome: &str| outcome.contains("stack");
    run.instantiation
        .as_deref()
        .filter(|o| overflowed(o))
        .or_else(|| {
            run.calls.iter().find_map(|(_, o)| match o {
                Outcome::Trapped(t) if overflowed(t) => Some(t.as_str()),
                _ => None,
            })
        })
        .map(|t| format!("stack overflow ({t}): stack sizes differ between the engines"))
}

/// An argument drawn for a call.
#[derive(Clone, Copy, Debug)]
enum ArgValue {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    NullRef,
}

impl ArgValue {
    fn draw(ty: &wasmi::ValType, u: &mut Unstructured<'_>) -> Self {
        match ty {
            wasmi::ValType::I32 => Self::I32(i32::arbitrary(u).unwrap_or(0)),
            wasmi::ValType::I64 => Self::I64(i64::arbitrary(u).unwrap_or(0)),
            wasmi::ValType::F32 => Self::F32(u32::arbitrary(u).unwrap_or(0)),
            wasmi::ValType::F64 => Self::F64(u64::arbitrary(u).unwrap_or(0)),
            wasmi::ValType::V128 => Self::V128(u128::arbitrary(u).unwrap_or(0)),
            wasmi::ValType::FuncRef | wasmi::ValType::ExternRef => Self::NullRef,
        }
    }

    fn to_wasmi(self, ty: &wasmi::ValType) -> wasmi::Val {
        match self {
            Self::I32(v) => wasmi::Val::I32(v),
            Self::I64(v) => wasmi::Val::I64(v),
            Self::F32(v) => wasmi::Val::F32(wasmi::F32::from_bits(v)),
            Self::F64(v) => wasmi::Val::F64(wasmi::F64::from_bits(v)),
            Self::V128(v) => wasmi::Val::V128(wasmi::V128::from(v)),
            Self::NullRef => wasmi::Val::default_for_ty(*ty),
        }
    }

    fn to_wasm_prof(self, ty: ValType) -> Val {
        match self {
            Self::I32(v) => Val::I32(v),
            Self::I64(v) => Val::I64(v),
            Self::F32(v) => Val::F32(v),
            Self::F64(v) => Val::F64(v),
            Self::V128(v) => Val::V128(v),
            Self::NullRef => Val::default_for(ty),
        }
    }
}

fn wasmi_value(v: &wasmi::Val) -> Value {
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

fn wasm_prof_value(v: &Val) -> Value {
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

/// The trap both engines should agree on, by the spec's names.
fn wasmi_trap(e: &wasmi::Error) -> String {
    use wasmi::{
        TrapCode as T,
        errors::{ErrorKind, InstantiationError},
    };
    // wasmi reports an element segment that does not fit its table as an instantiation
    // error, where the spec (and wasm-prof) trap with "out of bounds table access".
    if let ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) = e.kind()
    {
        return TrapKind::TableOutOfBounds.message().to_string();
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
        _ => return format!("other wasmi error: {e}"),
    };
    kind.message().to_string()
}

fn wasm_prof_trap(e: &Error) -> String {
    match e {
        Error::Trap(trap) => trap.kind.message().to_string(),
        other => format!("other wasm-prof error: {other}"),
    }
}

/// wasmi with the same feature set as the runtime under test.
struct Wasmi {
    store: wasmi::Store<()>,
    instance: Result<wasmi::Instance, String>,
}

impl Wasmi {
    fn new(bytes: &[u8]) -> Result<Self, wasmi::Error> {
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
        let module = wasmi::Module::new(&engine, bytes)?;
        let mut store = wasmi::Store::new(&engine, ());
        let linker = wasmi::Linker::<()>::new(&engine);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| wasmi_trap(&e));
        Ok(Self { store, instance })
    }

    /// Calls every exported function once, in export order, with arguments drawn from `u`.
    fn run(&mut self, u: &mut Unstructured<'_>) -> Run {
        let instance = match &self.instance {
            Ok(instance) => *instance,
            Err(trap) => {
                return Run {
                    instantiation: Some(trap.clone()),
                    arguments: Vec::new(),
                    calls: Vec::new(),
                    state: Vec::new(),
                };
            }
        };
        let exports: Vec<(String, wasmi::Extern)> = instance
            .exports(&self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        let mut arguments = Vec::new();
        let mut calls = Vec::new();
        for (name, export) in &exports {
            let wasmi::Extern::Func(func) = export else {
                continue;
            };
            let ty = func.ty(&self.store);
            let args: Vec<ArgValue> = ty.params().iter().map(|t| ArgValue::draw(t, u)).collect();
            let inputs: Vec<wasmi::Val> = args
                .iter()
                .zip(ty.params())
                .map(|(a, t)| a.to_wasmi(t))
                .collect();
            let mut outputs: Vec<wasmi::Val> = ty
                .results()
                .iter()
                .map(|t| wasmi::Val::default_for_ty(*t))
                .collect();
            let outcome = match func.call(&mut self.store, &inputs, &mut outputs) {
                Ok(()) => Outcome::Returned(outputs.iter().map(wasmi_value).collect()),
                Err(e) => Outcome::Trapped(wasmi_trap(&e)),
            };
            arguments.push((name.clone(), args));
            calls.push((name.clone(), outcome));
        }
        let mut state = Vec::new();
        for (name, export) in &exports {
            match export {
                wasmi::Extern::Global(global) => {
                    state.push((name.clone(), vec![wasmi_value(&global.get(&self.store))]));
                }
                wasmi::Extern::Memory(memory) => {
                    let bytes = memory.data(&self.store);
                    state.push((name.clone(), memory_state(bytes)));
                }
                _ => {}
            }
        }
        state.sort_by(|a, b| a.0.cmp(&b.0));
        Run {
            instantiation: None,
            arguments,
            calls,
            state,
        }
    }
}

/// A memory's size and bytes as comparable values (16 bytes per value).
fn memory_state(bytes: &[u8]) -> Vec<Value> {
    let mut state = vec![Value::Bits(bytes.len() as u128)];
    state.extend(bytes.chunks(16).map(|chunk| {
        let mut word = [0u8; 16];
        word[..chunk.len()].copy_from_slice(chunk);
        Value::Bits(u128::from_le_bytes(word))
    }));
    state
}

/// Instantiates `module` on wasm-prof and makes the calls wasmi made, with its arguments.
fn run_wasm_prof(engine: &Engine, module: &Module, arguments: &[(String, Vec<ArgValue>)]) -> Run {
    let mut store = Store::new(engine);
    let instance = match Linker::new().instantiate(&mut store, module) {
        Ok(instance) => instance,
        Err(e) => {
            return Run {
                instantiation: Some(wasm_prof_trap(&e)),
                arguments: Vec::new(),
                calls: Vec::new(),
                state: Vec::new(),
            };
        }
    };
    let mut calls = Vec::new();
    for (name, args) in arguments {
        let Some(func) = instance.get_func(&store, name) else {
            calls.push((name.clone(), Outcome::Trapped("no such export".into())));
            continue;
        };
        let ty = func.ty(&store).clone();
        let inputs: Vec<Val> = args
            .iter()
            .zip(&ty.params)
            .map(|(a, t)| a.to_wasm_prof(*t))
            .collect();
        let outcome = match func.call(&mut store, &inputs) {
            Ok(results) => Outcome::Returned(results.iter().map(wasm_prof_value).collect()),
            Err(e) => Outcome::Trapped(wasm_prof_trap(&e)),
        };
        calls.push((name.clone(), outcome));
    }
    let exports: Vec<(String, Extern)> = instance
        .exports(&store)
        .map(|(n, e)| (n.to_string(), e))
        .collect();
    let mut state = Vec::new();
    for (name, export) in exports {
        match export {
            Extern::Global(global) => {
                state.push((name, vec![wasm_prof_value(&global.get(&store))]));
            }
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

/// The bytes wasm-smith makes case `case` of `seed` from.
pub fn case_bytes(seed: u64, case: usize) -> Vec<u8> {
    let mut raw = vec![0u8; 4096 + (case % 64) * 256];
    Bytes(seed ^ (case as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1).fill(&mut raw);
    raw
}

/// The module of a case (`None` when wasm-smith makes none from these bytes).
#[allow(dead_code, reason = "used by the campaign example, not by the test")]
pub fn module_bytes(raw: &[u8]) -> Option<Vec<u8>> {
    let mut generated =
        wasm_smith::Module::new(smith_config(), &mut Unstructured::new(raw)).ok()?;
    generated.ensure_termination(FUEL).ok()?;
    Some(generated.to_bytes())
}

/// Tallies of a campaign.
#[derive(Debug, Default)]
pub struct Summary {
    /// Generated inputs.
    pub cases: usize,
    /// Modules compared.
    pub compared: usize,
    /// Exported-function calls compared (per engine run).
    pub calls: usize,
    /// Differences explained (stack overflows): (case, explanation).
    pub explained: Vec<(usize, String)>,
    /// Unexplained mismatches: (case, description).
    pub mismatches: Vec<(usize, String)>,
}

/// Runs `count` cases from `seed` (each with a cache directory of its own under `cache`), each
/// from `4096 + (case % 64) * 256` generated bytes; a
/// case's bytes depend only on the seed and the case number, so any case reproduces alone.
pub fn campaign(
    seed: u64,
    count: usize,
    cache: &Path,
    mut progress: impl FnMut(&Summary),
) -> Summary {
    let mut summary = Summary::default();
    for case in 0..count {
        let raw = case_bytes(seed, case);
        summary.cases += 1;
        // A cache directory per case, removed after it: one directory of every case's entries
        // would make each store's size accounting list a growing directory.
        let case_cache = cache.join(case.to_string());
        let verdict = run_case(&raw, &case_cache);
        let _ = std::fs::remove_dir_all(&case_cache);
        match verdict {
            Verdict::Skipped => {}
            Verdict::Agreed { calls } => {
                summary.compared += 1;
                summary.calls += calls;
            }
            Verdict::Explained(why) => {
                summary.compared += 1;
                summary.explained.push((case, why));
            }
            Verdict::Mismatch(why) => {
                summary.compared += 1;
                summary.mismatches.push((case, why));
            }
        }
        progress(&summary);
    }
    summary
}
