//! Exception handling: `try_table` with its catch clauses, `throw`, `throw_ref`, and the calls
//! that may throw.
//!
//! A `try_table` is a block whose catch clauses each get a landing pad: a block that receives
//! the exception reference, unpacks what the clause asks for and branches to the clause's
//! label. Inside a `try_table` every call is a Cranelift `try_call` whose exception table lists
//! the landing pads of every enclosing `try_table`, innermost first, after a context item with
//! the function's `vmctx` (the unwinder matches a module's tag index against the exception's tag
//! through that instance). Outside any `try_table` a call is a plain call.

use cranelift_codegen::ir::{
    self, BlockArg, ExceptionTableData, ExceptionTableItem, ExceptionTag, InstBuilder,
    MemFlagsData, StackSlotData, StackSlotKind, types,
};
use wasm_prof_environ::{
    Libcall,
    vmoffsets::{EXCEPTION_VALUES, VALUE_SLOT},
};
use wasmparser::{Catch, Operator};

use super::{
    Translator,
    control::{self, FrameKind},
};
use crate::{
    env::{FuncEnv, clif_type},
    error::{CompileError, Result},
    traps,
};

/// One catch clause of a `try_table`, with its landing pad.
pub(crate) struct CatchClause {
    /// The module's tag index, or `None` for `catch_all`.
    pub tag: Option<u32>,
    /// The block that receives the exception reference.
    pub landing_pad: ir::Block,
}

/// What a call goes to.
pub(super) enum Callee {
    /// A function of this module, called directly.
    Direct(ir::FuncRef),
    /// Code at an address, with a signature.
    Indirect(ir::SigRef, ir::Value),
}

/// Translates an exception-handling operator; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Operator) -> Result<bool> {
    match op {
        Operator::TryTable { try_table } => {
            let body = t.b.create_block();
            t.b.ins().jump(body, &[]);
            t.b.seal_block(body);
            let mut catches = Vec::with_capacity(try_table.catches.len());
            for catch in &try_table.catches {
                catches.push(landing_pad(t, catch));
            }
            t.b.switch_to_block(body);
            control::push_try_table(t, try_table.ty, catches);
        }
        Operator::Throw { tag_index } => throw(t, *tag_index),
        Operator::ThrowRef => {
            let exception = t.pop1();
            t.b.ins().trapz(exception, traps::NULL_REFERENCE);
            throw_through(t, Libcall::ThrowRef, &[exception]);
        }
        Operator::Try { .. }
        | Operator::Catch { .. }
        | Operator::CatchAll
        | Operator::Rethrow { .. }
        | Operator::Delegate { .. } => {
            return Err(CompileError::Unsupported(
                "the legacy exception-handling instructions (try/catch/delegate) are not \
                 supported; try_table is"
                    .into(),
            ));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Builds the landing pad of one catch clause: it unpacks the exception as the clause asks and
/// branches to the clause's label (counted from outside the `try_table`). The pad is sealed at
/// the `try_table`'s end, when all the calls that may reach it are known.
fn landing_pad(t: &mut Translator, catch: &Catch) -> CatchClause {
    let ptr = t.env.ptr();
    let (tag, label, with_values, with_ref) = match *catch {
        Catch::One { tag, label } => (Some(tag), label, true, false),
        Catch::OneRef { tag, label } => (Some(tag), label, true, true),
        Catch::All { label } => (None, label, false, false),
        Catch::AllRef { label } => (None, label, false, true),
    };
    let pad = t.b.create_block();
    let exception = t.b.append_block_param(pad, ptr);
    t.b.switch_to_block(pad);
    let mut args: Vec<BlockArg> = Vec::new();
    if let (Some(tag), true) = (tag, with_values) {
        let values =
            t.b.ins()
                .load(ptr, MemFlagsData::trusted(), exception, EXCEPTION_VALUES);
        let types: Vec<ir::Type> = t
            .env
            .info
            .tag_type(tag)
            .params
            .iter()
            .map(|ty| clif_type(*ty))
            .collect();
        for (i, ty) in types.into_iter().enumerate() {
            let value =
                t.b.ins()
                    .load(ty, MemFlagsData::trusted(), values, i as i32 * VALUE_SLOT);
            args.push(BlockArg::Value(value));
        }
    }
    if with_ref {
        args.push(BlockArg::Value(exception));
    }
    // The clause's label counts from the frames outside the try_table, which is not pushed yet.
    let (target, _) = control::frame_at(t, label).branch_target();
    t.b.ins().jump(target, &args);
    CatchClause {
        tag,
        landing_pad: pad,
    }
}

/// `throw $tag`: the values go to a stack slot, the `throw` helper makes the exception and
/// unwinds.
fn throw(t: &mut Translator, tag: u32) {
    let count = t.env.info.tag_type(tag).params.len();
    let slots = t.b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (count.max(1) as u32) * VALUE_SLOT as u32,
        4,
    ));
    let values = t.b.ins().stack_addr(t.env.ptr(), slots, 0);
    for (i, value) in t.peekn(count).to_vec().into_iter().enumerate() {
        t.b.ins().store(
            MemFlagsData::trusted(),
            value,
            values,
            i as i32 * VALUE_SLOT,
        );
    }
    t.dropn(count);
    let tag = t.b.ins().iconst(types::I32, i64::from(tag));
    throw_through(t, Libcall::Throw, &[tag, values]);
}

