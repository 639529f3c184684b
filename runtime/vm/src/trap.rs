//! Traps as the embedder sees them: a kind, a backtrace of wasm frames, for host errors
//! their message, and for an uncaught exception the exception.

use std::fmt;

use wasm_prof_environ::{ExnRef, TrapKind};

/// One frame of a wasm backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The module's name (from its name section), when known.
    pub module: Option<String>,
    /// Function index within that module.
    pub func_index: u32,
    /// Function name from the name section, when known.
    pub func_name: Option<String>,
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(module) = &self.module {
            write!(f, "{module}!")?;
        }
        match &self.func_name {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "<wasm function {}>", self.func_index),
        }
    }
}

/// A trap raised by guest code (or a host function it called).
#[derive(Clone, Debug)]
pub struct Trap {
    /// What went wrong.
    pub kind: TrapKind,
    /// Innermost frame first; empty when no wasm frame was found.
    pub backtrace: Vec<Frame>,
    /// For [`TrapKind::HostError`], the host's message.
    pub message: Option<String>,
    /// For a guest `proc_exit`, the exit code.
    pub exit_code: Option<i32>,
    /// For [`TrapKind::UncaughtException`], the exception.
    pub exception: Option<ExnRef>,
}

impl Trap {
    /// A trap of `kind` with no backtrace.
    pub fn new(kind: TrapKind) -> Self {
        Self {
            kind,
            backtrace: Vec::new(),
            message: None,
            exit_code: None,
            exception: None,
        }
    }

    /// An exception that no handler caught. A host function that returns this error throws
    /// `exception` into its wasm caller, where a handler may catch it.
    pub fn uncaught(exception: ExnRef) -> Self {
        Self {
            exception: Some(exception),
            ..Self::new(TrapKind::UncaughtException)
        }
    }

    /// A trap raised by a host function with `message`.
    pub fn host(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            ..Self::new(TrapKind::HostError)
        }
    }

    /// The guest asked to exit the process with `code` (WASI `proc_exit`).
    pub fn exit(code: i32) -> Self {
        Self {
            exit_code: Some(code),
            message: Some(format!("exit with code {code}")),
            ..Self::new(TrapKind::HostError)
        }
    }

    /// The wasm function index of the innermost frame, when known.
    pub fn func_index(&self) -> Option<u32> {
        self.backtrace.first().map(|f| f.func_index)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{m}")?,
            None => write!(f, "wasm trap: {}", self.kind)?,
        }
        if let Some(frame) = self.backtrace.first() {
            write!(f, " in {frame}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}
