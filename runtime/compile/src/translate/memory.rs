//! Memory operators, for any memory of the module: scalar loads and stores of every width
//! (with sign or zero extension), vector loads and stores (whole, widening, splatting,
//! zero-filling and single-lane), `memory.size`, `memory.grow` and the bulk memory operators
//! `memory.copy`, `memory.fill`, `memory.init` and `data.drop`.
//!
//! Every access goes through [`Translator::heap_address`]. A 32-bit memory lives in a fixed
//! reservation of 4 GiB followed by a guard region, and its base never moves, so the native
//! address of wasm address `index + offset` is `base + zext(index) + offset`. When the static
//! offset plus the access size stays within the guard ([`FuncEnv::max_unchecked_end`]), an
//! out-of-bounds access faults in inaccessible pages and the trap site Cranelift records for
//! the access (its trap code is `HEAP_OUT_OF_BOUNDS`) turns the fault into a
//! `MemoryOutOfBounds` trap; larger offsets get an explicit check against the memory's current
//! length first. A 64-bit memory (memory64) lives in the same reservation, so it can never be
//! longer than 4 GiB, but its addresses can be anything: every access to it checks that
//! `index + offset + size` neither overflows 64 bits nor passes the current length, and traps
//! with `HEAP_OUT_OF_BOUNDS` otherwise. Alignment hints are ignored: wasm accesses may be
//! unaligned.
//!
//! `memory.size` and `memory.grow` count pages in the memory's address type; the bulk
//! operators pass their operands to the runtime as i64s whatever the address types (so
//! `memory.copy` between a 32-bit and a 64-bit memory needs nothing special).
//!
//! [`FuncEnv::max_unchecked_end`]: crate::env::FuncEnv::max_unchecked_end

use cranelift_codegen::ir::{
    self, Endianness, InstBuilder, MemFlagsData, TrapCode, condcodes::IntCC, types,
};
use cranelift_frontend::FunctionBuilder;
use wasm_prof_environ::{AddressType, Libcall, tunables::WASM_PAGE_SIZE};
use wasmparser::{MemArg, MemArgTarget, Operator};

use super::Translator;
use crate::error::{CompileError, Result};

