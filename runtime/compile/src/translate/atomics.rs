//! The threads proposal's operators on linear memory: atomic loads and stores of every width,
//! read-modify-write operators (add, sub, and, or, xor, xchg) and compare-exchange of every
//! width, `atomic.fence`, `memory.atomic.notify` and `memory.atomic.wait32`/`wait64`.
//!
//! Shared memories are refused when a module is parsed (a store runs one thread), so every
//! memory these operators see is unshared. They still become Cranelift's sequentially
//! consistent atomic instructions, which cost little and keep their meaning. Nothing can wait
//! on an unshared memory, so `notify` wakes no one (it returns 0) and `wait` traps with
//! "expected shared memory", as the specification says.
//!
//! Every access checks, in this order: that the wasm effective address `index + offset` is a
//! multiple of the access size (else a `HEAP_MISALIGNED` trap), then that it is in bounds,
//! through [`Translator::heap_address`] like any other access (an explicit check or a fault
//! the access's trap site reports as out of bounds).
//!
//! Narrow operators (`load8_u`, `rmw16.add_u`, `rmw32.cmpxchg_u`, ...) work on an `i8`, `i16`
//! or `i32` in memory: their operands are truncated to it and the old value they return is
//! zero-extended to the operator's type.

use cranelift_codegen::ir::{self, AtomicRmwOp, InstBuilder, types};
use wasmparser::{MemArg, Operator};

use super::{Translator, memory::heap_flags};
use crate::{error::Result, traps};

