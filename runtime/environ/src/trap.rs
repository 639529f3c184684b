//! Why guest code traps; the trap table in a code image stores these kinds by their `u8` code.

use std::fmt;

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
    /// A thrown exception that no handler caught: it left the guest call.
    UncaughtException,
    /// `memory.atomic.wait32` or `wait64` on a memory that is not shared (nothing could ever
    /// wake the waiter).
    WaitOnUnsharedMemory,
}

impl TrapKind {
    /// Every kind, indexed by its `u8` code.
    pub const ALL: [TrapKind; 16] = [
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
        TrapKind::UncaughtException,
        TrapKind::WaitOnUnsharedMemory,
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
            TrapKind::UncaughtException => "uncaught exception",
            TrapKind::WaitOnUnsharedMemory => "expected shared memory",
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

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