/// Translates a memory operator; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Operator) -> Result<bool> {
    use types::{F32, F64, I8X16, I16X8, I32, I32X4, I64, I64X2};
    match *op {
        Operator::I32Load { memarg } => load(t, &memarg, Load::Exact(I32))?,
        Operator::I64Load { memarg } => load(t, &memarg, Load::Exact(I64))?,
        Operator::F32Load { memarg } => load(t, &memarg, Load::Exact(F32))?,
        Operator::F64Load { memarg } => load(t, &memarg, Load::Exact(F64))?,
        Operator::V128Load { memarg } => load(t, &memarg, Load::Exact(I8X16))?,
        Operator::I32Load8S { memarg } => load(t, &memarg, Load::Signed8(I32))?,
        Operator::I32Load8U { memarg } => load(t, &memarg, Load::Unsigned8(I32))?,
        Operator::I32Load16S { memarg } => load(t, &memarg, Load::Signed16(I32))?,
        Operator::I32Load16U { memarg } => load(t, &memarg, Load::Unsigned16(I32))?,
        Operator::I64Load8S { memarg } => load(t, &memarg, Load::Signed8(I64))?,
        Operator::I64Load8U { memarg } => load(t, &memarg, Load::Unsigned8(I64))?,
        Operator::I64Load16S { memarg } => load(t, &memarg, Load::Signed16(I64))?,
        Operator::I64Load16U { memarg } => load(t, &memarg, Load::Unsigned16(I64))?,
        Operator::I64Load32S { memarg } => load(t, &memarg, Load::Signed32)?,
        Operator::I64Load32U { memarg } => load(t, &memarg, Load::Unsigned32)?,
        Operator::V128Load8x8S { memarg } => load(t, &memarg, Load::Signed8x8)?,
        Operator::V128Load8x8U { memarg } => load(t, &memarg, Load::Unsigned8x8)?,
        Operator::V128Load16x4S { memarg } => load(t, &memarg, Load::Signed16x4)?,
        Operator::V128Load16x4U { memarg } => load(t, &memarg, Load::Unsigned16x4)?,
        Operator::V128Load32x2S { memarg } => load(t, &memarg, Load::Signed32x2)?,
        Operator::V128Load32x2U { memarg } => load(t, &memarg, Load::Unsigned32x2)?,

        Operator::V128Load8Splat { memarg } => load_splat(t, &memarg, I8X16)?,
        Operator::V128Load16Splat { memarg } => load_splat(t, &memarg, I16X8)?,
        Operator::V128Load32Splat { memarg } => load_splat(t, &memarg, I32X4)?,
        Operator::V128Load64Splat { memarg } => load_splat(t, &memarg, I64X2)?,
        Operator::V128Load32Zero { memarg } => load_zero(t, &memarg, I32X4)?,
        Operator::V128Load64Zero { memarg } => load_zero(t, &memarg, I64X2)?,
        Operator::V128Load8Lane { memarg, lane } => load_lane(t, &memarg, I8X16, lane)?,
        Operator::V128Load16Lane { memarg, lane } => load_lane(t, &memarg, I16X8, lane)?,
        Operator::V128Load32Lane { memarg, lane } => load_lane(t, &memarg, I32X4, lane)?,
        Operator::V128Load64Lane { memarg, lane } => load_lane(t, &memarg, I64X2, lane)?,

        Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => store(t, &memarg, 1)?,
        Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
            store(t, &memarg, 2)?;
        }
        Operator::I32Store { memarg }
        | Operator::F32Store { memarg }
        | Operator::I64Store32 { memarg } => store(t, &memarg, 4)?,
        Operator::I64Store { memarg } | Operator::F64Store { memarg } => store(t, &memarg, 8)?,
        Operator::V128Store { memarg } => store(t, &memarg, 16)?,
        Operator::V128Store8Lane { memarg, lane } => store_lane(t, &memarg, I8X16, lane)?,
        Operator::V128Store16Lane { memarg, lane } => store_lane(t, &memarg, I16X8, lane)?,
        Operator::V128Store32Lane { memarg, lane } => store_lane(t, &memarg, I32X4, lane)?,
        Operator::V128Store64Lane { memarg, lane } => store_lane(t, &memarg, I64X2, lane)?,

        Operator::MemorySize { mem } => memory_size(t, mem),
        Operator::MemoryGrow { mem } => memory_grow(t, mem),
        Operator::MemoryCopy { dst_mem, src_mem } => {
            bulk(t, Libcall::MemoryCopy, &[dst_mem, src_mem]);
        }
        Operator::MemoryFill { mem } => bulk(t, Libcall::MemoryFill, &[mem]),
        Operator::MemoryInit { data_index, mem } => {
            bulk(t, Libcall::MemoryInit, &[mem, data_index]);
        }
        Operator::DataDrop { data_index } => data_drop(t, data_index),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Flags of every guest memory access: wasm memory is little-endian, and a fault is an
/// out-of-bounds access (the trap code also makes Cranelift record the access as a trap site).
pub(super) fn heap_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_endianness(Endianness::Little)
        .with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
}

/// The index of the linear memory a memory immediate names.
fn memory_index(memarg: &MemArg) -> Result<u32> {
    match memarg.target {
        MemArgTarget::Memory(index) => Ok(index),
        MemArgTarget::Array(_) => Err(CompileError::Unsupported(
            "memory instructions on GC arrays are not supported".into(),
        )),
    }
}

/// Where an access lands: `addr` plus the instruction's immediate `offset`.
#[derive(Clone, Copy, Debug)]
pub(super) struct HeapAddress {
    /// The native address, without the part of the static offset in `offset`.
    pub addr: ir::Value,
    /// The immediate offset the load or store adds to `addr`.
    pub offset: i32,
}

