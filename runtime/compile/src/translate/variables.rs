//! Locals, globals and the parametric operators `drop` and `select`.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData};
use wasmparser::Operator;

use super::Translator;
use crate::{env::clif_type, error::Result};

/// Translates a variable or parametric operator; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Operator) -> Result<bool> {
    match op {
        Operator::LocalGet { local_index } => {
            let value = t.b.use_var(t.locals[*local_index as usize]);
            t.push1(value);
        }
        Operator::LocalSet { local_index } => {
            let value = t.pop1();
            t.b.def_var(t.locals[*local_index as usize], value);
        }
        Operator::LocalTee { local_index } => {
            let value = *t.stack.last().expect("the validator checked the stack");
            t.b.def_var(t.locals[*local_index as usize], value);
        }
        Operator::GlobalGet { global_index } => {
            let ty = clif_type(t.env.info.globals[*global_index as usize].content);
            let addr = t.env.global_addr(&mut t.b, *global_index);
            let value = t.b.ins().load(ty, MemFlagsData::trusted(), addr, 0);
            t.push1(value);
        }
        Operator::GlobalSet { global_index } => {
            let value = t.pop1();
            let addr = t.env.global_addr(&mut t.b, *global_index);
            t.b.ins().store(MemFlagsData::trusted(), value, addr, 0);
        }
        Operator::Drop => {
            t.pop1();
        }
        Operator::Select | Operator::TypedSelect { .. } => {
            let (a, b, condition) = t.pop3();
            let value = t.b.ins().select(condition, a, b);
            t.push1(value);
        }
        _ => return Ok(false),
    }
    Ok(true)
}
