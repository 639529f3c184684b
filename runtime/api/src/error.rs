//! The runtime's error type.

use std::path::PathBuf;

use wasm_prof_compile::CompileError;
use wasm_prof_environ::ModuleError;
use wasm_prof_vm::{Trap, VmError};

use crate::cache::HashAlgoError;

/// Everything that can go wrong in the runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a file failed.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a well-formed or valid module.
    #[error("invalid module: {0}")]
    Invalid(String),
    /// The module uses something this runtime does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Cranelift failed to compile a function.
    #[error("compiling function {func_index} failed: {message}")]
    Compile {
        /// Function index.
        func_index: u32,
        /// Cranelift's message.
        message: String,
    },
    /// An import could not be satisfied.
    #[error("unknown import: {module}::{name} ({kind}) {reason}")]
    Link {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
        /// `func`, `table`, `memory` or `global`.
        kind: &'static str,
        /// Why it did not link.
        reason: String,
    },
    /// Guest code trapped.
    #[error(transparent)]
    Trap(#[from] Trap),
    /// A resource limit was hit (memory reservation, table size, ...).
    #[error("resource limit: {0}")]
    Limit(String),
    /// A call from the host had the wrong arguments.
    #[error("bad call: {0}")]
    BadCall(String),
    /// The configuration is not usable on this machine.
    #[error("configuration: {0}")]
    Config(String),
    /// The hash algorithm cannot run here.
    #[error(transparent)]
    Hash(#[from] HashAlgoError),
    /// Executable memory could not be set up.
    #[error("code memory: {0}")]
    CodeMemory(String),
}

/// The runtime's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The exception that left guest code uncaught (a trap of kind
    /// [`wasm_prof_environ::TrapKind::UncaughtException`]), if that is what this error is.
    pub fn exception(&self) -> Option<wasm_prof_environ::ExnRef> {
        match self {
            Error::Trap(trap) => trap.exception,
            _ => None,
        }
    }
}

impl From<ModuleError> for Error {
    fn from(e: ModuleError) -> Self {
        match e {
            ModuleError::Invalid(m) => Error::Invalid(m),
            ModuleError::Unsupported(m) => Error::Unsupported(m),
            ModuleError::Limit(m) => Error::Limit(m),
        }
    }
}

impl From<CompileError> for Error {
    fn from(e: CompileError) -> Self {
        match e {
            CompileError::Invalid(m) => Error::Invalid(m),
            CompileError::Unsupported(m) => Error::Unsupported(m),
            CompileError::Limit(m) => Error::Limit(m),
            CompileError::Function {
                func_index,
                message,
            } => Error::Compile {
                func_index,
                message,
            },
            CompileError::Target(m) => Error::Config(m),
        }
    }
}

impl From<VmError> for Error {
    fn from(e: VmError) -> Self {
        match e {
            VmError::Limit(m) => Error::Limit(m),
            VmError::CodeMemory(m) => Error::CodeMemory(m),
            VmError::Trap(trap) => Error::Trap(trap),
        }
    }
}
