//! The machinery compiled code runs on: `vmctx` layout, instances, memories, tables, runtime
//! helpers, signature ids, host-call dispatch and trap handling.

pub(crate) mod host;
pub(crate) mod instance;
pub(crate) mod libcalls;
pub(crate) mod memory;
pub(crate) mod signatures;
pub(crate) mod table;
pub(crate) mod traps;
pub(crate) mod vmctx;
