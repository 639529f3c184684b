//! wasm-prof's runtime: an instrumented WebAssembly runtime on Cranelift with an on-disk
//! compiled-module cache. Every step of a module's life is timed by the [`phases`] clock.
//!
//! ```text
//! bytes → (hash → cache lookup) → parse/validate → compile → code image
//!       → (serialize → store) → instantiate → run
//! ```

#![deny(missing_docs)]

pub mod cache;
mod code;
mod compile;
pub mod config;
mod engine;
pub mod error;
mod linker;
pub mod module;
pub mod phases;
mod store;
mod typed;
pub mod types;
mod vm;
pub mod wasi;

pub use config::{Config, OptLevel};
pub use engine::Engine;
pub use error::{Error, Frame, Result, Trap, TrapKind};
pub use linker::Linker;
pub use module::{CacheOutcome, Module};
pub use store::{Extern, Func, Global, Instance, Memory, Store, Table};
pub use typed::{TypedFunc, WasmList, WasmTy};
pub use types::{ExternType, FuncType, GlobalType, Limits, MemoryType, TableType, Val, ValType};
pub use vm::host::{Caller, HostFn};
