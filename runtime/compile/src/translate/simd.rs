//! SIMD: every `v128` operator that does not touch memory — constants, shuffles and lanes,
//! bitwise operations, comparisons, integer and float lane arithmetic, conversions — and the
//! relaxed SIMD operators of WebAssembly 3.0.
//!
//! Most operators are one Cranelift instruction on the operator's lane shape. A few are
//! written as the instruction patterns Cranelift's x86-64 backend recognises as one machine
//! instruction (`pmin`/`pmax`, the `_zero` truncations, the dot products, pairwise additions).
//!
//! Each relaxed operator returns one of the results the specification allows, chosen once
//! per target (the specification's fixed "global parameter"), so one machine always computes
//! the same result. Where the target has the instruction, the choice is what x86-64 computes
//! in one instruction (`pshufb`, `cvttps2dq`, `pmulhrsw`, `pmaddubsw`, `blendv*`, `vfmadd`,
//! `minps`/`maxps`); elsewhere it is the deterministic profile's result.

use cranelift_codegen::ir::{
    self, InstBuilder, Type, Value,
    condcodes::{FloatCC, IntCC},
    types::{F32X4, F64X2, I8, I8X16, I16, I16X8, I32, I32X4, I64X2},
};
use target_lexicon::Architecture;
use wasmparser::Operator as Op;

use super::Translator;
use crate::error::Result;

/// Translates one of this file's operators; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Op) -> Result<bool> {
    Ok(constants_and_lanes(t, op)
        || bitwise(t, op)
        || comparison(t, op)
        || lanewise_unary(t, op)
        || lanewise_binary(t, op)
        || shift(t, op)
        || reduction(t, op)
        || conversion(t, op)
        || relaxed(t, op))
}

/// How a lane narrower than 32 bits becomes an `i32` when it is extracted.
#[derive(Clone, Copy)]
enum Extension {
    Signed,
    Unsigned,
}

// ----- constants, shuffles, splats and lanes -----

/// `v128.const`, shuffles, swizzle, splats, extract_lane and replace_lane.
fn constants_and_lanes(t: &mut Translator, op: &Op) -> bool {
    match *op {
        Op::V128Const { value } => {
            let constant = t.vector_const(*value.bytes());
            t.push1(constant);
        }
        Op::I8x16Shuffle { lanes } => shuffle(t, lanes),
        Op::I8x16Swizzle => {
            let (vector, indices) = t.pop2();
            let swizzled = t.b.ins().swizzle(vector, indices);
            t.push1(swizzled);
        }
        Op::I8x16Splat => splat(t, I8X16),
        Op::I16x8Splat => splat(t, I16X8),
        Op::I32x4Splat => splat(t, I32X4),
        Op::I64x2Splat => splat(t, I64X2),
        Op::F32x4Splat => splat(t, F32X4),
        Op::F64x2Splat => splat(t, F64X2),
        Op::I8x16ExtractLaneS { lane } => extract_lane(t, I8X16, lane, Some(Extension::Signed)),
        Op::I8x16ExtractLaneU { lane } => extract_lane(t, I8X16, lane, Some(Extension::Unsigned)),
        Op::I16x8ExtractLaneS { lane } => extract_lane(t, I16X8, lane, Some(Extension::Signed)),
        Op::I16x8ExtractLaneU { lane } => extract_lane(t, I16X8, lane, Some(Extension::Unsigned)),
        Op::I32x4ExtractLane { lane } => extract_lane(t, I32X4, lane, None),
        Op::I64x2ExtractLane { lane } => extract_lane(t, I64X2, lane, None),
        Op::F32x4ExtractLane { lane } => extract_lane(t, F32X4, lane, None),
        Op::F64x2ExtractLane { lane } => extract_lane(t, F64X2, lane, None),
        Op::I8x16ReplaceLane { lane } => replace_lane(t, I8X16, lane),
        Op::I16x8ReplaceLane { lane } => replace_lane(t, I16X8, lane),
        Op::I32x4ReplaceLane { lane } => replace_lane(t, I32X4, lane),
        Op::I64x2ReplaceLane { lane } => replace_lane(t, I64X2, lane),
        Op::F32x4ReplaceLane { lane } => replace_lane(t, F32X4, lane),
        Op::F64x2ReplaceLane { lane } => replace_lane(t, F64X2, lane),
        _ => return false,
    }
    true
}

/// `i8x16.shuffle`.
fn shuffle(t: &mut Translator, lanes: [u8; 16]) {
    let (a, b) = t.pop2();
    let shuffled = shuffle_bytes(t, a, b, lanes);
    t.push1(shuffled);
}

/// Byte `i` of the result is byte `lanes[i]` of the `i8x16` vectors `a` and `b` end to end.
fn shuffle_bytes(t: &mut Translator, a: Value, b: Value, lanes: [u8; 16]) -> Value {
    let constant = ir::ConstantData::from(&lanes[..]);
    let mask = t.b.func.dfg.immediates.push(constant);
    t.b.ins().shuffle(a, b, mask)
}

/// A scalar operand as a lane of `vector_ty` (`i32` operands of 8- and 16-bit lanes are
/// wrapped).
fn scalar_as_lane(t: &mut Translator, scalar: Value, vector_ty: Type) -> Value {
    let lane_ty = vector_ty.lane_type();
    if lane_ty == I8 || lane_ty == I16 {
        t.b.ins().ireduce(lane_ty, scalar)
    } else {
        scalar
    }
}

