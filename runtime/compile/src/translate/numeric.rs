//! Scalar numeric operators: `i32`/`i64`/`f32`/`f64` constants, integer and float arithmetic,
//! bitwise operators, shifts and rotations, counting, comparisons, and every conversion
//! between the four types (wrapping, extension, trapping and saturating truncation, integer to
//! float, demotion and promotion, reinterpretation, in-place sign extension).
//!
//! Each operator is first classified into a [`Numeric`] that forgets the operand width
//! wherever the Cranelift instruction is polymorphic (`i32.add` and `i64.add` are both an
//! `iadd`), then emitted. Cranelift's instructions already have wasm's semantics for the
//! delicate cases, so no explicit checks are emitted:
//! - `sdiv` traps with `INTEGER_DIVISION_BY_ZERO` on a zero divisor and `INTEGER_OVERFLOW` on
//!   `MIN / -1`; `srem` traps only on a zero divisor and gives 0 for `MIN % -1`; `udiv` and
//!   `urem` trap on a zero divisor.
//! - Shift and rotation counts are taken modulo the operand width.
//! - `fcvt_to_sint`/`fcvt_to_uint` trap with `BAD_CONVERSION_TO_INTEGER` on NaN and
//!   `INTEGER_OVERFLOW` out of range; the `_sat` forms saturate and turn NaN into 0.
//! - `fmin`/`fmax` propagate NaN and order `-0 < +0`; `fabs`, `fneg` and `fcopysign` only
//!   touch the sign bit, keeping NaN payloads.

use cranelift_codegen::ir::{
    self, InstBuilder, MemFlagsData,
    condcodes::{FloatCC, IntCC},
    immediates::{Ieee32, Ieee64},
    types::{self, F32, F64, I32, I64},
};
use wasmparser::Operator;

use super::Translator;
use crate::error::Result;

/// What a numeric operator does; the operand type comes from the operands themselves unless
/// the result type differs.
#[derive(Clone, Copy)]
enum Numeric {
    /// An integer constant of this type (its bits, zero-extended to 64).
    IntConst(ir::Type, u64),
    /// An `f32` constant, bit for bit.
    F32Const(u32),
    /// An `f64` constant, bit for bit.
    F64Const(u64),
    /// A one-operand integer operator.
    IntUnary(IntUnary),
    /// A two-operand integer operator.
    IntBinary(IntBinary),
    /// `eqz`: whether the operand is zero.
    IsZero,
    /// An integer comparison giving an `i32` 0 or 1.
    IntCompare(IntCC),
    /// A one-operand float operator.
    FloatUnary(FloatUnary),
    /// A two-operand float operator.
    FloatBinary(FloatBinary),
    /// A float comparison giving an `i32` 0 or 1 (false on NaN except for `ne`).
    FloatCompare(FloatCC),
    /// A conversion to another type.
    Convert(Conversion),
    /// Sign-extends the low bits of this narrower type, keeping the operand's type
    /// (`i32.extend8_s` and kin).
    SignExtendLow(ir::Type),
}

/// One-operand integer operators.
#[derive(Clone, Copy)]
enum IntUnary {
    LeadingZeros,
    TrailingZeros,
    PopCount,
}

