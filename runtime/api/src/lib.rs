//! wasm-prof's runtime: an instrumented WebAssembly runtime on Cranelift with an on-disk
//! compiled-module cache. Every step of a module's life is timed by the [`phases`] clock.
//!
//! ```text
//! bytes → (hash → cache lookup → remote lookup → fetch → backfill) → parse/validate → compile
//!       → code image → (serialize → store → upload in the background) → instantiate → run
//! ```
//!
//! This crate is the public API over the runtime's layers, each its own crate whose
//! dependencies only point down: [`environ`] (plain data both sides agree on), then the
//! compiler (`wasm-prof-compile`) and the VM (`wasm-prof-vm`), then this crate ([`Engine`], [`Module`]
//! with the cache integration, [`Store`], [`Linker`], typed calls); WASI (`wasm-prof-wasi`)
//! sits on top. The [`cache`], its [`remote_cache`] tiers and the [`phases`] clock depend on
//! none of them.

#![deny(missing_docs)]

pub mod artifact_breakdown;
pub mod config;
mod engine;
pub mod error;
mod linker;
pub mod module;
mod module_file;
mod remote;
mod store;
mod typed;

pub use config::{Config, WasmStandard};
pub use engine::Engine;
pub use error::{Error, Result};
pub use linker::Linker;
pub use module::{CacheOutcome, Module};
pub use store::{Extern, Func, Global, Instance, Memory, Store, Table, Tag};
pub use typed::{TypedFunc, WasmList, WasmTy};
pub use wasm_prof_cache as cache;
pub use wasm_prof_compile::OptLevel;
pub use wasm_prof_environ as environ;
pub use wasm_prof_environ::{
    AddressType, ExnRef, ExternType, FuncType, GlobalType, HeapType, Limits, MemoryType, RefType,
    TableType, TrapKind, Val, ValType, types,
};
pub use wasm_prof_phases as phases;
pub use wasm_prof_remote_cache as remote_cache;
pub use wasm_prof_vm::{
    Caller, Frame, HostFn, Trap,
    profiling::{PERF_VAR, PerfProfiling},
};
