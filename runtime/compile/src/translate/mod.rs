//! The project's own WebAssembly → Cranelift IR translator.
//!
//! One function body is read operator by operator; each operator is validated (wasmparser's
//! function validator) and then translated onto an operand stack of Cranelift values and a
//! stack of control frames. The core here owns the stacks, locals and unreachable code; each
//! family of operators lives in its own file and says whether an operator was its own:
//!
//! | file         | operators                                                              |
//! |--------------|------------------------------------------------------------------------|
//! | `control`    | block, loop, if/else, end, br*, return, unreachable, nop               |
//! | `variables`  | locals, globals, drop, select                                          |
//! | `calls`      | call, call_indirect                                                    |
//! | `numeric`    | scalar integer and float arithmetic, comparisons, conversions          |
//! | `memory`     | loads, stores (scalar and vector), memory.size/grow, bulk memory       |
//! | `simd`       | v128 arithmetic, lanes, shuffles, conversions (not memory)             |
//! | `references` | ref.*, table.*, elem.drop                                              |
//! | `exceptions` | try_table, throw, throw_ref, and calls that may throw                   |
//! | `atomics`    | atomic loads, stores, read-modify-writes, cmpxchg; fence, notify, wait |
//!
//! Stack conventions every file keeps: a `v128` is always an `i8x16` on the stack (bitcast on
//! the way in and out with [`Translator::pop_vector`] and [`Translator::push_vector`]); a
//! reference is a pointer-sized integer, 0 for null.

mod atomics;
mod calls;
mod control;
mod exceptions;
mod memory;
mod numeric;
mod references;
mod simd;
mod variables;

use cranelift_codegen::ir::{self, Function, InstBuilder, MemFlagsData, types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{FuncValidator, FunctionBody, Operator, OperatorsReader, ValidatorResources};

use crate::{
    env::{FuncEnv, clif_type_of},
    error::{CompileError, Result},
};
use control::ControlFrame;

/// Translation state reused across the functions one worker compiles (its allocations only).
#[derive(Default)]
pub(crate) struct FuncTranslator {
    builder_context: FunctionBuilderContext,
    stack: Vec<ir::Value>,
    control: Vec<ControlFrame>,
    locals: Vec<Variable>,
    branch_args: Vec<ir::BlockArg>,
}

impl FuncTranslator {
    /// Validates `body` and translates it into `func`, whose signature is already the
    /// function's wasm signature, through `env`.
    ///
    /// # Errors
    /// [`CompileError::Invalid`] for an invalid body, [`CompileError::Unsupported`] for an
    /// operator the translator does not handle.
    pub fn translate(
        &mut self,
        validator: &mut FuncValidator<ValidatorResources>,
        body: &FunctionBody<'_>,
        func: &mut Function,
        env: &mut FuncEnv<'_>,
    ) -> Result<()> {
        let frontend_config = env.isa.frontend_config();
        let mut t = Translator {
            b: FunctionBuilder::new(func, &mut self.builder_context),
            env,
            stack: std::mem::take(&mut self.stack),
            control: std::mem::take(&mut self.control),
            locals: std::mem::take(&mut self.locals),
            reachable: true,
            unreachable_depth: 0,
            branch_args: std::mem::take(&mut self.branch_args),
        };
        t.stack.clear();
        t.control.clear();
        t.locals.clear();
        let result = t.translate_body(validator, body);
        let Translator {
            b,
            stack,
            control,
            locals,
            branch_args,
            ..
        } = t;
        self.stack = stack;
        self.control = control;
        self.locals = locals;
        self.branch_args = branch_args;
        result?;
        b.finalize(frontend_config);
        Ok(())
    }
}

/// The translation of one function body in progress.
pub(crate) struct Translator<'a, 'e> {
    /// Builds the function's IR.
    pub b: FunctionBuilder<'a>,
    /// The module, target and `vmctx` layout.
    pub env: &'a mut FuncEnv<'e>,
    /// The wasm operand stack.
    pub stack: Vec<ir::Value>,
    /// The enclosing blocks, loops and ifs, innermost last.
    pub control: Vec<ControlFrame>,
    /// One variable per local, parameters first.
    pub locals: Vec<Variable>,
    /// Whether the current position can be reached; operators in unreachable code are
    /// validated but not translated.
    pub reachable: bool,
    /// How many blocks deep into unreachable code the translator is (blocks opened there).
    unreachable_depth: u32,
    /// Scratch space for a branch's arguments.
    pub branch_args: Vec<ir::BlockArg>,
}

/// Flags for a bitcast between vector types: lanes are little-endian, as wasm's are.
fn vector_bitcast_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(ir::Endianness::Little)
}