/// `<shape>.splat`: every lane of `ty` set to the scalar operand.
fn splat(t: &mut Translator, ty: Type) {
    let scalar = t.pop1();
    let lane = scalar_as_lane(t, scalar, ty);
    let vector = t.b.ins().splat(ty, lane);
    t.push_vector(vector);
}

/// `<shape>.extract_lane[_s|_u]`, extending narrow lanes to `i32` as `extension` says.
fn extract_lane(t: &mut Translator, ty: Type, lane: u8, extension: Option<Extension>) {
    let vector = t.pop_vector(ty);
    let value = t.b.ins().extractlane(vector, lane);
    let value = match extension {
        Some(Extension::Signed) => t.b.ins().sextend(I32, value),
        Some(Extension::Unsigned) => t.b.ins().uextend(I32, value),
        None => value,
    };
    t.push1(value);
}

/// `<shape>.replace_lane`.
fn replace_lane(t: &mut Translator, ty: Type, lane: u8) {
    let scalar = t.pop1();
    let vector = t.pop_vector(ty);
    let value = scalar_as_lane(t, scalar, ty);
    let replaced = t.b.ins().insertlane(vector, value, lane);
    t.push_vector(replaced);
}

// ----- bitwise -----

/// `v128.not/and/andnot/or/xor/bitselect/any_true`.
fn bitwise(t: &mut Translator, op: &Op) -> bool {
    match op {
        Op::V128Not => {
            let a = t.pop1();
            let result = t.b.ins().bnot(a);
            t.push1(result);
        }
        Op::V128And | Op::V128AndNot | Op::V128Or | Op::V128Xor => {
            let (a, b) = t.pop2();
            let result = match op {
                Op::V128And => t.b.ins().band(a, b),
                Op::V128AndNot => t.b.ins().band_not(a, b),
                Op::V128Or => t.b.ins().bor(a, b),
                _ => t.b.ins().bxor(a, b),
            };
            t.push1(result);
        }
        Op::V128Bitselect => {
            let (if_set, if_clear, mask) = t.pop3();
            let result = t.b.ins().bitselect(mask, if_set, if_clear);
            t.push1(result);
        }
        Op::V128AnyTrue => {
            let a = t.pop1();
            let any = t.b.ins().vany_true(a);
            let any = t.b.ins().uextend(I32, any);
            t.push1(any);
        }
        _ => return false,
    }
    true
}

// ----- comparisons -----

/// Integer and float lane comparisons: each lane all ones when the comparison holds, else 0.
fn comparison(t: &mut Translator, op: &Op) -> bool {
    if let Some((ty, cond)) = integer_comparison(op) {
        let (a, b) = pop2_vectors(t, ty);
        let result = t.b.ins().icmp(cond, a, b);
        t.push_vector(result);
        true
    } else if let Some((ty, cond)) = float_comparison(op) {
        let (a, b) = pop2_vectors(t, ty);
        let result = t.b.ins().fcmp(cond, a, b);
        t.push_vector(result);
        true
    } else {
        false
    }
}

/// The lane shape and condition of an integer lane comparison.
fn integer_comparison(op: &Op) -> Option<(Type, IntCC)> {
    use IntCC::*;
    Some(match op {
        Op::I8x16Eq => (I8X16, Equal),
        Op::I8x16Ne => (I8X16, NotEqual),
        Op::I8x16LtS => (I8X16, SignedLessThan),
        Op::I8x16LtU => (I8X16, UnsignedLessThan),
        Op::I8x16GtS => (I8X16, SignedGreaterThan),
        Op::I8x16GtU => (I8X16, UnsignedGreaterThan),
        Op::I8x16LeS => (I8X16, SignedLessThanOrEqual),
        Op::I8x16LeU => (I8X16, UnsignedLessThanOrEqual),
        Op::I8x16GeS => (I8X16, SignedGreaterThanOrEqual),
        Op::I8x16GeU => (I8X16, UnsignedGreaterThanOrEqual),
        Op::I16x8Eq => (I16X8, Equal),
        Op::I16x8Ne => (I16X8, NotEqual),
        Op::I16x8LtS => (I16X8, SignedLessThan),
        Op::I16x8LtU => (I16X8, UnsignedLessThan),
        Op::I16x8GtS => (I16X8, SignedGreaterThan),
        Op::I16x8GtU => (I16X8, UnsignedGreaterThan),
        Op::I16x8LeS => (I16X8, SignedLessThanOrEqual),
        Op::I16x8LeU => (I16X8, UnsignedLessThanOrEqual),
        Op::I16x8GeS => (I16X8, SignedGreaterThanOrEqual),
        Op::I16x8GeU => (I16X8, UnsignedGreaterThanOrEqual),
        Op::I32x4Eq => (I32X4, Equal),
        Op::I32x4Ne => (I32X4, NotEqual),
        Op::I32x4LtS => (I32X4, SignedLessThan),
        Op::I32x4LtU => (I32X4, UnsignedLessThan),
        Op::I32x4GtS => (I32X4, SignedGreaterThan),
        Op::I32x4GtU => (I32X4, UnsignedGreaterThan),
        Op::I32x4LeS => (I32X4, SignedLessThanOrEqual),
        Op::I32x4LeU => (I32X4, UnsignedLessThanOrEqual),
        Op::I32x4GeS => (I32X4, SignedGreaterThanOrEqual),
        Op::I32x4GeU => (I32X4, UnsignedGreaterThanOrEqual),
        Op::I64x2Eq => (I64X2, Equal),
        Op::I64x2Ne => (I64X2, NotEqual),
        Op::I64x2LtS => (I64X2, SignedLessThan),
        Op::I64x2GtS => (I64X2, SignedGreaterThan),
        Op::I64x2LeS => (I64X2, SignedLessThanOrEqual),
        Op::I64x2GeS => (I64X2, SignedGreaterThanOrEqual),
        _ => return None,
    })
}