impl Translator<'_, '_> {
    /// The native address of an access of `bytes` bytes at wasm address `index` plus
    /// `memarg`'s static offset, in `memarg`'s memory; `index` is an i32 or an i64 by the
    /// memory's address type. A 32-bit memory's guard region catches the access when the
    /// offset plus `bytes` is small enough; otherwise, and for every access to a 64-bit memory,
    /// this emits an explicit bounds check that traps with `HEAP_OUT_OF_BOUNDS` before the
    /// access. The access itself must use [`heap_flags`].
    pub(super) fn heap_address(
        &mut self,
        memarg: &MemArg,
        index: ir::Value,
        bytes: u32,
    ) -> Result<HeapAddress> {
        let memory = memory_index(memarg)?;
        let index = self.env.address_to_ptr(&mut self.b, index);
        // An end past u64::MAX is out of bounds like u64::MAX itself: no memory is that long.
        let end = memarg.offset.saturating_add(u64::from(bytes));
        match self.env.memory_address_type(memory) {
            AddressType::I32 if end <= self.env.max_unchecked_end() => {}
            AddressType::I32 => self.check_access_end(memory, index, end),
            AddressType::I64 => self.check_access_end_64(memory, index, end),
        }
        let base = self.env.memory_base(&mut self.b, memory);
        let addr = self.b.ins().iadd(base, index);
        Ok(match i32::try_from(memarg.offset) {
            Ok(offset) => HeapAddress { addr, offset },
            Err(_) => HeapAddress {
                addr: self.b.ins().iadd_imm_u(addr, memarg.offset as i64),
                offset: 0,
            },
        })
    }

    /// Traps with `HEAP_OUT_OF_BOUNDS` unless `index + end` (the byte just past the access)
    /// is within memory `memory`'s current length. `index` is a zero-extended 32-bit address
    /// and `end` is below 2^33, so the sum cannot overflow.
    fn check_access_end(&mut self, memory: u32, index: ir::Value, end: u64) {
        let access_end = self.b.ins().iadd_imm_u(index, end as i64);
        self.trap_past_length(memory, access_end);
    }

    /// Traps with `HEAP_OUT_OF_BOUNDS` unless `index + end` (the byte just past the access)
    /// is within memory `memory`'s current length, for a 64-bit `index`: a sum that overflows
    /// 64 bits traps too, so no address wraps around.
    fn check_access_end_64(&mut self, memory: u32, index: ir::Value, end: u64) {
        let end = self.b.ins().iconst(self.env.ptr(), end as i64);
        let access_end = self
            .b
            .ins()
            .uadd_overflow_trap(index, end, TrapCode::HEAP_OUT_OF_BOUNDS);
        self.trap_past_length(memory, access_end);
    }

    /// Traps with `HEAP_OUT_OF_BOUNDS` when `access_end` is past memory `memory`'s current
    /// length.
    fn trap_past_length(&mut self, memory: u32, access_end: ir::Value) {
        let length = self.env.memory_length(&mut self.b, memory);
        let out_of_bounds = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, access_end, length);
        self.b
            .ins()
            .trapnz(out_of_bounds, TrapCode::HEAP_OUT_OF_BOUNDS);
    }
}

/// A load's Cranelift instruction: how many bytes it reads and how it makes its result of
/// them.
#[derive(Clone, Copy, Debug)]
enum Load {
    /// A whole value of this type.
    Exact(ir::Type),
    /// One byte, sign-extended to this integer type.
    Signed8(ir::Type),
    /// One byte, zero-extended to this integer type.
    Unsigned8(ir::Type),
    /// Two bytes, sign-extended to this integer type.
    Signed16(ir::Type),
    /// Two bytes, zero-extended to this integer type.
    Unsigned16(ir::Type),
    /// Four bytes, sign-extended to an i64.
    Signed32,
    /// Four bytes, zero-extended to an i64.
    Unsigned32,
    /// Eight bytes, each sign-extended to a lane of an i16x8.
    Signed8x8,
    /// Eight bytes, each zero-extended to a lane of an i16x8.
    Unsigned8x8,
    /// Four 16-bit integers, each sign-extended to a lane of an i32x4.
    Signed16x4,
    /// Four 16-bit integers, each zero-extended to a lane of an i32x4.
    Unsigned16x4,
    /// Two 32-bit integers, each sign-extended to a lane of an i64x2.
    Signed32x2,
    /// Two 32-bit integers, each zero-extended to a lane of an i64x2.
    Unsigned32x2,
}

