//! Host functions: the context record compiled code passes to a wasm-to-host trampoline, and
//! the dispatcher that turns raw argument slots into [`Val`]s and back.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    rc::Rc,
};

use wasm_prof_environ::{
    ExternKind, FuncType, TrapKind, Val,
    libcall::{HOST_RETURNED, HOST_THREW, HOST_TRAPPED},
};

use crate::{instance::Instance, signals, signatures, trap::Trap};

/// A host function's body: arguments in, results written into the given slice.
pub type HostFn = dyn Fn(&mut Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap>;

/// What a wasm-to-host trampoline receives as its callee context.
#[repr(C)]
pub struct HostCtx {
    /// Address of [`dispatch`]; the trampoline calls through it (offset 0).
    dispatch: usize,
    /// The function's signature.
    pub ty: FuncType,
    /// The body.
    pub func: Rc<HostFn>,
}

impl HostCtx {
    /// The context for a host function `func` of type `ty`.
    pub fn new(ty: FuncType, func: Rc<HostFn>) -> Box<Self> {
        Box::new(Self {
            dispatch: dispatch as *const () as usize,
            ty,
            func,
        })
    }

    /// Calls the body with `args` directly from the host.
    pub fn call(&self, args: &[Val]) -> Result<Vec<Val>, Trap> {
        let mut results: Vec<Val> = self
            .ty
            .results
            .iter()
            .map(|t| Val::default_for(*t))
            .collect();
        let mut caller = Caller { instance: None };
        (self.func)(&mut caller, args, &mut results)?;
        Ok(results)
    }
}

/// The view a host function has of the instance that called it.
pub struct Caller<'a> {
    instance: Option<&'a mut Instance>,
}

impl Caller<'_> {
    /// The caller's exported memory named `memory` (the WASI convention), or else its first
    /// memory; `None` when called from the host or the caller has no memory.
    pub fn memory(&mut self) -> Option<&mut [u8]> {
        let instance = self.instance.as_deref_mut()?;
        let index = match instance.module.info().export("memory") {
            Some(e) if e.kind == ExternKind::Memory => e.index,
            _ if instance.memory_count() > 0 => 0,
            _ => return None,
        };
        Some(instance.memory_mut(index).data_mut())
    }
}

impl Caller<'_> {
    /// Calls the caller's exported function `name` with `args`: a host function calling back
    /// into the instance that called it. An exception the callee lets out comes back as a
    /// [`TrapKind::UncaughtException`] trap; returning that trap from the host function
    /// rethrows the exception into the caller.
    ///
    /// # Errors
    /// A host-error trap when there is no calling instance, `name` is not an exported function
    /// defined by it, or `args` do not fit its type; the callee's trap when it traps.
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, Trap> {
        let instance = self
            .instance
            .as_deref_mut()
            .ok_or_else(|| Trap::host("no calling instance to call back into"))?;
        let index = match instance.module.info().export(name) {
            Some(e) if e.kind == ExternKind::Func => e.index,
            _ => {
                return Err(Trap::host(format!(
                    "the caller exports no function {name:?}"
                )));
            }
        };
        let vmctx = instance.vmctx_ptr();
        let limits = instance.limits_ptr();
        if !args.iter().all(|a| instance.exceptions_mut().owns(a)) {
            return Err(Trap::host("an exception argument belongs to another store"));
        }
        let (func_ptr, trampoline, ty) = instance.defined_func(index).ok_or_else(|| {
            Trap::host(format!("{name:?} is imported, not defined, by the caller"))
        })?;
        let type_ids = instance.module.type_ids();
        let fits = args.len() == ty.params.len()
            && args
                .iter()
                .zip(&ty.params)
                .all(|(a, t)| signatures::value_matches(a, &t.canonicalize(type_ids)));
        if !fits {
            return Err(Trap::host(format!("{name:?} is not a {ty}")));
        }

        let result_types = ty.results.clone();
        let mut values = vec![0u128; args.len().max(result_types.len()).max(1)];
        for (slot, arg) in values.iter_mut().zip(args) {
            *slot = arg.to_raw();
        }
        type Entry = unsafe extern "C" fn(*mut u8, *mut u8, *const u8, *mut u128);
        // SAFETY: `trampoline` is the module's host-to-wasm trampoline compiled for the
        // callee's signature, with that native signature.
        let trampoline: Entry = unsafe { std::mem::transmute(trampoline) };
        let slots = values.as_mut_ptr();
        let enter = move || {
            // SAFETY: the callee and its vmctx are alive in the store; `slots` has room for
            // every argument and result.
            unsafe { trampoline(vmctx, vmctx, func_ptr, slots) }
        };
        // SAFETY: `limits` is the store's limits record, alive during the call (the store is
        // running the guest that called this host function).
        unsafe { signals::catch(limits, 0, enter) }?;
        Ok(result_types
            .iter()
            .zip(values)
            .map(|(t, raw)| Val::from_raw(*t, raw))
            .collect())
    }
}

/// Called by wasm-to-host trampolines: `values` holds the arguments in 16-byte slots and
/// receives the results. Returns [`HOST_RETURNED`]; [`HOST_TRAPPED`] after storing the trap to
/// raise; or [`HOST_THREW`] with the exception to rethrow in the first slot.
extern "C" fn dispatch(ctx: *const HostCtx, caller_vmctx: *mut u8, values: *mut u128) -> u32 {
    // SAFETY: trampolines pass the HostCtx recorded in the import slot, owned by the store.
    let ctx = unsafe { &*ctx };
    let slots = ctx.ty.params.len().max(ctx.ty.results.len()).max(1);
    // SAFETY: the trampoline reserved `slots` 16-byte slots (at least one) at `values`.
    let values = unsafe { std::slice::from_raw_parts_mut(values, slots) };
    let args: Vec<Val> = ctx
        .ty
        .params
        .iter()
        .zip(values.iter())
        .map(|(t, raw)| Val::from_raw(*t, *raw))
        .collect();
    let mut results: Vec<Val> = ctx
        .ty
        .results
        .iter()
        .map(|t| Val::default_for(*t))
        .collect();
    let mut caller = Caller {
        // SAFETY: the trampoline passes the calling instance's vmctx, alive during the call;
        // the guest is suspended in this call, so nothing else uses the instance.
        instance: Some(unsafe { Instance::from_vmctx(caller_vmctx) }),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        (ctx.func)(&mut caller, &args, &mut results)
    }));
    let trap = match outcome {
        Ok(Ok(())) => {
            if let Some(bad) = results
                .iter()
                .zip(&ctx.ty.results)
                .find(|(v, t)| !signatures::value_matches(v, t))
            {
                Trap::host(format!(
                    "host function returned a {} where its signature says {}",
                    bad.0.ty(),
                    bad.1
                ))
            } else {
                for (slot, value) in values.iter_mut().zip(&results) {
                    *slot = value.to_raw();
                }
                return HOST_RETURNED;
            }
        }
        Ok(Err(Trap {
            kind: TrapKind::UncaughtException,
            exception: Some(exception),
            ..
        })) => {
            let ours = caller
                .instance
                .as_deref_mut()
                .is_some_and(|i| i.exceptions_mut().get(exception.address()).is_some());
            if ours {
                values[0] = exception.address() as u128;
                return HOST_THREW;
            }
            Trap::host("host function threw an exception of another store")
        }
        Ok(Err(trap)) => trap,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Trap::host(format!("host function panicked: {message}"))
        }
    };
    signals::set_host_trap(trap);
    HOST_TRAPPED
}
