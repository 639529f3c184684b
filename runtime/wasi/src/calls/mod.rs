//! The bodies of the `wasi_snapshot_preview1` functions, one file per family. Each body takes
//! the guest's context, its memory and the call's arguments, and returns `Ok(())` or the
//! errno to report; [`crate::imports`] turns them into host functions.

pub(crate) mod args;
pub(crate) mod clock;
pub(crate) mod fd_io;
pub(crate) mod fd_meta;
pub(crate) mod path;
pub(crate) mod path_open;
pub(crate) mod poll;
pub(crate) mod prestat;
pub(crate) mod readdir;
pub(crate) mod sched;
pub(crate) mod sock;

use wasm_prof_runtime::Val;

use crate::{ctx::WasiCtx, errno::WasiResult, guest::Guest};

/// A WASI function's body.
pub(crate) type Body = fn(&mut WasiCtx, &mut Guest<'_>, &Params<'_>) -> WasiResult<()>;

/// A call's arguments, read as the unsigned integers the witx types are.
pub(crate) struct Params<'a>(pub &'a [Val]);

impl Params<'_> {
    /// Argument `i` as a 32-bit value (pointers, lengths, descriptors, flags).
    pub(crate) fn u32(&self, i: usize) -> u32 {
        match self.0[i] {
            Val::I32(v) => v as u32,
            Val::I64(v) => v as u32,
            _ => 0,
        }
    }

    /// Argument `i` as a 64-bit value (offsets, sizes, timestamps, rights).
    pub(crate) fn u64(&self, i: usize) -> u64 {
        match self.0[i] {
            Val::I64(v) => v as u64,
            Val::I32(v) => u64::from(v as u32),
            _ => 0,
        }
    }
}