/// The lane shape and condition of a float lane comparison (`ne` holds for NaNs, the
/// others do not).
fn float_comparison(op: &Op) -> Option<(Type, FloatCC)> {
    use FloatCC::*;
    Some(match op {
        Op::F32x4Eq => (F32X4, Equal),
        Op::F32x4Ne => (F32X4, NotEqual),
        Op::F32x4Lt => (F32X4, LessThan),
        Op::F32x4Gt => (F32X4, GreaterThan),
        Op::F32x4Le => (F32X4, LessThanOrEqual),
        Op::F32x4Ge => (F32X4, GreaterThanOrEqual),
        Op::F64x2Eq => (F64X2, Equal),
        Op::F64x2Ne => (F64X2, NotEqual),
        Op::F64x2Lt => (F64X2, LessThan),
        Op::F64x2Gt => (F64X2, GreaterThan),
        Op::F64x2Le => (F64X2, LessThanOrEqual),
        Op::F64x2Ge => (F64X2, GreaterThanOrEqual),
        _ => return None,
    })
}

// ----- lanewise unary operators -----

/// A lanewise operator of one vector operand.
#[derive(Clone, Copy)]
enum Unary {
    Abs,
    Neg,
    Popcnt,
    ExtendLowS,
    ExtendHighS,
    ExtendLowU,
    ExtendHighU,
    ExtAddPairwiseS,
    ExtAddPairwiseU,
    FloatAbs,
    FloatNeg,
    Sqrt,
    Ceil,
    Floor,
    Trunc,
    Nearest,
}

/// The operand's lane shape and the operation of a lanewise unary operator.
fn unary_of(op: &Op) -> Option<(Type, Unary)> {
    use Unary::*;
    Some(match op {
        Op::I8x16Abs => (I8X16, Abs),
        Op::I16x8Abs => (I16X8, Abs),
        Op::I32x4Abs => (I32X4, Abs),
        Op::I64x2Abs => (I64X2, Abs),
        Op::I8x16Neg => (I8X16, Neg),
        Op::I16x8Neg => (I16X8, Neg),
        Op::I32x4Neg => (I32X4, Neg),
        Op::I64x2Neg => (I64X2, Neg),
        Op::I8x16Popcnt => (I8X16, Popcnt),
        Op::I16x8ExtendLowI8x16S => (I8X16, ExtendLowS),
        Op::I16x8ExtendHighI8x16S => (I8X16, ExtendHighS),
        Op::I16x8ExtendLowI8x16U => (I8X16, ExtendLowU),
        Op::I16x8ExtendHighI8x16U => (I8X16, ExtendHighU),
        Op::I32x4ExtendLowI16x8S => (I16X8, ExtendLowS),
        Op::I32x4ExtendHighI16x8S => (I16X8, ExtendHighS),
        Op::I32x4ExtendLowI16x8U => (I16X8, ExtendLowU),
        Op::I32x4ExtendHighI16x8U => (I16X8, ExtendHighU),
        Op::I64x2ExtendLowI32x4S => (I32X4, ExtendLowS),
        Op::I64x2ExtendHighI32x4S => (I32X4, ExtendHighS),
        Op::I64x2ExtendLowI32x4U => (I32X4, ExtendLowU),
        Op::I64x2ExtendHighI32x4U => (I32X4, ExtendHighU),
        Op::I16x8ExtAddPairwiseI8x16S => (I8X16, ExtAddPairwiseS),
        Op::I16x8ExtAddPairwiseI8x16U => (I8X16, ExtAddPairwiseU),
        Op::I32x4ExtAddPairwiseI16x8S => (I16X8, ExtAddPairwiseS),
        Op::I32x4ExtAddPairwiseI16x8U => (I16X8, ExtAddPairwiseU),
        Op::F32x4Abs => (F32X4, FloatAbs),
        Op::F64x2Abs => (F64X2, FloatAbs),
        Op::F32x4Neg => (F32X4, FloatNeg),
        Op::F64x2Neg => (F64X2, FloatNeg),
        Op::F32x4Sqrt => (F32X4, Sqrt),
        Op::F64x2Sqrt => (F64X2, Sqrt),
        Op::F32x4Ceil => (F32X4, Ceil),
        Op::F64x2Ceil => (F64X2, Ceil),
        Op::F32x4Floor => (F32X4, Floor),
        Op::F64x2Floor => (F64X2, Floor),
        Op::F32x4Trunc => (F32X4, Trunc),
        Op::F64x2Trunc => (F64X2, Trunc),
        Op::F32x4Nearest => (F32X4, Nearest),
        Op::F64x2Nearest => (F64X2, Nearest),
        _ => return None,
    })
}

