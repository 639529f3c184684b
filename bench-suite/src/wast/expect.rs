//! The checks of the `assert_*` directives that expect an error: traps, uncaught exceptions,
//! rejected modules and failed links. Messages are matched leniently (by kind, or by prefix either way), the way
//! other runtimes' spec runners do; an error of the wrong kind never passes.

use wasm_prof_runtime::{Error, Instance, Module, Result, TrapKind, Val};

use super::{script::Outcome, values};

/// The texts spec scripts (of any version) use for a trap of `kind`, besides
/// [`TrapKind::message`].
fn trap_texts(kind: TrapKind) -> &'static [&'static str] {
    match kind {
        TrapKind::MemoryOutOfBounds => &["data segment does not fit"],
        TrapKind::TableOutOfBounds => &[
            "out of bounds table access",
            "elements segment does not fit",
        ],
        TrapKind::BadSignature => &["indirect call signature mismatch"],
        TrapKind::WaitOnUnsharedMemory => &["atomic wait on non-shared memory"],
        TrapKind::NullReference => &["null function reference"],
        _ => &[],
    }
}

/// Whether a trap of `kind` fits the script's `expected` message: one of the kind's texts
/// starts with it (a script may say just "out of bounds"), or it starts with one of them (a
/// script may add detail, as in "uninitialized element 2").
fn trap_fits(kind: TrapKind, expected: &str) -> bool {
    let fits = |text: &str| text.starts_with(expected) || expected.starts_with(text);
    fits(kind.message()) || trap_texts(kind).iter().copied().any(fits)
}

/// `assert_trap` / `assert_exhaustion`: `got` must be a trap whose kind fits `expected`.
pub fn trap(got: Result<Vec<Val>>, expected: &str) -> Outcome {
    match got {
        Err(Error::Trap(trap)) if trap_fits(trap.kind, expected) => Ok(()),
        Err(Error::Trap(trap))
            if trap
                .message
                .as_deref()
                .is_some_and(|m| m.contains(expected)) =>
        {
            Ok(())
        }
        other => Err(format!("expected trap \"{expected}\", got {}", describe(&other)).into()),
    }
}

/// `assert_exception`: `got` must end in an exception that nothing caught.
pub fn exception(got: Result<Vec<Val>>) -> Outcome {
    match got {
        Err(Error::Trap(trap)) if trap.kind == TrapKind::UncaughtException => Ok(()),
        other => Err(format!("expected an uncaught exception, got {}", describe(&other)).into()),
    }
}

/// `assert_invalid` / `assert_malformed`: compiling must fail with [`Error::Invalid`].
pub fn rejected(got: Result<Module>, expected: &str) -> Outcome {
    match got {
        Err(Error::Invalid(_)) => Ok(()),
        Ok(_) => Err(format!("expected rejection \"{expected}\", but the module compiled").into()),
        Err(e) => Err(format!("expected rejection \"{expected}\", got another error: {e}").into()),
    }
}

/// `assert_unlinkable`: instantiating must fail with [`Error::Link`].
pub fn unlinkable(got: Result<Instance>, expected: &str) -> Outcome {
    match got {
        Err(Error::Link { .. }) => Ok(()),
        Ok(_) => Err(format!("expected link error \"{expected}\", but it instantiated").into()),
        Err(e) => Err(format!("expected link error \"{expected}\", got: {e}").into()),
    }
}

/// What a call or instantiation did, for messages.
pub fn describe(result: &Result<Vec<Val>>) -> String {
    match result {
        Ok(vals) => format!("success with {}", values::show_all(vals)),
        Err(Error::Trap(trap)) => format!("trap \"{}\" ({trap})", trap.kind.message()),
        Err(e) => format!("error: {e}"),
    }
}