/// Two-operand integer operators.
#[derive(Clone, Copy)]
enum IntBinary {
    Add,
    Sub,
    Mul,
    DivS,
    DivU,
    RemS,
    RemU,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

/// One-operand float operators.
#[derive(Clone, Copy)]
enum FloatUnary {
    Abs,
    Neg,
    Ceil,
    Floor,
    Trunc,
    Nearest,
    Sqrt,
}

/// Two-operand float operators.
#[derive(Clone, Copy)]
enum FloatBinary {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Copysign,
}

/// Conversions; the type is the result's.
#[derive(Clone, Copy)]
enum Conversion {
    /// `i32.wrap_i64`: the low 32 bits.
    Wrap,
    /// `i64.extend_i32_s`.
    ExtendSigned,
    /// `i64.extend_i32_u`.
    ExtendUnsigned,
    /// Float to signed integer, trapping on NaN and out of range.
    TruncSigned(ir::Type),
    /// Float to unsigned integer, trapping on NaN and out of range.
    TruncUnsigned(ir::Type),
    /// Float to signed integer, saturating (NaN gives 0).
    TruncSatSigned(ir::Type),
    /// Float to unsigned integer, saturating (NaN gives 0).
    TruncSatUnsigned(ir::Type),
    /// Signed integer to float, rounding to nearest.
    ConvertSigned(ir::Type),
    /// Unsigned integer to float, rounding to nearest.
    ConvertUnsigned(ir::Type),
    /// `f32.demote_f64`.
    Demote,
    /// `f64.promote_f32`.
    Promote,
    /// The same bits as another type of the same width.
    Reinterpret(ir::Type),
}

/// Translates one of this file's operators; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Operator) -> Result<bool> {
    let Some(numeric) = classify(op) else {
        return Ok(false);
    };
    match numeric {
        Numeric::IntConst(ty, bits) => {
            let value = t.b.ins().iconst(ty, bits.cast_signed());
            t.push1(value);
        }
        Numeric::F32Const(bits) => {
            let value = t.b.ins().f32const(Ieee32::with_bits(bits));
            t.push1(value);
        }
        Numeric::F64Const(bits) => {
            let value = t.b.ins().f64const(Ieee64::with_bits(bits));
            t.push1(value);
        }
        Numeric::IntUnary(op) => int_unary(t, op),
        Numeric::IntBinary(op) => int_binary(t, op),
        Numeric::IsZero => is_zero(t),
        Numeric::IntCompare(cc) => int_compare(t, cc),
        Numeric::FloatUnary(op) => float_unary(t, op),
        Numeric::FloatBinary(op) => float_binary(t, op),
        Numeric::FloatCompare(cc) => float_compare(t, cc),
        Numeric::Convert(conversion) => convert(t, conversion),
        Numeric::SignExtendLow(narrow) => sign_extend_low(t, narrow),
    }
    Ok(true)
}

/// The numeric meaning of `op`, or `None` when it is not a scalar numeric operator.
fn classify(op: &Operator) -> Option<Numeric> {
    classify_constant(op)
        .or_else(|| classify_int(op))
        .or_else(|| classify_float(op))
        .or_else(|| classify_conversion(op))
}

/// Constants of the four types.
fn classify_constant(op: &Operator) -> Option<Numeric> {
    use Operator as O;
    let numeric = match *op {
        O::I32Const { value } => Numeric::IntConst(I32, u64::from(value.cast_unsigned())),
        O::I64Const { value } => Numeric::IntConst(I64, value.cast_unsigned()),
        O::F32Const { value } => Numeric::F32Const(value.bits()),
        O::F64Const { value } => Numeric::F64Const(value.bits()),
        _ => return None,
    };
    Some(numeric)
}

