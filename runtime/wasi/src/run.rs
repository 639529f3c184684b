//! Running a WASI program to completion: instantiate, call its entry point, turn `proc_exit`
//! into an exit status.

use wasm_prof_runtime::{
    Engine, Error, Linker, Module, Store,
    phases::{Phase, PhaseClock},
};

use crate::{WasiConfig, WasiCtx, WasiError, add_to_linker, define_unknown_as_enosys};

/// How a WASI program ended without trapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    /// 0 when `_start` returned (or a reactor's `_initialize` did), else `proc_exit`'s code.
    pub code: i32,
}

impl ExitStatus {
    /// Whether the code is 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// Runs `module` as a WASI program in a new store of `engine`; see [`run_command_in`].
///
/// # Errors
/// As [`run_command_in`].
pub fn run_command(
    engine: &Engine,
    module: &Module,
    config: &WasiConfig,
) -> Result<ExitStatus, WasiError> {
    run_command_in(&mut Store::new(engine), module, config)
}

/// Runs `module` as a WASI program in `store` (set an epoch deadline on it beforehand to
/// bound the run): links the WASI imports (names outside preview 1 return `ENOSYS`),
/// instantiates, then calls `_start` for a command or `_initialize` for a reactor.
///
/// # Errors
/// [`WasiError::Preopen`]/[`WasiError::Inherit`] when the context cannot be set up;
/// [`WasiError::NoEntryPoint`] when the module has neither entry point;
/// [`WasiError::Runtime`] for link errors and traps (a `proc_exit` is not a trap: it is the
/// returned status).
pub fn run_command_in(
    store: &mut Store,
    module: &Module,
    config: &WasiConfig,
) -> Result<ExitStatus, WasiError> {
    run_command_with_clock(store, module, config, None, &mut PhaseClock::disabled())
}

/// As [`run_command_in`], recording the `instantiate`, `start` and `execute` phases on `clock`.
/// With `invoke`, a reactor's `_initialize` (when exported) runs first, then the export
/// called `invoke` (which must take no arguments) instead of `_start`.
///
/// # Errors
/// As [`run_command_in`]; [`WasiError::NoEntryPoint`] when `invoke` is not an exported
/// function.
pub fn run_command_with_clock(
    store: &mut Store,
    module: &Module,
    config: &WasiConfig,
    invoke: Option<&str>,
    clock: &mut PhaseClock,
) -> Result<ExitStatus, WasiError> {
    let mut linker = Linker::new();
    add_to_linker(&mut linker, WasiCtx::new(config)?);
    define_unknown_as_enosys(&mut linker, module);
    let outcome = linker
        .instantiate_with_clock(store, module, clock)
        .and_then(|instance| {
            let span = clock.start(Phase::Execute);
            let entry = match invoke {
                Some(name) => {
                    if let Some(init) = instance.get_func(store, "_initialize") {
                        init.call(store, &[])?;
                    }
                    instance.get_func(store, name)
                }
                None => ["_start", "_initialize"]
                    .into_iter()
                    .find_map(|name| instance.get_func(store, name)),
            };
            let ran = match entry {
                Some(func) => func.call(store, &[]).map(Some),
                None => Ok(None),
            };
            clock.end(span);
            ran
        });
    match outcome {
        Ok(Some(_)) => Ok(ExitStatus { code: 0 }),
        Ok(None) => Err(WasiError::NoEntryPoint),
        Err(Error::Trap(trap)) if trap.exit_code.is_some() => Ok(ExitStatus {
            code: trap.exit_code.unwrap_or_default(),
        }),
        Err(error) => Err(error.into()),
    }
}
