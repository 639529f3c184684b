//! Differential execution against an independent engine: a module that wasm-smith generates is
//! instantiated and run on wasm-prof (compiled, and loaded back from the cache) and on a
//! [`ReferenceEngine`], every exported function called with the same generated arguments, and
//! the results, traps, exported globals and memories compared.
//!
//! wasmi ([`Wasmi`]) is the reference of the fixed-seed test and the campaign example of
//! `wasm-prof-runtime`; bench-suite implements the trait for wasmtime (its `peers` feature) to
//! check what wasmi cannot run, exceptions above all. Not published: a test crate.

#![deny(missing_docs)]

mod command;
mod harness;
pub mod smith;
mod wasm_prof;
mod wasmi_reference;

use arbitrary::{Arbitrary, Unstructured};
use wasm_prof_runtime::{TrapKind, Val, ValType};

pub use command::campaign_command;
pub use harness::{
    Agreement, Summary, Verdict, campaign, case_bytes, compare_module, module_bytes, run_case,
};
pub use wasmi_reference::Wasmi;

/// An engine wasm-prof is compared with. The harness compiles a module with [`compile`], then
/// [`instantiate`]s it and, when that succeeds, calls every function of
/// [`exported_functions`] once and reads [`exported_state`].
///
/// [`compile`]: ReferenceEngine::compile
/// [`instantiate`]: ReferenceEngine::instantiate
/// [`exported_functions`]: ReferenceEngine::exported_functions
/// [`exported_state`]: ReferenceEngine::exported_state
pub trait ReferenceEngine: Sized {
    /// The engine's name in mismatch descriptions.
    const NAME: &'static str;

    /// wasm-smith limited to what this engine and wasm-prof both run, from
    /// [`smith::differential_config`] (no imports, everything exported, canonical NaNs).
    fn smith_config() -> wasm_smith::Config;

    /// Compiles `bytes`, a module wasm-prof's validator accepts.
    ///
    /// # Errors
    /// The engine's message when it refuses the module.
    fn compile(bytes: &[u8]) -> Result<Self, String>;

    /// Instantiates the module with no imports (running its segments and start function).
    ///
    /// # Errors
    /// How instantiation failed, normalized.
    fn instantiate(&mut self) -> Result<(), Failure>;

    /// The exported functions in the engine's export order, with the kinds of their
    /// parameters; empty before a successful [`instantiate`](ReferenceEngine::instantiate).
    fn exported_functions(&mut self) -> Vec<(String, Vec<ValueKind>)>;

    /// Calls the exported function `name` with `args` (one per parameter).
    fn call(&mut self, name: &str, args: &[ArgValue]) -> CallOutcome;

    /// The exported globals' values and exported memories' [`memory_state`]s, by export name
    /// in any order.
    fn exported_state(&mut self) -> Vec<(String, Vec<Value>)>;
}

/// A value as every engine can report it: numbers bit for bit, references by null-ness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A number or vector, zero-extended to 128 bits (floats as their bits).
    Bits(u128),
    /// A reference of any type.
    Ref {
        /// Whether it is null.
        null: bool,
    },
}

/// How a call or an instantiation failed, in a form every engine can report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A trap, by wasm-prof's kinds (an exception that left the call is
    /// [`TrapKind::UncaughtException`]).
    Trap(TrapKind),
    /// An error that is not a trap, with the engine's message: never agrees with anything.
    Error(String),
}

impl Failure {
    /// Whether this is a stack overflow, which engines with stacks of different sizes do not
    /// agree on.
    pub fn is_stack_overflow(&self) -> bool {
        *self == Failure::Trap(TrapKind::StackOverflow)
    }
}

/// What a call returned, or how it failed.
pub type CallOutcome = Result<Vec<Value>, Failure>;

/// The kind of a parameter, which is all drawing an argument for it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `v128`.
    V128,
    /// A nullable reference of any type (arguments are null).
    Ref,
}

/// An argument drawn for a call, given to every engine.
#[derive(Clone, Copy, Debug)]
pub enum ArgValue {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bits.
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    /// A `v128`.
    V128(u128),
    /// The null reference of the parameter's type.
    NullRef,
}

impl ArgValue {
    /// An argument of `kind` from the next bytes of `u` (zero when they run out).
    pub fn draw(kind: ValueKind, u: &mut Unstructured<'_>) -> Self {
        match kind {
            ValueKind::I32 => Self::I32(i32::arbitrary(u).unwrap_or(0)),
            ValueKind::I64 => Self::I64(i64::arbitrary(u).unwrap_or(0)),
            ValueKind::F32 => Self::F32(u32::arbitrary(u).unwrap_or(0)),
            ValueKind::F64 => Self::F64(u64::arbitrary(u).unwrap_or(0)),
            ValueKind::V128 => Self::V128(u128::arbitrary(u).unwrap_or(0)),
            ValueKind::Ref => Self::NullRef,
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

/// A memory's size and bytes as comparable values (16 bytes per value), what
/// [`ReferenceEngine::exported_state`] reports for an exported memory.
pub fn memory_state(bytes: &[u8]) -> Vec<Value> {
    let mut state = vec![Value::Bits(bytes.len() as u128)];
    state.extend(bytes.chunks(16).map(|chunk| {
        let mut word = [0u8; 16];
        word[..chunk.len()].copy_from_slice(chunk);
        Value::Bits(u128::from_le_bytes(word))
    }));
    state
}
