//! The trap codes translated code raises, and the runtime trap kind each one reports.
//!
//! Cranelift reserves codes for the traps its backends raise themselves (stack overflow,
//! out-of-bounds heap access, integer overflow and division by zero, bad float-to-integer
//! conversion); the WebAssembly-specific ones are user codes chosen here.

use cranelift_codegen::ir::TrapCode;
use wasm_prof_environ::TrapKind;

/// A table index at or beyond the table's length.
pub(crate) const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(1);
/// `call_indirect` through a null table entry.
pub(crate) const INDIRECT_CALL_TO_NULL: TrapCode = TrapCode::unwrap_user(2);
/// `call_indirect` to a function of another signature.
pub(crate) const BAD_SIGNATURE: TrapCode = TrapCode::unwrap_user(3);
/// `unreachable` executed.
pub(crate) const UNREACHABLE: TrapCode = TrapCode::unwrap_user(4);
/// The epoch deadline passed.
pub(crate) const INTERRUPT: TrapCode = TrapCode::unwrap_user(5);
/// A null reference used where a non-null one is needed.
pub(crate) const NULL_REFERENCE: TrapCode = TrapCode::unwrap_user(6);
/// A host function called through a wasm-to-host trampoline failed.
pub(crate) const HOST_ERROR: TrapCode = TrapCode::unwrap_user(7);
/// A misaligned atomic access.
pub(crate) const HEAP_MISALIGNED: TrapCode = TrapCode::unwrap_user(8);
/// An atomic wait on a memory that is not shared.
pub(crate) const WAIT_ON_UNSHARED_MEMORY: TrapCode = TrapCode::unwrap_user(9);

/// The runtime's trap kind for a trap code found in compiled code.
pub(crate) fn trap_kind(code: TrapCode) -> TrapKind {
    match code {
        TrapCode::STACK_OVERFLOW => TrapKind::StackOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => TrapKind::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => TrapKind::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => TrapKind::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => TrapKind::BadConversionToInteger,
        TABLE_OUT_OF_BOUNDS => TrapKind::TableOutOfBounds,
        INDIRECT_CALL_TO_NULL => TrapKind::IndirectCallToNull,
        BAD_SIGNATURE => TrapKind::BadSignature,
        UNREACHABLE => TrapKind::UnreachableCodeReached,
        INTERRUPT => TrapKind::Interrupt,
        NULL_REFERENCE => TrapKind::NullReference,
        HOST_ERROR => TrapKind::HostError,
        HEAP_MISALIGNED => TrapKind::HeapMisaligned,
        WAIT_ON_UNSHARED_MEMORY => TrapKind::WaitOnUnsharedMemory,
        _ => TrapKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_its_own_kind() {
        let codes = [
            TrapCode::STACK_OVERFLOW,
            TrapCode::HEAP_OUT_OF_BOUNDS,
            TrapCode::INTEGER_OVERFLOW,
            TrapCode::INTEGER_DIVISION_BY_ZERO,
            TrapCode::BAD_CONVERSION_TO_INTEGER,
            TABLE_OUT_OF_BOUNDS,
            INDIRECT_CALL_TO_NULL,
            BAD_SIGNATURE,
            UNREACHABLE,
            INTERRUPT,
            NULL_REFERENCE,
            HOST_ERROR,
            HEAP_MISALIGNED,
            WAIT_ON_UNSHARED_MEMORY,
        ];
        let kinds: std::collections::HashSet<_> = codes.iter().map(|c| trap_kind(*c)).collect();
        assert_eq!(kinds.len(), codes.len());
        assert!(!kinds.contains(&TrapKind::Unknown));
    }
}
