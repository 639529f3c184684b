//! Trampolines between the host's calling convention and compiled wasm code, one per signature.
//!
//! * host-to-wasm (`entry`): `extern "C" fn(callee_vmctx, caller_vmctx, func_ptr, values)` loads
//!   the arguments from 16-byte slots at `values`, calls `func_ptr`, and stores the results back.
//! * wasm-to-host (`host`): has the wasm signature of an imported function; spills the arguments
//!   into 16-byte stack slots, calls the host context's dispatcher, rethrows the exception it
//!   reports (one a nested guest call let out, or one the host function threw) through the
//!   `throw_ref` libcall, traps if it reports an error, and returns the results it left in the
//!   slots.

use cranelift_codegen::{
    Context,
    control::ControlPlane,
    ir::{
        AbiParam, Function, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
        UserFuncName, Value, condcodes::IntCC, types,
    },
    isa::TargetIsa,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use wasm_prof_environ::{FuncType, Libcall, libcall::HOST_THREW, vmoffsets::VALUE_SLOT};

use crate::{
    env::{clif_type, libcall_address, wasm_signature},
    error::{CompileError, Result},
    functions::{CompiledFunction, collect},
    traps,
};

/// Compiles the host-to-wasm trampoline for `ty`.
pub(crate) fn entry(isa: &dyn TargetIsa, ty: &FuncType) -> Result<CompiledFunction> {
    let ptr = isa.pointer_type();
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.extend([AbiParam::new(ptr); 4]);
    let mut func = Function::with_name_signature(UserFuncName::default(), sig);
    let mut context = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut context);
    let params = entry_block(&mut b);
    let (callee_vmctx, caller_vmctx, func_ptr, values) =
        (params[0], params[1], params[2], params[3]);
    let mut args = vec![callee_vmctx, caller_vmctx];
    for (i, p) in ty.params.iter().enumerate() {
        args.push(b.ins().load(
            clif_type(*p),
            MemFlagsData::trusted(),
            values,
            i as i32 * VALUE_SLOT,
        ));
    }
    let wasm_sig = b.import_signature(wasm_signature(isa, ty));
    let call = b.ins().call_indirect(wasm_sig, func_ptr, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        b.ins()
            .store(MemFlagsData::trusted(), r, values, i as i32 * VALUE_SLOT);
    }
    b.ins().return_(&[]);
    b.finalize(isa.frontend_config());
    finish(isa, func)
}

/// Compiles the wasm-to-host trampoline for `ty`.
pub(crate) fn host(isa: &dyn TargetIsa, ty: &FuncType) -> Result<CompiledFunction> {
    let ptr = isa.pointer_type();
    let mut func = Function::with_name_signature(UserFuncName::default(), wasm_signature(isa, ty));
    let mut context = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut context);
    let params = entry_block(&mut b);
    let (host_ctx, caller_vmctx) = (params[0], params[1]);
    let slots = ty.params.len().max(ty.results.len()).max(1) as u32;
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        slots * VALUE_SLOT as u32,
        4,
    ));
    let values = b.ins().stack_addr(ptr, slot, 0);
    for (i, p) in params[2..].iter().enumerate() {
        b.ins()
            .store(MemFlagsData::trusted(), *p, values, i as i32 * VALUE_SLOT);
    }
    let mut dispatch_sig = Signature::new(isa.default_call_conv());
    dispatch_sig.params.extend([AbiParam::new(ptr); 3]);
    dispatch_sig.returns.push(AbiParam::new(types::I32));
    let dispatch_sig = b.import_signature(dispatch_sig);
    let dispatch = b.ins().load(ptr, MemFlagsData::trusted(), host_ctx, 0);
    let call = b
        .ins()
        .call_indirect(dispatch_sig, dispatch, &[host_ctx, caller_vmctx, values]);
    let status = b.inst_results(call)[0];
    rethrow_if_thrown(isa, &mut b, status, caller_vmctx, values);
    b.ins().trapnz(status, traps::HOST_ERROR);
    let results: Vec<_> = ty
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            b.ins().load(
                clif_type(*r),
                MemFlagsData::trusted(),
                values,
                i as i32 * VALUE_SLOT,
            )
        })
        .collect();
    b.ins().return_(&results);
    b.finalize(isa.frontend_config());
    finish(isa, func)
}

/// When the dispatcher's `status` says the host function threw, rethrows the exception it left
/// in the first slot at `values` through the caller's `throw_ref` libcall (which never returns).
fn rethrow_if_thrown(
    isa: &dyn TargetIsa,
    b: &mut FunctionBuilder,
    status: Value,
    caller_vmctx: Value,
    values: Value,
) {
    let ptr = isa.pointer_type();
    let threw = b.create_block();
    let done = b.create_block();
    let is_throw = b
        .ins()
        .icmp_imm_u(IntCC::Equal, status, i64::from(HOST_THREW));
    b.ins().brif(is_throw, threw, &[], done, &[]);
    b.seal_block(threw);
    b.seal_block(done);
    b.switch_to_block(threw);
    let exception = b.ins().load(ptr, MemFlagsData::trusted(), values, 0);
    let (sig, throw_ref) = libcall_address(isa, b, caller_vmctx, Libcall::ThrowRef);
    b.ins()
        .call_indirect(sig, throw_ref, &[caller_vmctx, exception]);
    b.ins().trap(traps::UNREACHABLE);
    b.switch_to_block(done);
}

/// Starts the function's single block and returns its parameters.
fn entry_block(b: &mut FunctionBuilder) -> Vec<cranelift_codegen::ir::Value> {
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    b.block_params(block).to_vec()
}

fn finish(isa: &dyn TargetIsa, func: Function) -> Result<CompiledFunction> {
    let mut context = Context::for_function(func);
    context
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| CompileError::Function {
            func_index: u32::MAX,
            message: format!("trampoline: {:?}", e.inner),
        })?;
    collect(&context, u32::MAX)
}
