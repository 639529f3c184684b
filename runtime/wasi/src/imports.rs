//! The `wasi_snapshot_preview1` import namespace: every function of preview 1 with its
//! signature and body, defined on a [`Linker`] around one shared [`WasiCtx`].

use std::{cell::RefCell, rc::Rc};

use wasm_prof_runtime::{
    ExternType, FuncType, Linker, Module, Trap, TrapKind, Val,
    ValType::{self, I32, I64},
};

use crate::{
    calls::{
        Body, Params, args, clock, fd_io, fd_meta, path, path_open, poll, prestat, readdir, sched,
        sock,
    },
    ctx::WasiCtx,
    errno::Errno,
    guest::Guest,
};

/// The import module name of WASI preview 1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// Every preview 1 function but `proc_exit`: name, parameters (all return an `errno` i32),
/// body.
const FUNCTIONS: &[(&str, &[ValType], Body)] = &[
    ("args_get", &[I32, I32], args::args_get),
    ("args_sizes_get", &[I32, I32], args::args_sizes_get),
    ("environ_get", &[I32, I32], args::environ_get),
    ("environ_sizes_get", &[I32, I32], args::environ_sizes_get),
    ("clock_res_get", &[I32, I32], clock::clock_res_get),
    ("clock_time_get", &[I32, I64, I32], clock::clock_time_get),
    ("fd_advise", &[I32, I64, I64, I32], fd_meta::fd_advise),
    ("fd_allocate", &[I32, I64, I64], fd_meta::fd_allocate),
    ("fd_close", &[I32], fd_meta::fd_close),
    ("fd_datasync", &[I32], fd_meta::fd_datasync),
    ("fd_fdstat_get", &[I32, I32], fd_meta::fd_fdstat_get),
    (
        "fd_fdstat_set_flags",
        &[I32, I32],
        fd_meta::fd_fdstat_set_flags,
    ),
    (
        "fd_fdstat_set_rights",
        &[I32, I64, I64],
        fd_meta::fd_fdstat_set_rights,
    ),
    ("fd_filestat_get", &[I32, I32], fd_meta::fd_filestat_get),
    (
        "fd_filestat_set_size",
        &[I32, I64],
        fd_meta::fd_filestat_set_size,
    ),
    (
        "fd_filestat_set_times",
        &[I32, I64, I64, I32],
        fd_meta::fd_filestat_set_times,
    ),
    ("fd_pread", &[I32, I32, I32, I64, I32], fd_io::fd_pread),
    ("fd_prestat_get", &[I32, I32], prestat::fd_prestat_get),
    (
        "fd_prestat_dir_name",
        &[I32, I32, I32],
        prestat::fd_prestat_dir_name,
    ),
    ("fd_pwrite", &[I32, I32, I32, I64, I32], fd_io::fd_pwrite),
    ("fd_read", &[I32, I32, I32, I32], fd_io::fd_read),
    (
        "fd_readdir",
        &[I32, I32, I32, I64, I32],
        readdir::fd_readdir,
    ),
    ("fd_renumber", &[I32, I32], fd_meta::fd_renumber),
    ("fd_seek", &[I32, I64, I32, I32], fd_io::fd_seek),
    ("fd_sync", &[I32], fd_meta::fd_sync),
    ("fd_tell", &[I32, I32], fd_io::fd_tell),
    ("fd_write", &[I32, I32, I32, I32], fd_io::fd_write),
    (
        "path_create_directory",
        &[I32, I32, I32],
        path::path_create_directory,
    ),
    (
        "path_filestat_get",
        &[I32, I32, I32, I32, I32],
        path::path_filestat_get,
    ),
    (
        "path_filestat_set_times",
        &[I32, I32, I32, I32, I64, I64, I32],
        path::path_filestat_set_times,
    ),
    (
        "path_link",
        &[I32, I32, I32, I32, I32, I32, I32],
        path::path_link,
    ),
    (
        "path_open",
        &[I32, I32, I32, I32, I32, I64, I64, I32, I32],
        path_open::path_open,
    ),
    (
        "path_readlink",
        &[I32, I32, I32, I32, I32, I32],
        path::path_readlink,
    ),
    (
        "path_remove_directory",
        &[I32, I32, I32],
        path::path_remove_directory,
    ),
    (
        "path_rename",
        &[I32, I32, I32, I32, I32, I32],
        path::path_rename,
    ),
    (
        "path_symlink",
        &[I32, I32, I32, I32, I32],
        path::path_symlink,
    ),
    ("path_unlink_file", &[I32, I32, I32], path::path_unlink_file),
    ("poll_oneoff", &[I32, I32, I32, I32], poll::poll_oneoff),
    ("proc_raise", &[I32], sched::nosys),
    ("random_get", &[I32, I32], sched::random_get),
    ("sched_yield", &[], sched::sched_yield),
    ("sock_accept", &[I32, I32, I32], sock::sock_accept),
    (
        "sock_recv",
        &[I32, I32, I32, I32, I32, I32],
        sock::sock_recv,
    ),
    ("sock_send", &[I32, I32, I32, I32, I32], sock::sock_send),
    ("sock_shutdown", &[I32, I32], sock::sock_shutdown),
];

/// Defines every `wasi_snapshot_preview1` function on `linker`, all sharing `ctx`.
/// The one function this runtime does not provide (`proc_raise`) returns `ENOSYS`.
pub fn add_to_linker(linker: &mut Linker, ctx: WasiCtx) {
    let ctx = Rc::new(RefCell::new(ctx));
    for &(name, params, body) in FUNCTIONS {
        let ctx = ctx.clone();
        let ty = FuncType::new(params.iter().copied(), [I32]);
        linker.func(MODULE, name, ty, move |caller, args, results| {
            let mut empty = [];
            let mut guest = Guest::new(caller.memory().unwrap_or(&mut empty));
            let mut ctx = ctx.borrow_mut();
            let errno = match body(&mut ctx, &mut guest, &Params(args)) {
                Ok(()) => Errno::Success,
                Err(errno) => errno,
            };
            if ctx.stop_requested() {
                return Err(Trap::new(TrapKind::Interrupt));
            }
            results[0] = Val::I32(i32::from(errno as u16));
            Ok(())
        });
    }
    linker.func(
        MODULE,
        "proc_exit",
        FuncType::new([I32], []),
        |_, args, _| Err(Trap::exit(Params(args).u32(0) as i32)),
    );
}

/// Defines the `wasi_snapshot_preview1` imports of `module` that [`add_to_linker`] does not
/// know (names outside preview 1) as functions returning `ENOSYS`, so that any WASI program
/// links. An unknown import whose signature cannot return an errno traps when called.
pub fn define_unknown_as_enosys(linker: &mut Linker, module: &Module) {
    for import in &module.info().imports {
        let ExternType::Func(ty) = &import.ty else {
            continue;
        };
        if import.module != MODULE || linker.is_defined(MODULE, &import.name) {
            continue;
        }
        let name = import.name.clone();
        let returns_errno = ty.results == [I32];
        linker.func(MODULE, &import.name, ty.clone(), move |_, _, results| {
            if !returns_errno {
                return Err(Trap::host(format!(
                    "{MODULE}::{name} is not provided by this runtime"
                )));
            }
            results[0] = Val::I32(i32::from(Errno::NoSys as u16));
            Ok(())
        });
    }
}