/// Lanewise unary operators.
fn lanewise_unary(t: &mut Translator, op: &Op) -> bool {
    let Some((ty, unary)) = unary_of(op) else {
        return false;
    };
    let a = t.pop_vector(ty);
    let ins = t.b.ins();
    let result = match unary {
        Unary::Abs => ins.iabs(a),
        Unary::Neg => ins.ineg(a),
        Unary::Popcnt => ins.popcnt(a),
        Unary::ExtendLowS => ins.swiden_low(a),
        Unary::ExtendHighS => ins.swiden_high(a),
        Unary::ExtendLowU => ins.uwiden_low(a),
        Unary::ExtendHighU => ins.uwiden_high(a),
        Unary::ExtAddPairwiseS => extadd_pairwise(t, a, Extension::Signed),
        Unary::ExtAddPairwiseU => extadd_pairwise(t, a, Extension::Unsigned),
        Unary::FloatAbs => ins.fabs(a),
        Unary::FloatNeg => ins.fneg(a),
        Unary::Sqrt => ins.sqrt(a),
        Unary::Ceil => ins.ceil(a),
        Unary::Floor => ins.floor(a),
        Unary::Trunc => ins.trunc(a),
        Unary::Nearest => ins.nearest(a),
    };
    t.push_vector(result);
    true
}

/// Adjacent lanes of `a` added at twice the width (the pattern x86-64 lowers to one
/// `pmaddubsw` or `pmaddwd`).
fn extadd_pairwise(t: &mut Translator, a: Value, extension: Extension) -> Value {
    let (low, high) = match extension {
        Extension::Signed => (t.b.ins().swiden_low(a), t.b.ins().swiden_high(a)),
        Extension::Unsigned => (t.b.ins().uwiden_low(a), t.b.ins().uwiden_high(a)),
    };
    t.b.ins().iadd_pairwise(low, high)
}

// ----- lanewise binary operators -----

/// A lanewise operator of two vector operands.
#[derive(Clone, Copy)]
enum Binary {
    Add,
    Sub,
    Mul,
    AddSatS,
    AddSatU,
    SubSatS,
    SubSatU,
    MinS,
    MinU,
    MaxS,
    MaxU,
    AvgrU,
    Q15MulrSatS,
    NarrowS,
    NarrowU,
    Dot,
    ExtMulLowS,
    ExtMulHighS,
    ExtMulLowU,
    ExtMulHighU,
    FloatAdd,
    FloatSub,
    FloatMul,
    FloatDiv,
    FloatMin,
    FloatMax,
    PMin,
    PMax,
}

/// The operands' lane shape and the operation of a lanewise binary operator.
fn binary_of(op: &Op) -> Option<(Type, Binary)> {
    use Binary::*;
    Some(match op {
        Op::I8x16Add => (I8X16, Add),
        Op::I16x8Add => (I16X8, Add),
        Op::I32x4Add => (I32X4, Add),
        Op::I64x2Add => (I64X2, Add),
        Op::I8x16Sub => (I8X16, Sub),
        Op::I16x8Sub => (I16X8, Sub),
        Op::I32x4Sub => (I32X4, Sub),
        Op::I64x2Sub => (I64X2, Sub),
        Op::I16x8Mul => (I16X8, Mul),
        Op::I32x4Mul => (I32X4, Mul),
        Op::I64x2Mul => (I64X2, Mul),
        Op::I8x16AddSatS => (I8X16, AddSatS),
        Op::I16x8AddSatS => (I16X8, AddSatS),
        Op::I8x16AddSatU => (I8X16, AddSatU),
        Op::I16x8AddSatU => (I16X8, AddSatU),
        Op::I8x16SubSatS => (I8X16, SubSatS),
        Op::I16x8SubSatS => (I16X8, SubSatS),
        Op::I8x16SubSatU => (I8X16, SubSatU),
        Op::I16x8SubSatU => (I16X8, SubSatU),
        Op::I8x16MinS => (I8X16, MinS),
        Op::I16x8MinS => (I16X8, MinS),
        Op::I32x4MinS => (I32X4, MinS),
        Op::I8x16MinU => (I8X16, MinU),
        Op::I16x8MinU => (I16X8, MinU),
        Op::I32x4MinU => (I32X4, MinU),
        Op::I8x16MaxS => (I8X16, MaxS),
        Op::I16x8MaxS => (I16X8, MaxS),
        Op::I32x4MaxS => (I32X4, MaxS),
        Op::I8x16MaxU => (I8X16, MaxU),
        Op::I16x8MaxU => (I16X8, MaxU),
        Op::I32x4MaxU => (I32X4, MaxU),
        Op::I8x16AvgrU => (I8X16, AvgrU),
        Op::I16x8AvgrU => (I16X8, AvgrU),
        Op::I16x8Q15MulrSatS => (I16X8, Q15MulrSatS),
        Op::I8x16NarrowI16x8S => (I16X8, NarrowS),
        Op::I8x16NarrowI16x8U => (I16X8, NarrowU),
        Op::I16x8NarrowI32x4S => (I32X4, NarrowS),
        Op::I16x8NarrowI32x4U => (I32X4, NarrowU),
        Op::I32x4DotI16x8S => (I16X8, Dot),
        Op::I16x8ExtMulLowI8x16S => (I8X16, ExtMulLowS),
        Op::I16x8ExtMulHighI8x16S => (I8X16, ExtMulHighS),
        Op::I16x8ExtMulLowI8x16U => (I8X16, ExtMulLowU),
        Op::I16x8ExtMulHighI8x16U => (I8X16, ExtMulHighU),
        Op::I32x4ExtMulLowI16x8S => (I16X8, ExtMulLowS),
        Op::I32x4ExtMulHighI16x8S => (I16X8, ExtMulHighS),
        Op::I32x4ExtMulLowI16x8U => (I16X8, ExtMulLowU),
        Op::I32x4ExtMulHighI16x8U => (I16X8, ExtMulHighU),
        Op::I64x2ExtMulLowI32x4S => (I32X4, ExtMulLowS),
        Op::I64x2ExtMulHighI32x4S => (I32X4, ExtMulHighS),
        Op::I64x2ExtMulLowI32x4U => (I32X4, ExtMulLowU),
        Op::I64x2ExtMulHighI32x4U => (I32X4, ExtMulHighU),
        Op::F32x4Add => (F32X4, FloatAdd),
        Op::F64x2Add => (F64X2, FloatAdd),
        Op::F32x4Sub => (F32X4, FloatSub),
        Op::F64x2Sub => (F64X2, FloatSub),
        Op::F32x4Mul => (F32X4, FloatMul),
        Op::F64x2Mul => (F64X2, FloatMul),
        Op::F32x4Div => (F32X4, FloatDiv),
        Op::F64x2Div => (F64X2, FloatDiv),
        Op::F32x4Min => (F32X4, FloatMin),
        Op::F64x2Min => (F64X2, FloatMin),
        Op::F32x4Max => (F32X4, FloatMax),
        Op::F64x2Max => (F64X2, FloatMax),
        Op::F32x4PMin => (F32X4, PMin),
        Op::F64x2PMin => (F64X2, PMin),
        Op::F32x4PMax => (F32X4, PMax),
        Op::F64x2PMax => (F64X2, PMax),
        // Relaxed minimum and maximum take the pseudo-minimum's and pseudo-maximum's result
        // (one the specification allows for NaNs and zeros of either sign, on every target).
        Op::F32x4RelaxedMin => (F32X4, PMin),
        Op::F64x2RelaxedMin => (F64X2, PMin),
        Op::F32x4RelaxedMax => (F32X4, PMax),
        Op::F64x2RelaxedMax => (F64X2, PMax),
        _ => return None,
    })
}