fn invalid(e: wasmparser::BinaryReaderError) -> CompileError {
    CompileError::Invalid(format!(
        "{} (at byte offset {:#x})",
        e.message(),
        e.offset()
    ))
}

impl Translator<'_, '_> {
    fn translate_body(
        &mut self,
        validator: &mut FuncValidator<ValidatorResources>,
        body: &FunctionBody<'_>,
    ) -> Result<()> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        // In the layout from the start, so that the `vmctx` parameter can be found.
        self.b.ensure_inserted_block();
        self.declare_params(entry);
        let mut locals = body.get_locals_reader().map_err(invalid)?;
        for _ in 0..locals.get_count() {
            let offset = locals.original_position();
            let (count, ty) = locals.read().map_err(invalid)?;
            validator
                .define_locals(offset, count, ty)
                .map_err(invalid)?;
            self.declare_locals(count, ty);
        }
        self.env.epoch_check(&mut self.b);
        self.push_function_frame();
        let mut reader =
            OperatorsReader::new(body.get_binary_reader_for_operators().map_err(invalid)?);
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset().map_err(invalid)?;
            validator.op(offset, &op).map_err(invalid)?;
            if self.reachable {
                self.translate_operator(&op)?;
            } else {
                self.translate_unreachable_operator(&op);
            }
        }
        reader.finish().map_err(invalid)
    }

    /// Binds each wasm parameter (after the two `vmctx` parameters) to its local.
    fn declare_params(&mut self, entry: ir::Block) {
        let params: Vec<ir::Value> = self.b.block_params(entry)[2..].to_vec();
        for value in params {
            let ty = self.b.func.dfg.value_type(value);
            let var = self.b.declare_var(ty);
            self.b.def_var(var, value);
            self.locals.push(var);
        }
    }

    /// Declares `count` locals of type `ty`, each starting at zero (null for references).
    fn declare_locals(&mut self, count: u32, ty: wasmparser::ValType) {
        let clif = clif_type_of(ty);
        let zero = self.zero_value(clif);
        for _ in 0..count {
            let var = self.b.declare_var(clif);
            self.b.def_var(var, zero);
            self.locals.push(var);
        }
    }

    /// The zero of a Cranelift type (a null reference for pointer-sized integers).
    pub fn zero_value(&mut self, ty: ir::Type) -> ir::Value {
        match ty {
            types::F32 => self.b.ins().f32const(0.0),
            types::F64 => self.b.ins().f64const(0.0),
            types::I8X16 => self.vector_const([0; 16]),
            _ => self.b.ins().iconst(ty, 0),
        }
    }

    /// An `i8x16` constant with these bytes (lane 0 first).
    pub fn vector_const(&mut self, bytes: [u8; 16]) -> ir::Value {
        let constant = self.b.func.dfg.constants.insert(bytes.to_vec().into());
        self.b.ins().vconst(types::I8X16, constant)
    }

    fn translate_operator(&mut self, op: &Operator<'_>) -> Result<()> {
        let handled = control::translate(self, op)?
            || variables::translate(self, op)?
            || calls::translate(self, op)?
            || numeric::translate(self, op)?
            || memory::translate(self, op)?
            || simd::translate(self, op)?
            || references::translate(self, op)?
            || exceptions::translate(self, op)?
            || atomics::translate(self, op)?;
        if handled {
            Ok(())
        } else {
            Err(CompileError::Unsupported(format!(
                "the WebAssembly operator {op:?} is not supported"
            )))
        }
    }

    /// Follows block structure through unreachable code until an `else` or `end` makes code
    /// reachable again.
    fn translate_unreachable_operator(&mut self, op: &Operator<'_>) {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                self.unreachable_depth += 1;
            }
            Operator::Else if self.unreachable_depth == 0 => control::reach_else(self),
            Operator::End if self.unreachable_depth == 0 => control::end_frame(self),
            Operator::End => self.unreachable_depth -= 1,
            _ => {}
        }
    }

    // ----- cold paths -----

    /// Runs `slow` in a cold block when `condition` is nonzero, then goes on after it.
    pub fn when_nonzero_cold(&mut self, condition: ir::Value, slow: impl FnOnce(&mut Self)) {
        let cold = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(condition, cold, &[], done, &[]);
        self.enter_cold(cold);
        slow(self);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }

    /// `fast` when `test` is nonzero, else the pointer-sized value `slow` computes in a cold
    /// block.
    pub fn unless_zero_cold(
        &mut self,
        test: ir::Value,
        fast: ir::Value,
        slow: impl FnOnce(&mut Self) -> ir::Value,
    ) -> ir::Value {
        let cold = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, self.env.ptr());
        self.b.ins().brif(test, done, &[fast.into()], cold, &[]);
        self.enter_cold(cold);
        let slow = slow(self);
        self.b.ins().jump(done, &[slow.into()]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        self.b.block_params(done)[0]
    }

    /// Continues in `cold`, a block whose one predecessor has just branched to it, laid out
    /// away from the hot code.
    fn enter_cold(&mut self, cold: ir::Block) {
        self.b.seal_block(cold);
        self.b.switch_to_block(cold);
        self.b.set_cold_block(cold);
    }

    // ----- the operand stack -----

    /// Pushes one value.
    pub fn push1(&mut self, value: ir::Value) {
        self.stack.push(value);
    }

    /// Pops one value.
    pub fn pop1(&mut self) -> ir::Value {
        self.stack.pop().expect("the validator checked the stack")
    }

    /// Pops two values, the deeper one first.
    pub fn pop2(&mut self) -> (ir::Value, ir::Value) {
        let b = self.pop1();
        let a = self.pop1();
        (a, b)
    }

    /// Pops three values, the deepest one first.
    pub fn pop3(&mut self) -> (ir::Value, ir::Value, ir::Value) {
        let c = self.pop1();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    /// The top `n` values, deepest first.
    pub fn peekn(&self, n: usize) -> &[ir::Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Removes the top `n` values.
    pub fn dropn(&mut self, n: usize) {
        let len = self.stack.len() - n;
        self.stack.truncate(len);
    }

    /// Pops the top `n` values, deepest first, each zero-extended to an i64 when narrower:
    /// the operands of a bulk memory or table helper (see [`FuncEnv::address_to_ptr`]).
    pub fn pop_operands_as_i64(&mut self, n: usize) -> Vec<ir::Value> {
        let operands = self.peekn(n).to_vec();
        self.dropn(n);
        operands
            .into_iter()
            .map(|operand| self.env.address_to_ptr(&mut self.b, operand))
            .collect()
    }

    /// Pops a `v128` as a vector of type `ty` (a bitcast when `ty` is not `i8x16`).
    pub fn pop_vector(&mut self, ty: ir::Type) -> ir::Value {
        let value = self.pop1();
        self.bitcast_vector(value, ty)
    }

    /// Pushes a 128-bit vector of any lane type as the stack's `i8x16`.
    pub fn push_vector(&mut self, value: ir::Value) {
        let value = self.bitcast_vector(value, types::I8X16);
        self.push1(value);
    }

    /// Reinterprets a 128-bit vector as type `ty` (no instruction when it already is).
    pub fn bitcast_vector(&mut self, value: ir::Value, ty: ir::Type) -> ir::Value {
        if self.b.func.dfg.value_type(value) == ty {
            value
        } else {
            self.b.ins().bitcast(ty, vector_bitcast_flags(), value)
        }
    }
}
