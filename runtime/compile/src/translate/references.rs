//! References and tables: `ref.null`, `ref.is_null`, `ref.as_non_null`, `ref.func`,
//! `table.get/set/size/grow/fill/copy/init` and `elem.drop`.
//!
//! A reference is a pointer-sized integer, 0 for null; a function reference points at the
//! instance's `VMFuncRef` record, which the VM fills on first use: `ref.func` checks it and
//! asks the VM to fill an empty one. A table is a record `{base, length, lazy}` of 8-byte
//! elements; access bounds-checks inline, growing and bulk operations call runtime helpers.
//! A function table's elements may still hold their initial functions lazily (the VM's
//! `table` module): a null element read asks the VM to resolve it, and `table.set` first has
//! them written while the record's `lazy` word is set. A 64-bit
//! table (memory64's table64) takes and returns i64 indices and sizes; the helpers take every
//! operand as an i64 whatever the address type.

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
            let funcref = ref_func(t, *function_index);
            t.push1(funcref);
        }
        Operator::TableGet { table } => {
            let index = t.pop1();
            let addr = t.env.table_elem_addr(&mut t.b, *table, index);
            let value =
                t.b.ins()
                    .load(t.env.ptr(), MemFlagsData::trusted(), addr, 0);
            let value = if t.env.is_func_table(*table) {
                resolve_null_element(t, *table, index, value, None)
            } else {
                value
            };
            t.push1(value);
        }
        Operator::TableSet { table } => {
            let (index, value) = t.pop2();
            let addr = t.env.table_elem_addr(&mut t.b, *table, index);
            if t.env.is_func_table(*table) {
                materialize_if_lazy(t, *table);
            }
            t.b.ins().store(MemFlagsData::trusted(), value, addr, 0);
        }
        Operator::TableSize { table } => {
            let record = t
                .env
                .load_vmctx_field(&mut t.b, t.env.offsets.table(*table));
            let length =
                t.b.ins()
                    .load(t.env.ptr(), MemFlagsData::trusted(), record, vmctx::LENGTH);
            let address_type = t.env.table_address_type(*table);
            let length = t.env.ptr_to_address(&mut t.b, length, address_type);
            t.push1(length);
        }
        Operator::TableGrow { table } => {
            let (init, delta) = t.pop2();
            let delta = t.env.address_to_ptr(&mut t.b, delta);
            let address_type = t.env.table_address_type(*table);
            let table = i32_const(t, *table);
            let old = t
                .env
                .libcall(&mut t.b, Libcall::TableGrow, &[table, delta, init]);
            let old = t.env.ptr_to_address(&mut t.b, old, address_type);
            t.push1(old);
        }
        Operator::TableFill { table } => {
            let table = i32_const(t, *table);
            trapping_table_libcall(t, Libcall::TableFill, &[table]);
        }
        Operator::TableCopy {
            dst_table,
            src_table,
        } => {
            let dst_table = i32_const(t, *dst_table);
            let src_table = i32_const(t, *src_table);
            trapping_table_libcall(t, Libcall::TableCopy, &[dst_table, src_table]);
        }
        Operator::TableInit { elem_index, table } => {
            let table = i32_const(t, *table);
            let segment = i32_const(t, *elem_index);
            trapping_table_libcall(t, Libcall::TableInit, &[table, segment]);
        }
        Operator::ElemDrop { elem_index } => {
            let segment = i32_const(t, *elem_index);
            t.env.libcall(&mut t.b, Libcall::ElemDrop, &[segment]);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The address of function `index`'s reference record, filled by the VM when still empty.
fn ref_func(t: &mut Translator, index: u32) -> ir::Value {
    let ptr = t.env.ptr();
    let funcrefs = t.env.load_vmctx_field(&mut t.b, vmctx::VMCTX_FUNCREFS);
    let funcref =
        t.b.ins()
            .iadd_imm_u(funcrefs, i64::from(index) * vmctx::FUNCREF_SIZE);
    let code = t.b.ins().load(
        ptr,
        MemFlagsData::trusted(),
        funcref,
        vmctx::FUNCREF_FUNC_PTR,
    );
    t.unless_zero_cold(code, funcref, |t| {
        let index = i32_const(t, index);
        t.env.libcall(&mut t.b, Libcall::RefFunc, &[index])
    })
}

/// `value`, element `index` of function table `table`, or when it is null what the VM
/// resolves it to (its initial function when it still holds that lazily, else null). With
/// `null_trap`, a null that resolves to null traps with that code, in the cold block, so the
/// hot path tests the element once.
pub(super) fn resolve_null_element(
    t: &mut Translator,
    table: u32,
    index: ir::Value,
    value: ir::Value,
    null_trap: Option<ir::TrapCode>,
) -> ir::Value {
    t.unless_zero_cold(value, value, |t| {
        let table = i32_const(t, table);
        let index = t.env.address_to_ptr(&mut t.b, index);
        let resolved = t
            .env
            .libcall(&mut t.b, Libcall::TableResolve, &[table, index]);
        if let Some(code) = null_trap {
            t.b.ins().trapz(resolved, code);
        }
        resolved
    })
}

/// Has the VM write function table `table`'s lazily initialised elements when its record's
/// `lazy` word says some remain, so that a store is not undone by a later resolution.
fn materialize_if_lazy(t: &mut Translator, table: u32) {
    let record = t.env.load_vmctx_field(&mut t.b, t.env.offsets.table(table));
    let lazy = t.b.ins().load(
        t.env.ptr(),
        MemFlagsData::trusted(),
        record,
        vmctx::TABLE_LAZY,
    );
    t.when_nonzero_cold(lazy, |t| {
        let table = i32_const(t, table);
        t.env.libcall(&mut t.b, Libcall::TableMaterialize, &[table]);
    });
}

/// An `i32` constant holding an index.
fn i32_const(t: &mut Translator, value: u32) -> ir::Value {
    t.b.ins().iconst(types::I32, i64::from(value))
}

/// Calls a table helper with `immediates` (table and segment indices) and the operator's
/// three operands (as i64s); a non-zero status it returns reports an out-of-bounds range.
fn trapping_table_libcall(t: &mut Translator, libcall: Libcall, immediates: &[ir::Value]) {
    let mut args = immediates.to_vec();
    args.extend(t.pop_operands_as_i64(3));
    t.env
        .checked_libcall(&mut t.b, libcall, &args, traps::TABLE_OUT_OF_BOUNDS);
}