/// Lanewise binary operators.
fn lanewise_binary(t: &mut Translator, op: &Op) -> bool {
    let Some((ty, binary)) = binary_of(op) else {
        return false;
    };
    let (a, b) = pop2_vectors(t, ty);
    let ins = t.b.ins();
    let result = match binary {
        Binary::Add => ins.iadd(a, b),
        Binary::Sub => ins.isub(a, b),
        Binary::Mul => ins.imul(a, b),
        Binary::AddSatS => ins.sadd_sat(a, b),
        Binary::AddSatU => ins.uadd_sat(a, b),
        Binary::SubSatS => ins.ssub_sat(a, b),
        Binary::SubSatU => ins.usub_sat(a, b),
        Binary::MinS => ins.smin(a, b),
        Binary::MinU => ins.umin(a, b),
        Binary::MaxS => ins.smax(a, b),
        Binary::MaxU => ins.umax(a, b),
        Binary::AvgrU => ins.avg_round(a, b),
        Binary::Q15MulrSatS => ins.sqmul_round_sat(a, b),
        Binary::NarrowS => ins.snarrow(a, b),
        Binary::NarrowU => ins.unarrow(a, b),
        Binary::Dot => dot_i16x8(t, a, b),
        Binary::ExtMulLowS => extmul(t, a, b, Half::Low, Extension::Signed),
        Binary::ExtMulHighS => extmul(t, a, b, Half::High, Extension::Signed),
        Binary::ExtMulLowU => extmul(t, a, b, Half::Low, Extension::Unsigned),
        Binary::ExtMulHighU => extmul(t, a, b, Half::High, Extension::Unsigned),
        Binary::FloatAdd => ins.fadd(a, b),
        Binary::FloatSub => ins.fsub(a, b),
        Binary::FloatMul => ins.fmul(a, b),
        Binary::FloatDiv => ins.fdiv(a, b),
        Binary::FloatMin => ins.fmin(a, b),
        Binary::FloatMax => ins.fmax(a, b),
        Binary::PMin => pseudo_min(t, a, b),
        Binary::PMax => pseudo_max(t, a, b),
    };
    t.push_vector(result);
    true
}

/// Which half of a vector's lanes an extending operator reads.
#[derive(Clone, Copy)]
enum Half {
    Low,
    High,
}

/// One half of `a`'s lanes at twice the width.
fn widen(t: &mut Translator, a: Value, half: Half, extension: Extension) -> Value {
    let ins = t.b.ins();
    match (half, extension) {
        (Half::Low, Extension::Signed) => ins.swiden_low(a),
        (Half::High, Extension::Signed) => ins.swiden_high(a),
        (Half::Low, Extension::Unsigned) => ins.uwiden_low(a),
        (Half::High, Extension::Unsigned) => ins.uwiden_high(a),
    }
}

/// `extmul_<half>_<sign>`: one half of the lanes of each operand widened, then multiplied
/// (the pattern x86-64 lowers to `pmul*` without widening first).
fn extmul(t: &mut Translator, a: Value, b: Value, half: Half, extension: Extension) -> Value {
    let a = widen(t, a, half, extension);
    let b = widen(t, b, half, extension);
    t.b.ins().imul(a, b)
}