/// Integer arithmetic, bitwise operators, counting, comparisons and sign extensions.
fn classify_int(op: &Operator) -> Option<Numeric> {
    use IntBinary as B;
    use Operator as O;
    let numeric = match *op {
        O::I32Eqz | O::I64Eqz => Numeric::IsZero,
        O::I32Clz | O::I64Clz => Numeric::IntUnary(IntUnary::LeadingZeros),
        O::I32Ctz | O::I64Ctz => Numeric::IntUnary(IntUnary::TrailingZeros),
        O::I32Popcnt | O::I64Popcnt => Numeric::IntUnary(IntUnary::PopCount),
        O::I32Add | O::I64Add => Numeric::IntBinary(B::Add),
        O::I32Sub | O::I64Sub => Numeric::IntBinary(B::Sub),
        O::I32Mul | O::I64Mul => Numeric::IntBinary(B::Mul),
        O::I32DivS | O::I64DivS => Numeric::IntBinary(B::DivS),
        O::I32DivU | O::I64DivU => Numeric::IntBinary(B::DivU),
        O::I32RemS | O::I64RemS => Numeric::IntBinary(B::RemS),
        O::I32RemU | O::I64RemU => Numeric::IntBinary(B::RemU),
        O::I32And | O::I64And => Numeric::IntBinary(B::And),
        O::I32Or | O::I64Or => Numeric::IntBinary(B::Or),
        O::I32Xor | O::I64Xor => Numeric::IntBinary(B::Xor),
        O::I32Shl | O::I64Shl => Numeric::IntBinary(B::Shl),
        O::I32ShrS | O::I64ShrS => Numeric::IntBinary(B::ShrS),
        O::I32ShrU | O::I64ShrU => Numeric::IntBinary(B::ShrU),
        O::I32Rotl | O::I64Rotl => Numeric::IntBinary(B::Rotl),
        O::I32Rotr | O::I64Rotr => Numeric::IntBinary(B::Rotr),
        O::I32Eq | O::I64Eq => Numeric::IntCompare(IntCC::Equal),
        O::I32Ne | O::I64Ne => Numeric::IntCompare(IntCC::NotEqual),
        O::I32LtS | O::I64LtS => Numeric::IntCompare(IntCC::SignedLessThan),
        O::I32LtU | O::I64LtU => Numeric::IntCompare(IntCC::UnsignedLessThan),
        O::I32GtS | O::I64GtS => Numeric::IntCompare(IntCC::SignedGreaterThan),
        O::I32GtU | O::I64GtU => Numeric::IntCompare(IntCC::UnsignedGreaterThan),
        O::I32LeS | O::I64LeS => Numeric::IntCompare(IntCC::SignedLessThanOrEqual),
        O::I32LeU | O::I64LeU => Numeric::IntCompare(IntCC::UnsignedLessThanOrEqual),
        O::I32GeS | O::I64GeS => Numeric::IntCompare(IntCC::SignedGreaterThanOrEqual),
        O::I32GeU | O::I64GeU => Numeric::IntCompare(IntCC::UnsignedGreaterThanOrEqual),
        O::I32Extend8S | O::I64Extend8S => Numeric::SignExtendLow(types::I8),
        O::I32Extend16S | O::I64Extend16S => Numeric::SignExtendLow(types::I16),
        O::I64Extend32S => Numeric::SignExtendLow(I32),
        _ => return None,
    };
    Some(numeric)
}

/// Float arithmetic and comparisons.
fn classify_float(op: &Operator) -> Option<Numeric> {
    use FloatBinary as B;
    use FloatUnary as U;
    use Operator as O;
    let numeric = match *op {
        O::F32Abs | O::F64Abs => Numeric::FloatUnary(U::Abs),
        O::F32Neg | O::F64Neg => Numeric::FloatUnary(U::Neg),
        O::F32Ceil | O::F64Ceil => Numeric::FloatUnary(U::Ceil),
        O::F32Floor | O::F64Floor => Numeric::FloatUnary(U::Floor),
        O::F32Trunc | O::F64Trunc => Numeric::FloatUnary(U::Trunc),
        O::F32Nearest | O::F64Nearest => Numeric::FloatUnary(U::Nearest),
        O::F32Sqrt | O::F64Sqrt => Numeric::FloatUnary(U::Sqrt),
        O::F32Add | O::F64Add => Numeric::FloatBinary(B::Add),
        O::F32Sub | O::F64Sub => Numeric::FloatBinary(B::Sub),
        O::F32Mul | O::F64Mul => Numeric::FloatBinary(B::Mul),
        O::F32Div | O::F64Div => Numeric::FloatBinary(B::Div),
        O::F32Min | O::F64Min => Numeric::FloatBinary(B::Min),
        O::F32Max | O::F64Max => Numeric::FloatBinary(B::Max),
        O::F32Copysign | O::F64Copysign => Numeric::FloatBinary(B::Copysign),
        O::F32Eq | O::F64Eq => Numeric::FloatCompare(FloatCC::Equal),
        O::F32Ne | O::F64Ne => Numeric::FloatCompare(FloatCC::NotEqual),
        O::F32Lt | O::F64Lt => Numeric::FloatCompare(FloatCC::LessThan),
        O::F32Gt | O::F64Gt => Numeric::FloatCompare(FloatCC::GreaterThan),
        O::F32Le | O::F64Le => Numeric::FloatCompare(FloatCC::LessThanOrEqual),
        O::F32Ge | O::F64Ge => Numeric::FloatCompare(FloatCC::GreaterThanOrEqual),
        _ => return None,
    };
    Some(numeric)
}

