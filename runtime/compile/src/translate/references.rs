//! References and tables: `ref.null`, `ref.is_null`, `ref.as_non_null`, `ref.func`,
//! `table.get/set/size/grow/fill/copy/init` and `elem.drop`.
//!
//! A reference is a pointer-sized integer, 0 for null; a function reference points at the
//! instance's `VMFuncRef` record. A table is a record `{base, length}` of 8-byte elements;
//! access bounds-checks inline, growing and bulk operations call runtime helpers.

use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, condcodes::IntCC, types};
use wasm_prof_environ::{Libcall, vmoffsets as vmctx};
use wasmparser::Operator;

use super::Translator;
use crate::{error::Result, traps};

/// Translates a reference or table operator; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Operator) -> Result<bool> {
    match op {
        Operator::RefNull { .. } => {
            let null = t.b.ins().iconst(t.env.ptr(), 0);
            t.push1(null);
        }
        Operator::RefIsNull => {
            let value = t.pop1();
            let is_null = t.b.ins().icmp_imm_u(IntCC::Equal, value, 0);
            let is_null = t.b.ins().uextend(types::I32, is_null);
            t.push1(is_null);
        }
        Operator::RefAsNonNull => {
            let value = t.pop1();
            t.b.ins().trapz(value, traps::NULL_REFERENCE);
            t.push1(value);
        }
        Operator::RefFunc { function_index } => {
            let funcrefs = t.env.load_vmctx_field(&mut t.b, vmctx::VMCTX_FUNCREFS);
            let offset = i64::from(*function_index) * vmctx::FUNCREF_SIZE;
            let funcref = t.b.ins().iadd_imm_u(funcrefs, offset);
            t.push1(funcref);
        }
        Operator::TableGet { table } => {
            let index = t.pop1();
            let addr = t.env.table_elem_addr(&mut t.b, *table, index);
            let value =
                t.b.ins()
                    .load(t.env.ptr(), MemFlagsData::trusted(), addr, 0);
            t.push1(value);
        }
        Operator::TableSet { table } => {
            let (index, value) = t.pop2();
            let addr = t.env.table_elem_addr(&mut t.b, *table, index);
            t.b.ins().store(MemFlagsData::trusted(), value, addr, 0);
        }
        Operator::TableSize { table } => {
            let record = t
                .env
                .load_vmctx_field(&mut t.b, t.env.offsets.table(*table));
            let length =
                t.b.ins()
                    .load(t.env.ptr(), MemFlagsData::trusted(), record, vmctx::LENGTH);
            let length = t.b.ins().ireduce(types::I32, length);
            t.push1(length);
        }
        Operator::TableGrow { table } => {
            let (init, delta) = t.pop2();
            let table = i32_const(t, *table);
            let old = t
                .env
                .libcall(&mut t.b, Libcall::TableGrow, &[table, delta, init]);
            t.push1(old);
        }
        Operator::TableFill { table } => {
            let (dst, value, len) = t.pop3();
            let table = i32_const(t, *table);
            trapping_table_libcall(t, Libcall::TableFill, &[table, dst, value, len]);
        }
        Operator::TableCopy {
            dst_table,
            src_table,
        } => {
            let (dst, src, len) = t.pop3();
            let dst_table = i32_const(t, *dst_table);
            let src_table = i32_const(t, *src_table);
            trapping_table_libcall(
                t,
                Libcall::TableCopy,
                &[dst_table, src_table, dst, src, len],
            );
        }
        Operator::TableInit { elem_index, table } => {
            let (dst, src, len) = t.pop3();
            let table = i32_const(t, *table);
            let segment = i32_const(t, *elem_index);
            trapping_table_libcall(t, Libcall::TableInit, &[table, segment, dst, src, len]);
        }
        Operator::ElemDrop { elem_index } => {
            let segment = i32_const(t, *elem_index);
            t.env.libcall(&mut t.b, Libcall::ElemDrop, &[segment]);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// An `i32` constant holding an index.
fn i32_const(t: &mut Translator, value: u32) -> ir::Value {
    t.b.ins().iconst(types::I32, i64::from(value))
}

/// Calls a table helper that reports an out-of-bounds range with a non-zero status.
fn trapping_table_libcall(t: &mut Translator, libcall: Libcall, args: &[ir::Value]) {
    t.env
        .checked_libcall(&mut t.b, libcall, args, traps::TABLE_OUT_OF_BOUNDS);
}