/// `i32x4.dot_i16x8_s`: signed products of adjacent `i16` lanes summed in `i32` (the
/// pattern x86-64 lowers to one `pmaddwd`).
fn dot_i16x8(t: &mut Translator, a: Value, b: Value) -> Value {
    let low = extmul(t, a, b, Half::Low, Extension::Signed);
    let high = extmul(t, a, b, Half::High, Extension::Signed);
    t.b.ins().iadd_pairwise(low, high)
}

/// `pmin(a, b)`: `b < a ? b : a` lane by lane (NaNs and zeros pass through as they are;
/// x86-64 lowers it to one `minps`/`minpd`).
fn pseudo_min(t: &mut Translator, a: Value, b: Value) -> Value {
    let b_less = t.b.ins().fcmp(FloatCC::LessThan, b, a);
    let ty = t.b.func.dfg.value_type(a);
    let b_less = t.bitcast_vector(b_less, ty);
    t.b.ins().bitselect(b_less, b, a)
}

/// `pmax(a, b)`: `a < b ? b : a` lane by lane (x86-64 lowers it to one `maxps`/`maxpd`).
fn pseudo_max(t: &mut Translator, a: Value, b: Value) -> Value {
    let a_less = t.b.ins().fcmp(FloatCC::LessThan, a, b);
    let ty = t.b.func.dfg.value_type(a);
    let a_less = t.bitcast_vector(a_less, ty);
    t.b.ins().bitselect(a_less, b, a)
}

// ----- shifts -----

/// The direction and kind of a lane shift.
#[derive(Clone, Copy)]
enum Shift {
    Left,
    RightSigned,
    RightUnsigned,
}

/// `shl`, `shr_s`, `shr_u` by an `i32` count; Cranelift's vector shifts take the count modulo
/// the lane width, as wasm does.
fn shift(t: &mut Translator, op: &Op) -> bool {
    use Shift::*;
    let (ty, shift) = match op {
        Op::I8x16Shl => (I8X16, Left),
        Op::I16x8Shl => (I16X8, Left),
        Op::I32x4Shl => (I32X4, Left),
        Op::I64x2Shl => (I64X2, Left),
        Op::I8x16ShrS => (I8X16, RightSigned),
        Op::I16x8ShrS => (I16X8, RightSigned),
        Op::I32x4ShrS => (I32X4, RightSigned),
        Op::I64x2ShrS => (I64X2, RightSigned),
        Op::I8x16ShrU => (I8X16, RightUnsigned),
        Op::I16x8ShrU => (I16X8, RightUnsigned),
        Op::I32x4ShrU => (I32X4, RightUnsigned),
        Op::I64x2ShrU => (I64X2, RightUnsigned),
        _ => return false,
    };
    let count = t.pop1();
    let a = t.pop_vector(ty);
    let ins = t.b.ins();
    let result = match shift {
        Left => ins.ishl(a, count),
        RightSigned => ins.sshr(a, count),
        RightUnsigned => ins.ushr(a, count),
    };
    t.push_vector(result);
    true
}

// ----- reductions to a scalar -----

/// `all_true` and `bitmask`.
fn reduction(t: &mut Translator, op: &Op) -> bool {
    let (ty, all_true) = match op {
        Op::I8x16AllTrue => (I8X16, true),
        Op::I16x8AllTrue => (I16X8, true),
        Op::I32x4AllTrue => (I32X4, true),
        Op::I64x2AllTrue => (I64X2, true),
        Op::I8x16Bitmask => (I8X16, false),
        Op::I16x8Bitmask => (I16X8, false),
        Op::I32x4Bitmask => (I32X4, false),
        Op::I64x2Bitmask => (I64X2, false),
        _ => return false,
    };
    let a = t.pop_vector(ty);
    let result = if all_true {
        let all = t.b.ins().vall_true(a);
        t.b.ins().uextend(I32, all)
    } else {
        t.b.ins().vhigh_bits(I32, a)
    };
    t.push1(result);
    true
}

// ----- conversions -----

/// Float-to-integer truncations, integer-to-float conversions, demotion and promotion.
fn conversion(t: &mut Translator, op: &Op) -> bool {
    let result = match op {
        Op::I32x4TruncSatF32x4S => {
            let a = t.pop_vector(F32X4);
            t.b.ins().fcvt_to_sint_sat(I32X4, a)
        }
        Op::I32x4TruncSatF32x4U => {
            let a = t.pop_vector(F32X4);
            t.b.ins().fcvt_to_uint_sat(I32X4, a)
        }
        Op::I32x4TruncSatF64x2SZero => {
            let a = t.pop_vector(F64X2);
            trunc_sat_f64x2_zero(t, a, Extension::Signed)
        }
        Op::I32x4TruncSatF64x2UZero => {
            let a = t.pop_vector(F64X2);
            trunc_sat_f64x2_zero(t, a, Extension::Unsigned)
        }
        Op::F32x4ConvertI32x4S => {
            let a = t.pop_vector(I32X4);
            t.b.ins().fcvt_from_sint(F32X4, a)
        }
        Op::F32x4ConvertI32x4U => {
            let a = t.pop_vector(I32X4);
            t.b.ins().fcvt_from_uint(F32X4, a)
        }
        Op::F64x2ConvertLowI32x4S => {
            let a = t.pop_vector(I32X4);
            let low = t.b.ins().swiden_low(a);
            t.b.ins().fcvt_from_sint(F64X2, low)
        }
        Op::F64x2ConvertLowI32x4U => {
            let a = t.pop_vector(I32X4);
            let low = t.b.ins().uwiden_low(a);
            t.b.ins().fcvt_from_uint(F64X2, low)
        }
        Op::F32x4DemoteF64x2Zero => {
            let a = t.pop_vector(F64X2);
            t.b.ins().fvdemote(a)
        }
        Op::F64x2PromoteLowF32x4 => {
            let a = t.pop_vector(F32X4);
            t.b.ins().fvpromote_low(a)
        }
        _ => return false,
    };
    t.push_vector(result);
    true
}