/// Conversions between the four types.
fn classify_conversion(op: &Operator) -> Option<Numeric> {
    use Conversion as C;
    use Operator as O;
    let conversion = match *op {
        O::I32WrapI64 => C::Wrap,
        O::I64ExtendI32S => C::ExtendSigned,
        O::I64ExtendI32U => C::ExtendUnsigned,
        O::I32TruncF32S | O::I32TruncF64S => C::TruncSigned(I32),
        O::I64TruncF32S | O::I64TruncF64S => C::TruncSigned(I64),
        O::I32TruncF32U | O::I32TruncF64U => C::TruncUnsigned(I32),
        O::I64TruncF32U | O::I64TruncF64U => C::TruncUnsigned(I64),
        O::I32TruncSatF32S | O::I32TruncSatF64S => C::TruncSatSigned(I32),
        O::I64TruncSatF32S | O::I64TruncSatF64S => C::TruncSatSigned(I64),
        O::I32TruncSatF32U | O::I32TruncSatF64U => C::TruncSatUnsigned(I32),
        O::I64TruncSatF32U | O::I64TruncSatF64U => C::TruncSatUnsigned(I64),
        O::F32ConvertI32S | O::F32ConvertI64S => C::ConvertSigned(F32),
        O::F64ConvertI32S | O::F64ConvertI64S => C::ConvertSigned(F64),
        O::F32ConvertI32U | O::F32ConvertI64U => C::ConvertUnsigned(F32),
        O::F64ConvertI32U | O::F64ConvertI64U => C::ConvertUnsigned(F64),
        O::F32DemoteF64 => C::Demote,
        O::F64PromoteF32 => C::Promote,
        O::I32ReinterpretF32 => C::Reinterpret(I32),
        O::I64ReinterpretF64 => C::Reinterpret(I64),
        O::F32ReinterpretI32 => C::Reinterpret(F32),
        O::F64ReinterpretI64 => C::Reinterpret(F64),
        _ => return None,
    };
    Some(Numeric::Convert(conversion))
}

/// `clz`, `ctz`, `popcnt`.
fn int_unary(t: &mut Translator, op: IntUnary) {
    let x = t.pop1();
    let ins = t.b.ins();
    let result = match op {
        IntUnary::LeadingZeros => ins.clz(x),
        IntUnary::TrailingZeros => ins.ctz(x),
        IntUnary::PopCount => ins.popcnt(x),
    };
    t.push1(result);
}

/// Integer arithmetic, bitwise operators, shifts and rotations.
fn int_binary(t: &mut Translator, op: IntBinary) {
    let (x, y) = t.pop2();
    let ins = t.b.ins();
    let result = match op {
        IntBinary::Add => ins.iadd(x, y),
        IntBinary::Sub => ins.isub(x, y),
        IntBinary::Mul => ins.imul(x, y),
        IntBinary::DivS => ins.sdiv(x, y),
        IntBinary::DivU => ins.udiv(x, y),
        IntBinary::RemS => ins.srem(x, y),
        IntBinary::RemU => ins.urem(x, y),
        IntBinary::And => ins.band(x, y),
        IntBinary::Or => ins.bor(x, y),
        IntBinary::Xor => ins.bxor(x, y),
        IntBinary::Shl => ins.ishl(x, y),
        IntBinary::ShrS => ins.sshr(x, y),
        IntBinary::ShrU => ins.ushr(x, y),
        IntBinary::Rotl => ins.rotl(x, y),
        IntBinary::Rotr => ins.rotr(x, y),
    };
    t.push1(result);
}

