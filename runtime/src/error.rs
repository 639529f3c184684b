//! The runtime's error type.

use std::{fmt, path::PathBuf};

use crate::cache::HashAlgoError;

/// Why a guest stopped abnormally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TrapKind {
    /// Native stack exhausted (too deep recursion).
    StackOverflow,
    /// Out-of-bounds linear memory access.
    MemoryOutOfBounds,
    /// Unaligned atomic access.
    HeapMisaligned,
    /// Out-of-bounds table access.
    TableOutOfBounds,
    /// `call_indirect` on a null table entry.
    IndirectCallToNull,
    /// `call_indirect` signature mismatch.
    BadSignature,
    /// Integer overflow (`INT_MIN / -1`).
    IntegerOverflow,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// Float-to-int conversion of NaN or an out-of-range value.
    BadConversionToInteger,
    /// `unreachable` executed.
    UnreachableCodeReached,
    /// The embedder interrupted execution (a deadline passed).
    Interrupt,
    /// A null reference was dereferenced.
    NullReference,
    /// A host function returned an error.
    HostError,
    /// A fault the runtime could not attribute to a wasm instruction.
    Unknown,
}

impl TrapKind {
    /// Every kind, indexed by its `u8` code.
    pub const ALL: [TrapKind; 14] = [
        TrapKind::StackOverflow,
        TrapKind::MemoryOutOfBounds,
        TrapKind::HeapMisaligned,
        TrapKind::TableOutOfBounds,
        TrapKind::IndirectCallToNull,
        TrapKind::BadSignature,
        TrapKind::IntegerOverflow,
        TrapKind::IntegerDivisionByZero,
        TrapKind::BadConversionToInteger,
        TrapKind::UnreachableCodeReached,
        TrapKind::Interrupt,
        TrapKind::NullReference,
        TrapKind::HostError,
        TrapKind::Unknown,
    ];

    /// The kind with `code` (as stored in trap tables), if any.
    pub fn from_code(code: u8) -> Option<TrapKind> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The message the spec test suite uses for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::StackOverflow => "call stack exhausted",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::HeapMisaligned => "unaligned atomic",
            TrapKind::TableOutOfBounds => "undefined element",
            TrapKind::IndirectCallToNull => "uninitialized element",
            TrapKind::BadSignature => "indirect call type mismatch",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::IntegerDivisionByZero => "integer divide by zero",
            TrapKind::BadConversionToInteger => "invalid conversion to integer",
            TrapKind::UnreachableCodeReached => "unreachable",
            TrapKind::Interrupt => "interrupted",
            TrapKind::NullReference => "null reference",
            TrapKind::HostError => "host function error",
            TrapKind::Unknown => "unknown fault",
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

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
}

impl Trap {
    /// A trap of `kind` with no backtrace.
    pub fn new(kind: TrapKind) -> Self {
        Self {
            kind,
            backtrace: Vec::new(),
            message: None,
            exit_code: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_kind_codes_round_trip() {
        for (code, kind) in TrapKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as u8 as usize, code);
            assert_eq!(TrapKind::from_code(code as u8), Some(kind));
        }
        assert_eq!(TrapKind::from_code(TrapKind::ALL.len() as u8), None);
    }
}