/// A zero `i64x2` (the upper half of the `_zero` conversions' results).
fn zero_i64x2(t: &mut Translator) -> Value {
    let constant = t.b.func.dfg.constants.insert(vec![0; 16].into());
    t.b.ins().vconst(I64X2, constant)
}

/// `i32x4.trunc_sat_f64x2_<sign>_zero`: two saturated `i32` lanes, then two zero lanes (the
/// pattern Cranelift's backends lower as a whole; they have no general 64-to-32-bit
/// narrowing).
fn trunc_sat_f64x2_zero(t: &mut Translator, a: Value, extension: Extension) -> Value {
    let zero = zero_i64x2(t);
    match extension {
        Extension::Signed => {
            let wide = t.b.ins().fcvt_to_sint_sat(I64X2, a);
            t.b.ins().snarrow(wide, zero)
        }
        Extension::Unsigned => {
            let wide = t.b.ins().fcvt_to_uint_sat(I64X2, a);
            t.b.ins().uunarrow(wide, zero)
        }
    }
}

// ----- relaxed SIMD -----

/// The relaxed SIMD operators (WebAssembly 3.0) other than `relaxed_min`/`relaxed_max`, which
/// are lanewise binary operators.
fn relaxed(t: &mut Translator, op: &Op) -> bool {
    let result = match op {
        Op::I8x16RelaxedSwizzle => {
            let (vector, indices) = t.pop2();
            relaxed_swizzle(t, vector, indices)
        }
        Op::I32x4RelaxedTruncF32x4S => {
            let a = t.pop_vector(F32X4);
            relaxed_trunc_f32x4_s(t, a)
        }
        Op::I32x4RelaxedTruncF64x2SZero => {
            let a = t.pop_vector(F64X2);
            relaxed_trunc_f64x2_s_zero(t, a)
        }
        // The unsigned truncations keep the saturating result: x86-64 has no shorter
        // sequence that gives one of the other allowed results.
        Op::I32x4RelaxedTruncF32x4U => {
            let a = t.pop_vector(F32X4);
            t.b.ins().fcvt_to_uint_sat(I32X4, a)
        }
        Op::I32x4RelaxedTruncF64x2UZero => {
            let a = t.pop_vector(F64X2);
            trunc_sat_f64x2_zero(t, a, Extension::Unsigned)
        }
        Op::F32x4RelaxedMadd => relaxed_madd(t, F32X4, Product::AsIs),
        Op::F64x2RelaxedMadd => relaxed_madd(t, F64X2, Product::AsIs),
        Op::F32x4RelaxedNmadd => relaxed_madd(t, F32X4, Product::Negated),
        Op::F64x2RelaxedNmadd => relaxed_madd(t, F64X2, Product::Negated),
        Op::I8x16RelaxedLaneselect => relaxed_laneselect(t, I8X16),
        Op::I16x8RelaxedLaneselect => relaxed_laneselect(t, I16X8),
        Op::I32x4RelaxedLaneselect => relaxed_laneselect(t, I32X4),
        Op::I64x2RelaxedLaneselect => relaxed_laneselect(t, I64X2),
        Op::I16x8RelaxedQ15mulrS => {
            let (a, b) = pop2_vectors(t, I16X8);
            relaxed_q15mulr(t, a, b)
        }
        Op::I16x8RelaxedDotI8x16I7x16S => {
            let (a, b) = t.pop2();
            relaxed_dot_i8x16(t, a, b)
        }
        // The specification adds up the saturated `i16` dot product, so the AVX-512 VNNI
        // `vpdpbusd` (four products summed without saturation) is not used.
        Op::I32x4RelaxedDotI8x16I7x16AddS => {
            let addend = t.pop_vector(I32X4);
            let (a, b) = t.pop2();
            let dot = relaxed_dot_i8x16(t, a, b);
            let sums = extadd_pairwise(t, dot, Extension::Signed);
            t.b.ins().iadd(sums, addend)
        }
        _ => return false,
    };
    t.push_vector(result);
    true
}

/// Whether the target is x86-64 (whose backend has the `x86_*` instructions).
fn on_x86_64(t: &Translator) -> bool {
    t.env.isa.triple().architecture == Architecture::X86_64
}

/// `i8x16.relaxed_swizzle`: with `pshufb`, an index from 16 to 127 takes lane `index % 16`;
/// otherwise it gives 0, as `i8x16.swizzle` does.
fn relaxed_swizzle(t: &mut Translator, vector: Value, indices: Value) -> Value {
    if t.env.isa.has_x86_pshufb_lowering() {
        t.b.ins().x86_pshufb(vector, indices)
    } else {
        t.b.ins().swizzle(vector, indices)
    }
}

/// `i32x4.relaxed_trunc_f32x4_s`: on x86-64 one `cvttps2dq`, NaN and out-of-range lanes
/// giving `i32::MIN`; elsewhere the saturating truncation.
fn relaxed_trunc_f32x4_s(t: &mut Translator, a: Value) -> Value {
    if on_x86_64(t) {
        t.b.ins().x86_cvtt2dq(I32X4, a)
    } else {
        t.b.ins().fcvt_to_sint_sat(I32X4, a)
    }
}