/// Translates an atomic operator; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Operator) -> Result<bool> {
    use AtomicRmwOp::{Add, And, Or, Sub, Xchg, Xor};
    match *op {
        Operator::I32AtomicLoad { memarg } => load(t, &memarg, I32_IN_32)?,
        Operator::I32AtomicLoad8U { memarg } => load(t, &memarg, I32_IN_8)?,
        Operator::I32AtomicLoad16U { memarg } => load(t, &memarg, I32_IN_16)?,
        Operator::I64AtomicLoad { memarg } => load(t, &memarg, I64_IN_64)?,
        Operator::I64AtomicLoad8U { memarg } => load(t, &memarg, I64_IN_8)?,
        Operator::I64AtomicLoad16U { memarg } => load(t, &memarg, I64_IN_16)?,
        Operator::I64AtomicLoad32U { memarg } => load(t, &memarg, I64_IN_32)?,

        Operator::I32AtomicStore { memarg } => store(t, &memarg, I32_IN_32)?,
        Operator::I32AtomicStore8 { memarg } => store(t, &memarg, I32_IN_8)?,
        Operator::I32AtomicStore16 { memarg } => store(t, &memarg, I32_IN_16)?,
        Operator::I64AtomicStore { memarg } => store(t, &memarg, I64_IN_64)?,
        Operator::I64AtomicStore8 { memarg } => store(t, &memarg, I64_IN_8)?,
        Operator::I64AtomicStore16 { memarg } => store(t, &memarg, I64_IN_16)?,
        Operator::I64AtomicStore32 { memarg } => store(t, &memarg, I64_IN_32)?,

        Operator::I32AtomicRmwAdd { memarg } => rmw(t, &memarg, Add, I32_IN_32)?,
        Operator::I32AtomicRmw8AddU { memarg } => rmw(t, &memarg, Add, I32_IN_8)?,
        Operator::I32AtomicRmw16AddU { memarg } => rmw(t, &memarg, Add, I32_IN_16)?,
        Operator::I64AtomicRmwAdd { memarg } => rmw(t, &memarg, Add, I64_IN_64)?,
        Operator::I64AtomicRmw8AddU { memarg } => rmw(t, &memarg, Add, I64_IN_8)?,
        Operator::I64AtomicRmw16AddU { memarg } => rmw(t, &memarg, Add, I64_IN_16)?,
        Operator::I64AtomicRmw32AddU { memarg } => rmw(t, &memarg, Add, I64_IN_32)?,

        Operator::I32AtomicRmwSub { memarg } => rmw(t, &memarg, Sub, I32_IN_32)?,
        Operator::I32AtomicRmw8SubU { memarg } => rmw(t, &memarg, Sub, I32_IN_8)?,
        Operator::I32AtomicRmw16SubU { memarg } => rmw(t, &memarg, Sub, I32_IN_16)?,
        Operator::I64AtomicRmwSub { memarg } => rmw(t, &memarg, Sub, I64_IN_64)?,
        Operator::I64AtomicRmw8SubU { memarg } => rmw(t, &memarg, Sub, I64_IN_8)?,
        Operator::I64AtomicRmw16SubU { memarg } => rmw(t, &memarg, Sub, I64_IN_16)?,
        Operator::I64AtomicRmw32SubU { memarg } => rmw(t, &memarg, Sub, I64_IN_32)?,

        Operator::I32AtomicRmwAnd { memarg } => rmw(t, &memarg, And, I32_IN_32)?,
        Operator::I32AtomicRmw8AndU { memarg } => rmw(t, &memarg, And, I32_IN_8)?,
        Operator::I32AtomicRmw16AndU { memarg } => rmw(t, &memarg, And, I32_IN_16)?,
        Operator::I64AtomicRmwAnd { memarg } => rmw(t, &memarg, And, I64_IN_64)?,
        Operator::I64AtomicRmw8AndU { memarg } => rmw(t, &memarg, And, I64_IN_8)?,
        Operator::I64AtomicRmw16AndU { memarg } => rmw(t, &memarg, And, I64_IN_16)?,
        Operator::I64AtomicRmw32AndU { memarg } => rmw(t, &memarg, And, I64_IN_32)?,

        Operator::I32AtomicRmwOr { memarg } => rmw(t, &memarg, Or, I32_IN_32)?,
        Operator::I32AtomicRmw8OrU { memarg } => rmw(t, &memarg, Or, I32_IN_8)?,
        Operator::I32AtomicRmw16OrU { memarg } => rmw(t, &memarg, Or, I32_IN_16)?,
        Operator::I64AtomicRmwOr { memarg } => rmw(t, &memarg, Or, I64_IN_64)?,
        Operator::I64AtomicRmw8OrU { memarg } => rmw(t, &memarg, Or, I64_IN_8)?,
        Operator::I64AtomicRmw16OrU { memarg } => rmw(t, &memarg, Or, I64_IN_16)?,
        Operator::I64AtomicRmw32OrU { memarg } => rmw(t, &memarg, Or, I64_IN_32)?,

        Operator::I32AtomicRmwXor { memarg } => rmw(t, &memarg, Xor, I32_IN_32)?,
        Operator::I32AtomicRmw8XorU { memarg } => rmw(t, &memarg, Xor, I32_IN_8)?,
        Operator::I32AtomicRmw16XorU { memarg } => rmw(t, &memarg, Xor, I32_IN_16)?,
        Operator::I64AtomicRmwXor { memarg } => rmw(t, &memarg, Xor, I64_IN_64)?,
        Operator::I64AtomicRmw8XorU { memarg } => rmw(t, &memarg, Xor, I64_IN_8)?,
        Operator::I64AtomicRmw16XorU { memarg } => rmw(t, &memarg, Xor, I64_IN_16)?,
        Operator::I64AtomicRmw32XorU { memarg } => rmw(t, &memarg, Xor, I64_IN_32)?,

        Operator::I32AtomicRmwXchg { memarg } => rmw(t, &memarg, Xchg, I32_IN_32)?,
        Operator::I32AtomicRmw8XchgU { memarg } => rmw(t, &memarg, Xchg, I32_IN_8)?,
        Operator::I32AtomicRmw16XchgU { memarg } => rmw(t, &memarg, Xchg, I32_IN_16)?,
        Operator::I64AtomicRmwXchg { memarg } => rmw(t, &memarg, Xchg, I64_IN_64)?,
        Operator::I64AtomicRmw8XchgU { memarg } => rmw(t, &memarg, Xchg, I64_IN_8)?,
        Operator::I64AtomicRmw16XchgU { memarg } => rmw(t, &memarg, Xchg, I64_IN_16)?,
        Operator::I64AtomicRmw32XchgU { memarg } => rmw(t, &memarg, Xchg, I64_IN_32)?,

        Operator::I32AtomicRmwCmpxchg { memarg } => cmpxchg(t, &memarg, I32_IN_32)?,
        Operator::I32AtomicRmw8CmpxchgU { memarg } => cmpxchg(t, &memarg, I32_IN_8)?,
        Operator::I32AtomicRmw16CmpxchgU { memarg } => cmpxchg(t, &memarg, I32_IN_16)?,
        Operator::I64AtomicRmwCmpxchg { memarg } => cmpxchg(t, &memarg, I64_IN_64)?,
        Operator::I64AtomicRmw8CmpxchgU { memarg } => cmpxchg(t, &memarg, I64_IN_8)?,
        Operator::I64AtomicRmw16CmpxchgU { memarg } => cmpxchg(t, &memarg, I64_IN_16)?,
        Operator::I64AtomicRmw32CmpxchgU { memarg } => cmpxchg(t, &memarg, I64_IN_32)?,

        Operator::AtomicFence { .. } => {
            t.b.ins().fence();
        }
        Operator::MemoryAtomicNotify { memarg } => notify(t, &memarg)?,
        Operator::MemoryAtomicWait32 { memarg } => wait(t, &memarg, types::I32)?,
        Operator::MemoryAtomicWait64 { memarg } => wait(t, &memarg, types::I64)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// What an atomic operator accesses: an integer of type `memory` in linear memory, seen as
/// an integer of type `stack` (as wide or wider) on the operand stack.
#[derive(Clone, Copy, Debug)]
struct Width {
    /// The integer type in memory.
    memory: ir::Type,
    /// The operator's integer type on the stack.
    stack: ir::Type,
}

/// An i32 operator on a whole i32.
const I32_IN_32: Width = Width {
    memory: types::I32,
    stack: types::I32,
};
/// An i32 operator on one byte.
const I32_IN_8: Width = Width {
    memory: types::I8,
    stack: types::I32,
};
/// An i32 operator on two bytes.
const I32_IN_16: Width = Width {
    memory: types::I16,
    stack: types::I32,
};
/// An i64 operator on a whole i64.
const I64_IN_64: Width = Width {
    memory: types::I64,
    stack: types::I64,
};
/// An i64 operator on one byte.
const I64_IN_8: Width = Width {
    memory: types::I8,
    stack: types::I64,
};
/// An i64 operator on two bytes.
const I64_IN_16: Width = Width {
    memory: types::I16,
    stack: types::I64,
};
/// An i64 operator on four bytes.
const I64_IN_32: Width = Width {
    memory: types::I32,
    stack: types::I64,
};

impl Width {
    /// How many bytes the access reads or writes (and the alignment it needs).
    fn bytes(self) -> u32 {
        self.memory.bytes()
    }

    /// An operand of the stack's type cut to the memory's type.
    fn narrow(self, t: &mut Translator, value: ir::Value) -> ir::Value {
        if self.memory == self.stack {
            value
        } else {
            t.b.ins().ireduce(self.memory, value)
        }
    }

    /// A value read from memory zero-extended to the stack's type.
    fn widen(self, t: &mut Translator, value: ir::Value) -> ir::Value {
        if self.memory == self.stack {
            value
        } else {
            t.b.ins().uextend(self.stack, value)
        }
    }
}

/// The native address of an atomic access of `bytes` bytes at wasm address `index` (of the
/// memory's address type) plus `memarg`'s offset, after the alignment and bounds checks.
/// Atomic instructions take no immediate offset, so the whole offset is added here.
fn atomic_address(
    t: &mut Translator,
    memarg: &MemArg,
    index: ir::Value,
    bytes: u32,
) -> Result<ir::Value> {
    check_alignment(t, memarg, index, bytes);
    let at = t.heap_address(memarg, index, bytes)?;
    Ok(if at.offset == 0 {
        at.addr
    } else {
        t.b.ins().iadd_imm_u(at.addr, i64::from(at.offset))
    })
}

/// Traps with `HEAP_MISALIGNED` unless the wasm address `index + offset` is a multiple of
/// `bytes` (a power of two). Only the low bits of the sum matter, and adding in the index's
/// width keeps them, so the sum is `index` plus the offset's own low bits.
fn check_alignment(t: &mut Translator, memarg: &MemArg, index: ir::Value, bytes: u32) {
    if bytes == 1 {
        return;
    }
    let mask = u64::from(bytes - 1);
    let offset_low_bits = memarg.offset & mask;
    let address_low = if offset_low_bits == 0 {
        index
    } else {
        t.b.ins().iadd_imm_u(index, offset_low_bits as i64)
    };
    let misalignment = t.b.ins().band_imm_u(address_low, mask as i64);
    t.b.ins().trapnz(misalignment, traps::HEAP_MISALIGNED);
}

/// An atomic load: pops the address, pushes the value read, zero-extended.
fn load(t: &mut Translator, memarg: &MemArg, width: Width) -> Result<()> {
    let index = t.pop1();
    let addr = atomic_address(t, memarg, index, width.bytes())?;
    let value = t.b.ins().atomic_load(width.memory, heap_flags(), addr);
    let value = width.widen(t, value);
    t.push1(value);
    Ok(())
}

/// An atomic store of the value on top of the stack (its low bytes when narrow) to the
/// address below it.
fn store(t: &mut Translator, memarg: &MemArg, width: Width) -> Result<()> {
    let (index, value) = t.pop2();
    let addr = atomic_address(t, memarg, index, width.bytes())?;
    let value = width.narrow(t, value);
    t.b.ins().atomic_store(heap_flags(), value, addr);
    Ok(())
}

/// An atomic read-modify-write with `op` of the operand on top of the stack at the address
/// below it; pushes the old value, zero-extended.
fn rmw(t: &mut Translator, memarg: &MemArg, op: AtomicRmwOp, width: Width) -> Result<()> {
    let (index, operand) = t.pop2();
    let addr = atomic_address(t, memarg, index, width.bytes())?;
    let operand = width.narrow(t, operand);
    let old =
        t.b.ins()
            .atomic_rmw(width.memory, heap_flags(), op, addr, operand);
    let old = width.widen(t, old);
    t.push1(old);
    Ok(())
}

/// An atomic compare-exchange: pops the address, the expected value and the replacement
/// (both cut to the access width), stores the replacement if memory holds the expected
/// value, and pushes the old value, zero-extended.
fn cmpxchg(t: &mut Translator, memarg: &MemArg, width: Width) -> Result<()> {
    let (index, expected, replacement) = t.pop3();
    let addr = atomic_address(t, memarg, index, width.bytes())?;
    let expected = width.narrow(t, expected);
    let replacement = width.narrow(t, replacement);
    let old =
        t.b.ins()
            .atomic_cas(heap_flags(), addr, expected, replacement);
    let old = width.widen(t, old);
    t.push1(old);
    Ok(())
}

/// Checks an access of a value of type `ty` at the address `index` plus `memarg`'s offset
/// (alignment, then bounds) without using the value: the load exists for its bounds check
/// and cannot be removed, since it may trap.
fn check_access(t: &mut Translator, memarg: &MemArg, index: ir::Value, ty: ir::Type) -> Result<()> {
    let addr = atomic_address(t, memarg, index, ty.bytes())?;
    t.b.ins().load(ty, heap_flags(), addr, 0);
    Ok(())
}

/// `memory.atomic.notify`: pops the address and the count of waiters to wake, checks the
/// address, and pushes 0, the number woken: nothing waits on an unshared memory.
fn notify(t: &mut Translator, memarg: &MemArg) -> Result<()> {
    let (index, _count) = t.pop2();
    check_access(t, memarg, index, types::I32)?;
    let woken = t.b.ins().iconst(types::I32, 0);
    t.push1(woken);
    Ok(())
}

/// `memory.atomic.wait32`/`wait64` (`expected` is `i32` or `i64`): pops the address, the
/// expected value and the timeout, checks the address, then traps: a wait on an unshared
/// memory could never be woken. The code after it is unreachable.
fn wait(t: &mut Translator, memarg: &MemArg, expected: ir::Type) -> Result<()> {
    let (index, _expected, _timeout) = t.pop3();
    check_access(t, memarg, index, expected)?;
    t.b.ins().trap(traps::WAIT_ON_UNSHARED_MEMORY);
    t.reachable = false;
    Ok(())
}