/// Calls a throwing helper, which never returns here: control goes on at a landing pad or
/// leaves the guest call.
fn throw_through(t: &mut Translator, libcall: Libcall, args: &[ir::Value]) {
    let (sig, code, args) = t.env.libcall_target(&mut t.b, libcall, args);
    t.call_may_throw(Callee::Indirect(sig, code), &args);
    t.b.ins().trap(traps::UNREACHABLE);
    t.reachable = false;
}

impl Translator<'_, '_> {
    /// Emits a call that may throw and returns its results: a `try_call` when a `try_table`
    /// encloses it, a plain call otherwise.
    pub(super) fn call_may_throw(&mut self, callee: Callee, args: &[ir::Value]) -> Vec<ir::Value> {
        let Some(items) = self.enclosing_handlers() else {
            let call = match callee {
                Callee::Direct(func) => self.b.ins().call(func, args),
                Callee::Indirect(sig, code) => self.b.ins().call_indirect(sig, code, args),
            };
            return self.b.inst_results(call).to_vec();
        };
        let sig = match callee {
            Callee::Direct(func) => self.b.func.dfg.ext_funcs[func].signature,
            Callee::Indirect(sig, _) => sig,
        };
        let returns: Vec<ir::Type> = self.b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let normal = self.b.create_block();
        let mut rets = Vec::with_capacity(returns.len());
        for (i, ty) in returns.iter().enumerate() {
            self.b.append_block_param(normal, *ty);
            rets.push(BlockArg::TryCallRet(i as u32));
        }
        let normal_call = self.b.func.dfg.block_call(normal, &rets);
        let table = ExceptionTableData::new(sig, normal_call, items);
        let table = self.b.func.dfg.exception_tables.push(table);
        match callee {
            Callee::Direct(func) => self.b.ins().try_call(func, args, table),
            Callee::Indirect(_, code) => self.b.ins().try_call_indirect(code, args, table),
        };
        self.b.switch_to_block(normal);
        self.b.seal_block(normal);
        self.b.block_params(normal).to_vec()
    }

    /// The exception-table items of the enclosing `try_table`s, innermost first, after the
    /// `vmctx` context; `None` outside any `try_table`.
    fn enclosing_handlers(&mut self) -> Option<Vec<ExceptionTableItem>> {
        let mut pads = self
            .control
            .iter()
            .rev()
            .filter_map(|frame| match &frame.kind {
                FrameKind::TryTable { catches } => Some(catches),
                _ => None,
            })
            .flatten()
            .map(|catch| (catch.tag, catch.landing_pad))
            .peekable();
        pads.peek()?;
        let pads: Vec<(Option<u32>, ir::Block)> = pads.collect();
        let vmctx = FuncEnv::vmctx(&self.b);
        let mut items = Vec::with_capacity(pads.len() + 1);
        items.push(ExceptionTableItem::Context(vmctx));
        for (tag, pad) in pads {
            let call = self.b.func.dfg.block_call(pad, &[BlockArg::TryCallExn(0)]);
            items.push(match tag {
                Some(tag) => ExceptionTableItem::Tag(ExceptionTag::from_u32(tag), call),
                None => ExceptionTableItem::Default(call),
            });
        }
        Some(items)
    }
}
