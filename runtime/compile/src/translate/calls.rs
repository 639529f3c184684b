//! Calls: `call` to a defined or imported function, `call_indirect` through a table and
//! `call_ref` through a typed function reference, and their tail-call forms `return_call`,
//! `return_call_indirect` and `return_call_ref`, which replace the caller's frame (every wasm
//! function uses Cranelift's `tail` convention, so any callee can be one).
//!
//! Every wasm function takes its own `vmctx` and its caller's before the wasm arguments. A
//! defined function is called directly (a relocation the linker patches); an imported one
//! through the `{code, vmctx}` pair its import slot holds; an indirect callee through the
//! function reference in the table, after checking it is not null and that its type is the
//! expected one: equal canonical type ids, or — only when the expected type is open to
//! subtypes — a runtime helper that follows the callee type's declared supertypes. `call_ref`
//! checks null only: validation proved the reference's type. A call inside a `try_table` is a
//! `try_call` (see [`super::exceptions`]).

use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, condcodes::IntCC, types};
use wasmparser::Operator;

use super::{Translator, exceptions::Callee, references};
use crate::{
    env::{FuncEnv, readonly},
    error::Result,
    traps,
};
use wasm_prof_environ::{Libcall, vmoffsets as vmctx};

/// Translates a call operator; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Operator) -> Result<bool> {
    match op {
        Operator::Call { function_index } => call(t, *function_index, CallKind::Call),
        Operator::CallIndirect {
            type_index,
            table_index,
        } => call_indirect(t, *type_index, *table_index, CallKind::Call),
        Operator::ReturnCall { function_index } => {
            call(t, *function_index, CallKind::TailCall);
        }
        Operator::ReturnCallIndirect {
            type_index,
            table_index,
        } => call_indirect(t, *type_index, *table_index, CallKind::TailCall),
        Operator::CallRef { type_index } => call_ref(t, *type_index, CallKind::Call),
        Operator::ReturnCallRef { type_index } => call_ref(t, *type_index, CallKind::TailCall),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Whether a call returns to its caller or replaces it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CallKind {
    Call,
    TailCall,
}

/// The `vmctx` pair and wasm arguments of a call: pops the callee's parameters.
fn call_args(t: &mut Translator, callee_vmctx: ir::Value, params: usize) -> Vec<ir::Value> {
    let caller_vmctx = FuncEnv::vmctx(&t.b);
    let mut args = Vec::with_capacity(params + 2);
    args.push(callee_vmctx);
    args.push(caller_vmctx);
    args.extend_from_slice(t.peekn(params));
    t.dropn(params);
    args
}

/// Emits the call (which may throw) or the tail call to `callee` and pushes the results, or ends
/// reachable code after a tail call.
fn emit(t: &mut Translator, callee: Callee, args: &[ir::Value], kind: CallKind) {
    match kind {
        CallKind::Call => {
            let results = t.call_may_throw(callee, args);
            t.stack.extend(results);
        }
        CallKind::TailCall => {
            match callee {
                Callee::Direct(func) => t.b.ins().return_call(func, args),
                Callee::Indirect(sig, code) => t.b.ins().return_call_indirect(sig, code, args),
            };
            t.reachable = false;
        }
    }
}

fn call(t: &mut Translator, index: u32, kind: CallKind) {
    let params = t.env.info.func_type(index).params.len();
    if index >= t.env.info.num_imported_funcs {
        let callee = t.env.direct_func(&mut t.b, index);
        let vmctx = FuncEnv::vmctx(&t.b);
        let args = call_args(t, vmctx, params);
        emit(t, Callee::Direct(callee), &args, kind);
    } else {
        let ptr = t.env.ptr();
        let slot = t.env.offsets.imported_func(index);
        let vmctx = FuncEnv::vmctx(&t.b);
        let code = t.b.ins().load(ptr, readonly(), vmctx, slot);
        let callee_vmctx = t.b.ins().load(ptr, readonly(), vmctx, slot + 8);
        let type_index = t.env.info.functions[index as usize];
        let sig = t.env.signature(&mut t.b, type_index);
        let args = call_args(t, callee_vmctx, params);
        emit(t, Callee::Indirect(sig, code), &args, kind);
    }
}

fn call_indirect(t: &mut Translator, type_index: u32, table_index: u32, kind: CallKind) {
    let ptr = t.env.ptr();
    let index = t.pop1();
    let elem = t.env.table_elem_addr(&mut t.b, table_index, index);
    let funcref = t.b.ins().load(ptr, MemFlagsData::trusted(), elem, 0);
    let funcref = references::resolve_null_element(
        t,
        table_index,
        index,
        funcref,
        Some(traps::INDIRECT_CALL_TO_NULL),
    );
    check_type(t, funcref, type_index);
    call_funcref(t, funcref, type_index, kind);
}

/// Traps with `BAD_SIGNATURE` unless the function `funcref` refers to has type `type_index` or
/// a subtype of it.
fn check_type(t: &mut Translator, funcref: ir::Value, type_index: u32) {
    let type_ids = t.env.load_vmctx_field(&mut t.b, vmctx::VMCTX_TYPE_IDS);
    let expected =
        t.b.ins()
            .load(types::I32, readonly(), type_ids, (type_index * 4) as i32);
    let actual = t.b.ins().load(
        types::I32,
        MemFlagsData::trusted(),
        funcref,
        vmctx::FUNCREF_TYPE_ID,
    );
    let mismatch = t.b.ins().icmp(IntCC::NotEqual, expected, actual);
    if t.env.info.type_decls[type_index as usize].is_final {
        t.b.ins().trapnz(mismatch, traps::BAD_SIGNATURE);
        return;
    }
    // A non-final type may have subtypes: a mismatch asks the registry.
    t.when_nonzero_cold(mismatch, |t| {
        let is_subtype = t
            .env
            .libcall(&mut t.b, Libcall::IsSubtype, &[actual, expected]);
        t.b.ins().trapz(is_subtype, traps::BAD_SIGNATURE);
    });
}

/// `call_ref`: a call through a function reference of type `type_index`; traps on null.
fn call_ref(t: &mut Translator, type_index: u32, kind: CallKind) {
    let funcref = t.pop1();
    t.b.ins().trapz(funcref, traps::NULL_REFERENCE);
    call_funcref(t, funcref, type_index, kind);
}

/// Calls the function a non-null, type-checked `funcref` refers to.
fn call_funcref(t: &mut Translator, funcref: ir::Value, type_index: u32, kind: CallKind) {
    let ptr = t.env.ptr();
    let code = t.b.ins().load(
        ptr,
        MemFlagsData::trusted(),
        funcref,
        vmctx::FUNCREF_FUNC_PTR,
    );
    let callee_vmctx =
        t.b.ins()
            .load(ptr, MemFlagsData::trusted(), funcref, vmctx::FUNCREF_VMCTX);
    let params = t.env.info.types[type_index as usize].params.len();
    let sig = t.env.signature(&mut t.b, type_index);
    let args = call_args(t, callee_vmctx, params);
    emit(t, Callee::Indirect(sig, code), &args, kind);
}