/// `i32x4.relaxed_trunc_f64x2_s_zero`: on x86-64 one `cvttpd2dq` (NaN and out of range give
/// `i32::MIN`); elsewhere the saturating truncation.
fn relaxed_trunc_f64x2_s_zero(t: &mut Translator, a: Value) -> Value {
    if on_x86_64(t) {
        let zero = zero_i64x2(t);
        let wide = t.b.ins().x86_cvtt2dq(I64X2, a);
        t.b.ins().snarrow(wide, zero)
    } else {
        trunc_sat_f64x2_zero(t, a, Extension::Signed)
    }
}

/// The sign of the product in a relaxed multiply-add.
#[derive(Clone, Copy)]
enum Product {
    AsIs,
    Negated,
}

/// `relaxed_madd` (`a * b + c`) and `relaxed_nmadd` (`-(a * b) + c`): fused (one rounding)
/// where the target has an FMA instruction, else a multiply and an add.
fn relaxed_madd(t: &mut Translator, ty: Type, product: Product) -> Value {
    let c = t.pop_vector(ty);
    let (a, b) = pop2_vectors(t, ty);
    let a = match product {
        Product::AsIs => a,
        Product::Negated => t.b.ins().fneg(a),
    };
    if t.env.isa.has_native_fma() {
        t.b.ins().fma(a, b, c)
    } else {
        let product = t.b.ins().fmul(a, b);
        t.b.ins().fadd(product, c)
    }
}

/// `<shape>.relaxed_laneselect(a, b, mask)`: where the target has `blendv*`, the top bit of
/// each mask lane picks the lane from `a` (set) or `b` (clear); otherwise a bitwise select.
/// `i16x8` lanes have no blend of their own: each mask lane's top bit is first spread over
/// the lane so that the byte blend `pblendvb` selects whole lanes.
fn relaxed_laneselect(t: &mut Translator, ty: Type) -> Value {
    let (a, b, mask) = t.pop3();
    let blend_ty = if ty == I16X8 { I8X16 } else { ty };
    if !t.env.isa.has_blendv_lowering(blend_ty) {
        return t.b.ins().bitselect(mask, a, b);
    }
    let mask = if ty == I16X8 {
        let mask = t.bitcast_vector(mask, I16X8);
        let top_bit = t.b.ins().iconst(I32, 15);
        let spread = t.b.ins().sshr(mask, top_bit);
        t.bitcast_vector(spread, I8X16)
    } else {
        t.bitcast_vector(mask, ty)
    };
    let a = t.bitcast_vector(a, blend_ty);
    let b = t.bitcast_vector(b, blend_ty);
    t.b.ins().blendv(mask, a, b)
}

/// `i16x8.relaxed_q15mulr_s`: with `pmulhrsw`, `-32768 * -32768` gives `-32768` instead of
/// saturating to 32767.
fn relaxed_q15mulr(t: &mut Translator, a: Value, b: Value) -> Value {
    if t.env.isa.has_x86_pmulhrsw_lowering() {
        t.b.ins().x86_pmulhrsw(a, b)
    } else {
        t.b.ins().sqmul_round_sat(a, b)
    }
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`: the products of adjacent byte lanes, summed with
/// signed saturation. With `pmaddubsw` the lanes of `b` are read as unsigned (the same for
/// the 7-bit values the operator is meant for); otherwise both are signed.
fn relaxed_dot_i8x16(t: &mut Translator, a: Value, b: Value) -> Value {
    if t.env.isa.has_x86_pmaddubsw_lowering() {
        t.b.ins().x86_pmaddubsw(a, b)
    } else {
        signed_dot_i8x16_saturating(t, a, b)
    }
}

/// Signed products of adjacent byte lanes of `a` and `b`, each pair summed in `i16` with
/// signed saturation.
fn signed_dot_i8x16_saturating(t: &mut Translator, a: Value, b: Value) -> Value {
    let low = extmul(t, a, b, Half::Low, Extension::Signed);
    let high = extmul(t, a, b, Half::High, Extension::Signed);
    let low = t.bitcast_vector(low, I8X16);
    let high = t.bitcast_vector(high, I8X16);
    let even = i16_lanes_of_parity(t, low, high, 0);
    let odd = i16_lanes_of_parity(t, low, high, 1);
    let even = t.bitcast_vector(even, I16X8);
    let odd = t.bitcast_vector(odd, I16X8);
    t.b.ins().sadd_sat(even, odd)
}

/// The even (`parity` 0) or odd (1) `i16` lanes of `low` then of `high`, as one vector.
fn i16_lanes_of_parity(t: &mut Translator, low: Value, high: Value, parity: u8) -> Value {
    let mut bytes = [0u8; 16];
    for (i, pair) in bytes.chunks_exact_mut(2).enumerate() {
        let lane = 4 * i as u8 + 2 * parity;
        pair[0] = lane;
        pair[1] = lane + 1;
    }
    shuffle_bytes(t, low, high, bytes)
}

// ----- helpers -----

/// Pops two `v128` operands as vectors of type `ty`, the deeper one first.
fn pop2_vectors(t: &mut Translator, ty: Type) -> (Value, Value) {
    let b = t.pop_vector(ty);
    let a = t.pop_vector(ty);
    (a, b)
}