/// `eqz`: 1 when the operand is zero, else 0.
fn is_zero(t: &mut Translator) {
    let x = t.pop1();
    let zero = t.b.ins().icmp_imm_u(IntCC::Equal, x, 0);
    push_condition(t, zero);
}

/// An integer comparison.
fn int_compare(t: &mut Translator, cc: IntCC) {
    let (x, y) = t.pop2();
    let condition = t.b.ins().icmp(cc, x, y);
    push_condition(t, condition);
}

/// Pushes Cranelift's `i8` truth value as wasm's `i32` 0 or 1.
fn push_condition(t: &mut Translator, condition: ir::Value) {
    let value = t.b.ins().uextend(I32, condition);
    t.push1(value);
}

/// Sign operations, rounding to an integral value, square root.
fn float_unary(t: &mut Translator, op: FloatUnary) {
    let x = t.pop1();
    let ins = t.b.ins();
    let result = match op {
        FloatUnary::Abs => ins.fabs(x),
        FloatUnary::Neg => ins.fneg(x),
        FloatUnary::Ceil => ins.ceil(x),
        FloatUnary::Floor => ins.floor(x),
        FloatUnary::Trunc => ins.trunc(x),
        FloatUnary::Nearest => ins.nearest(x),
        FloatUnary::Sqrt => ins.sqrt(x),
    };
    t.push1(result);
}

/// Float arithmetic, minimum, maximum and `copysign`.
fn float_binary(t: &mut Translator, op: FloatBinary) {
    let (x, y) = t.pop2();
    let ins = t.b.ins();
    let result = match op {
        FloatBinary::Add => ins.fadd(x, y),
        FloatBinary::Sub => ins.fsub(x, y),
        FloatBinary::Mul => ins.fmul(x, y),
        FloatBinary::Div => ins.fdiv(x, y),
        FloatBinary::Min => ins.fmin(x, y),
        FloatBinary::Max => ins.fmax(x, y),
        FloatBinary::Copysign => ins.fcopysign(x, y),
    };
    t.push1(result);
}

/// A float comparison.
fn float_compare(t: &mut Translator, cc: FloatCC) {
    let (x, y) = t.pop2();
    let condition = t.b.ins().fcmp(cc, x, y);
    push_condition(t, condition);
}

/// A conversion of the top operand to another type.
fn convert(t: &mut Translator, conversion: Conversion) {
    let x = t.pop1();
    let ins = t.b.ins();
    let result = match conversion {
        Conversion::Wrap => ins.ireduce(I32, x),
        Conversion::ExtendSigned => ins.sextend(I64, x),
        Conversion::ExtendUnsigned => ins.uextend(I64, x),
        Conversion::TruncSigned(ty) => ins.fcvt_to_sint(ty, x),
        Conversion::TruncUnsigned(ty) => ins.fcvt_to_uint(ty, x),
        Conversion::TruncSatSigned(ty) => ins.fcvt_to_sint_sat(ty, x),
        Conversion::TruncSatUnsigned(ty) => ins.fcvt_to_uint_sat(ty, x),
        Conversion::ConvertSigned(ty) => ins.fcvt_from_sint(ty, x),
        Conversion::ConvertUnsigned(ty) => ins.fcvt_from_uint(ty, x),
        Conversion::Demote => ins.fdemote(F32, x),
        Conversion::Promote => ins.fpromote(F64, x),
        Conversion::Reinterpret(ty) => ins.bitcast(ty, MemFlagsData::new(), x),
    };
    t.push1(result);
}

/// Replaces the top operand by its low `narrow` bits sign-extended back to its own type.
fn sign_extend_low(t: &mut Translator, narrow: ir::Type) {
    let x = t.pop1();
    let ty = t.b.func.dfg.value_type(x);
    let low = t.b.ins().ireduce(narrow, x);
    let result = t.b.ins().sextend(ty, low);
    t.push1(result);
}