impl Load {
    /// How many bytes the load reads.
    fn bytes(self) -> u32 {
        match self {
            Load::Exact(ty) => ty.bytes(),
            Load::Signed8(_) | Load::Unsigned8(_) => 1,
            Load::Signed16(_) | Load::Unsigned16(_) => 2,
            Load::Signed32 | Load::Unsigned32 => 4,
            Load::Signed8x8
            | Load::Unsigned8x8
            | Load::Signed16x4
            | Load::Unsigned16x4
            | Load::Signed32x2
            | Load::Unsigned32x2 => 8,
        }
    }

    /// Emits the load from `at`.
    fn emit(self, b: &mut FunctionBuilder, at: HeapAddress) -> ir::Value {
        let (flags, addr, offset) = (heap_flags(), at.addr, at.offset);
        let ins = b.ins();
        match self {
            Load::Exact(ty) => ins.load(ty, flags, addr, offset),
            Load::Signed8(ty) => ins.sload8(ty, flags, addr, offset),
            Load::Unsigned8(ty) => ins.uload8(ty, flags, addr, offset),
            Load::Signed16(ty) => ins.sload16(ty, flags, addr, offset),
            Load::Unsigned16(ty) => ins.uload16(ty, flags, addr, offset),
            Load::Signed32 => ins.sload32(flags, addr, offset),
            Load::Unsigned32 => ins.uload32(flags, addr, offset),
            Load::Signed8x8 => ins.sload8x8(flags, addr, offset),
            Load::Unsigned8x8 => ins.uload8x8(flags, addr, offset),
            Load::Signed16x4 => ins.sload16x4(flags, addr, offset),
            Load::Unsigned16x4 => ins.uload16x4(flags, addr, offset),
            Load::Signed32x2 => ins.sload32x2(flags, addr, offset),
            Load::Unsigned32x2 => ins.uload32x2(flags, addr, offset),
        }
    }
}

/// Loads with `load` from the address `index` (already popped) plus `memarg`'s offset.
fn load_at(t: &mut Translator, memarg: &MemArg, index: ir::Value, load: Load) -> Result<ir::Value> {
    let at = t.heap_address(memarg, index, load.bytes())?;
    Ok(load.emit(&mut t.b, at))
}

/// A scalar or whole-vector load: pops the address, pushes the value (vectors as `i8x16`).
fn load(t: &mut Translator, memarg: &MemArg, load: Load) -> Result<()> {
    let index = t.pop1();
    let value = load_at(t, memarg, index, load)?;
    if value_type(t, value).is_vector() {
        t.push_vector(value);
    } else {
        t.push1(value);
    }
    Ok(())
}

/// `v128.loadN_splat`: one lane of `vector`'s lane type, copied into every lane.
fn load_splat(t: &mut Translator, memarg: &MemArg, vector: ir::Type) -> Result<()> {
    let index = t.pop1();
    let lane = load_at(t, memarg, index, Load::Exact(vector.lane_type()))?;
    let value = t.b.ins().splat(vector, lane);
    t.push_vector(value);
    Ok(())
}

/// `v128.loadN_zero`: one lane of `vector`'s lane type into lane 0, the other lanes zero.
fn load_zero(t: &mut Translator, memarg: &MemArg, vector: ir::Type) -> Result<()> {
    let index = t.pop1();
    let lane = load_at(t, memarg, index, Load::Exact(vector.lane_type()))?;
    let value = t.b.ins().scalar_to_vector(vector, lane);
    t.push_vector(value);
    Ok(())
}

/// `v128.loadN_lane`: replaces lane `lane` of the vector on the stack (seen as `vector`) with
/// the value loaded from the address below it.
fn load_lane(t: &mut Translator, memarg: &MemArg, vector: ir::Type, lane: u8) -> Result<()> {
    let value = t.pop_vector(vector);
    let index = t.pop1();
    let loaded = load_at(t, memarg, index, Load::Exact(vector.lane_type()))?;
    let value = t.b.ins().insertlane(value, loaded, lane);
    t.push_vector(value);
    Ok(())
}

