//! The VM layer of wasm-prof's runtime: what compiled code runs on.
//!
//! - [`CompiledModule`]: a code image published executable ([`code_memory`], never writable
//!   and executable at once) and registered so the trap handler can attribute faults;
//! - [`StoreData`]: the instances, functions, memories, tables and globals of one store, and
//!   [`instance::instantiate`], which builds a `vmctx` laid out as the environment layer's
//!   [`wasm_prof_environ::VMOffsets`] says;
//! - [`memory`], [`table`], the libcalls compiled code calls, host-function dispatch
//!   ([`host_func`]) and signal-based trap handling ([`signals`]);
//! - [`profiling`]: perf maps and jitdump files naming the guest code for Linux `perf`;
//! - exception tags and records ([`exception`]) and the unwinder that throws (`unwind`).
//!
//! It depends on the environment layer only, never on the compiler: the two agree through the
//! environment's offsets, libcall order and code layout.

#![deny(missing_docs)]

pub mod code_memory;
mod code_registry;
pub mod compiled_module;
pub mod error;
pub mod exception;
pub mod file_watch;
mod funcrefs;
pub mod host_func;
pub mod instance;
mod libcalls;
pub mod memory;
pub mod profiling;
pub mod signals;
pub mod signatures;
pub mod store_data;
pub mod table;
pub mod trap;
mod unwind;
pub mod vmctx;

pub use compiled_module::CompiledModule;
pub use error::{Result, VmError};
pub use host_func::{Caller, HostFn};
pub use store_data::{FuncData, FuncKind, GlobalData, StoreData, StoreItem};
pub use trap::{Frame, Trap};
