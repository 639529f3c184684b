//! The environment layer of wasm-prof's runtime: plain data that the compiler and the VM agree
//! on, and nothing that compiles or runs code.
//!
//! - [`module_info`]: what a module declares ([`ModuleInfo`]), produced by [`parse()`] with
//!   wasmparser, and the value and item [`types`];
//! - [`vmoffsets`]: the layout of the per-instance context compiled code reads, and
//!   [`Libcall`]: the order of the runtime helpers it calls;
//! - [`code_layout`]: where functions, trampolines, the trap table, data and memory images lie
//!   in a code image, and [`memory_image`]: how data segments become memory images;
//! - [`TrapKind`]: why guest code traps, as the trap table encodes it.
//!
//! The compiler (`wasm-prof-compile`) and the VM (`wasm-prof-vm`) depend on this crate and never
//! on each other.

#![deny(missing_docs)]

pub mod code_layout;
pub mod error;
pub mod exception_table;
pub mod libcall;
pub mod memory_image;
pub mod module_info;
pub mod parse;
pub mod trap;
pub mod tunables;
pub mod types;
pub mod vmoffsets;

pub use code_layout::CodeLayout;
pub use error::{ModuleError, Result};
pub use libcall::Libcall;
pub use memory_image::MemoryImage;
pub use module_info::{ExternKind, ModuleInfo};
pub use parse::{ParsedModule, PendingBody, parse};
pub use trap::TrapKind;
pub use types::{
    AddressType, ExnRef, ExternType, FuncRef, FuncType, GlobalType, HeapType, Limits, MemoryType,
    RefType, TableType, TypeDecl, Val, ValType,
};
pub use vmoffsets::VMOffsets;

include!(concat!(env!("OUT_DIR"), "/schema.rs"));