/// Stores the low `bytes` bytes of `value` (all of them when `bytes` is its size) at the
/// address `index` plus `memarg`'s offset.
fn store_at(
    t: &mut Translator,
    memarg: &MemArg,
    index: ir::Value,
    value: ir::Value,
    bytes: u32,
) -> Result<()> {
    let at = t.heap_address(memarg, index, bytes)?;
    let (flags, addr, offset) = (heap_flags(), at.addr, at.offset);
    let whole = value_type(t, value).bytes() == bytes;
    let ins = t.b.ins();
    if whole {
        ins.store(flags, value, addr, offset);
    } else {
        match bytes {
            1 => ins.istore8(flags, value, addr, offset),
            2 => ins.istore16(flags, value, addr, offset),
            4 => ins.istore32(flags, value, addr, offset),
            _ => unreachable!("no wasm store truncates to {bytes} bytes"),
        };
    }
    Ok(())
}

/// A store of the value on top of the stack (its low `bytes` bytes) to the address below it.
fn store(t: &mut Translator, memarg: &MemArg, bytes: u32) -> Result<()> {
    let (index, value) = t.pop2();
    store_at(t, memarg, index, value, bytes)
}

/// `v128.storeN_lane`: stores lane `lane` of the vector on the stack (seen as `vector`) to
/// the address below it.
fn store_lane(t: &mut Translator, memarg: &MemArg, vector: ir::Type, lane: u8) -> Result<()> {
    let value = t.pop_vector(vector);
    let index = t.pop1();
    let lane_value = t.b.ins().extractlane(value, lane);
    store_at(t, memarg, index, lane_value, vector.lane_type().bytes())
}

/// The Cranelift type of `value`.
fn value_type(t: &Translator, value: ir::Value) -> ir::Type {
    t.b.func.dfg.value_type(value)
}

/// `memory.size`: the current length of memory `memory` in wasm pages, in its address type.
fn memory_size(t: &mut Translator, memory: u32) {
    let length = t.env.memory_length(&mut t.b, memory);
    let pages =
        t.b.ins()
            .ushr_imm_u(length, i64::from(WASM_PAGE_SIZE.trailing_zeros()));
    let address_type = t.env.memory_address_type(memory);
    let pages = t.env.ptr_to_address(&mut t.b, pages, address_type);
    t.push1(pages);
}

/// `memory.grow`: the runtime grows memory `memory` by the popped number of pages and returns
/// the old size in pages, or -1 when it cannot, in the memory's address type.
fn memory_grow(t: &mut Translator, memory: u32) {
    let delta = t.pop1();
    let delta = t.env.address_to_ptr(&mut t.b, delta);
    let address_type = t.env.memory_address_type(memory);
    let memory = t.b.ins().iconst(types::I32, i64::from(memory));
    let old_pages = t
        .env
        .libcall(&mut t.b, Libcall::MemoryGrow, &[memory, delta]);
    let old_pages = t.env.ptr_to_address(&mut t.b, old_pages, address_type);
    t.push1(old_pages);
}

/// `memory.copy`, `memory.fill` and `memory.init`: calls `libcall` with the operator's
/// `immediates` (memory and segment indices) and its three operands (as i64s), trapping with
/// `HEAP_OUT_OF_BOUNDS` when the runtime reports a range out of bounds.
fn bulk(t: &mut Translator, libcall: Libcall, immediates: &[u32]) {
    let mut args: Vec<ir::Value> = immediates
        .iter()
        .map(|index| t.b.ins().iconst(types::I32, i64::from(*index)))
        .collect();
    args.extend(t.pop_operands_as_i64(3));
    t.env
        .checked_libcall(&mut t.b, libcall, &args, TrapCode::HEAP_OUT_OF_BOUNDS);
}

/// `data.drop`: the runtime forgets passive segment `segment` (this cannot trap, so the
/// helper's status is not checked).
fn data_drop(t: &mut Translator, segment: u32) {
    let segment = t.b.ins().iconst(types::I32, i64::from(segment));
    t.env.libcall(&mut t.b, Libcall::DataDrop, &[segment]);
}
