//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, branches, `return`,
//! `unreachable` and `nop`.
//!
//! Every frame has a continuation block (`next`) whose parameters are the frame's results; a
//! branch to a loop goes to its header instead, whose parameters are the loop's parameters.
//! A block's parameters stay on the operand stack as they are: they are defined before the
//! block and so dominate it.

use cranelift_codegen::ir::{self, BlockArg, InstBuilder, JumpTableData, condcodes::IntCC};
use wasmparser::{BlockType, Operator};

use super::Translator;
use crate::{
    env::{clif_type, clif_type_of},
    error::Result,
    traps,
};

/// Which side of a block type a new block's parameters take.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The block type's parameters (a loop header).
    Params,
    /// The block type's results (a continuation).
    Results,
}

/// What kind of construct a frame is.
pub(crate) enum FrameKind {
    /// The function body: its continuation returns.
    Function,
    /// `block`.
    Block,
    /// `loop`: branches go back to `header`.
    Loop { header: ir::Block },
    /// `try_table`: a block whose calls may land in its catch clauses' landing pads.
    TryTable {
        catches: Vec<super::exceptions::CatchClause>,
    },
    /// `if`: `else_block` runs when the condition is zero; `else_params` are the frame's
    /// parameters as the `else` arm starts with them.
    If {
        else_block: ir::Block,
        else_params: Vec<ir::Value>,
        else_seen: bool,
    },
}

/// One enclosing construct.
pub(crate) struct ControlFrame {
    /// What it is.
    pub kind: FrameKind,
    /// Where control continues after its `end`; its parameters are the frame's results.
    pub next: ir::Block,
    /// How many values it takes from the stack.
    pub params: usize,
    /// How many values it leaves.
    pub results: usize,
    /// The operand stack's height below its parameters.
    pub height: usize,
    /// Whether any branch or fall-through reaches `next`.
    pub next_reached: bool,
}

impl ControlFrame {
    /// The block a branch to this frame jumps to, and how many values it carries.
    pub(super) fn branch_target(&mut self) -> (ir::Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.params),
            _ => {
                self.next_reached = true;
                (self.next, self.results)
            }
        }
    }
}

/// Translates a control operator; `false` when `op` is not one.
pub(super) fn translate(t: &mut Translator, op: &Operator) -> Result<bool> {
    match op {
        Operator::Nop => {}
        Operator::Unreachable => {
            t.b.ins().trap(traps::UNREACHABLE);
            t.reachable = false;
        }
        Operator::Block { blockty } => {
            let (params, results) = t.block_arity(*blockty);
            let next = t.block_for(*blockty, Side::Results);
            push_frame(t, FrameKind::Block, next, params, results);
        }
        Operator::Loop { blockty } => {
            let (params, results) = t.block_arity(*blockty);
            let header = t.block_for(*blockty, Side::Params);
            let next = t.block_for(*blockty, Side::Results);
            jump_with_top(t, header, params);
            t.b.switch_to_block(header);
            t.dropn(params);
            t.stack.extend_from_slice(t.b.block_params(header));
            t.env.epoch_check(&mut t.b);
            push_frame(t, FrameKind::Loop { header }, next, params, results);
        }
        Operator::If { blockty } => {
            let condition = t.pop1();
            let (params, results) = t.block_arity(*blockty);
            let then_block = t.b.create_block();
            let else_block = t.b.create_block();
            let next = t.block_for(*blockty, Side::Results);
            t.b.ins().brif(condition, then_block, &[], else_block, &[]);
            t.b.seal_block(then_block);
            t.b.seal_block(else_block);
            t.b.switch_to_block(then_block);
            let else_params = t.peekn(params).to_vec();
            push_frame(
                t,
                FrameKind::If {
                    else_block,
                    else_params,
                    else_seen: false,
                },
                next,
                params,
                results,
            );
        }
        Operator::Else => reach_else(t),
        Operator::End => end_frame(t),
        Operator::Br { relative_depth } => {
            let (target, arity) = frame_at(t, *relative_depth).branch_target();
            jump_with_top(t, target, arity);
            t.reachable = false;
        }
        Operator::BrIf { relative_depth } => {
            let condition = t.pop1();
            let (target, arity) = frame_at(t, *relative_depth).branch_target();
            let fallthrough = t.b.create_block();
            top_as_args(t, arity);
            t.b.ins()
                .brif(condition, target, &t.branch_args, fallthrough, &[]);
            t.b.seal_block(fallthrough);
            t.b.switch_to_block(fallthrough);
        }
        Operator::BrOnNull { relative_depth } => {
            let reference = t.pop1();
            let (target, arity) = frame_at(t, *relative_depth).branch_target();
            let fallthrough = t.b.create_block();
            top_as_args(t, arity);
            let is_null = t.b.ins().icmp_imm_u(IntCC::Equal, reference, 0);
            t.b.ins()
                .brif(is_null, target, &t.branch_args, fallthrough, &[]);
            t.b.seal_block(fallthrough);
            t.b.switch_to_block(fallthrough);
            t.push1(reference);
        }
        Operator::BrOnNonNull { relative_depth } => {
            // The reference is the last of the label's values: it stays on the stack for the
            // branch and is dropped on the way through.
            let (target, arity) = frame_at(t, *relative_depth).branch_target();
            let fallthrough = t.b.create_block();
            top_as_args(t, arity);
            let reference = t.pop1();
            t.b.ins()
                .brif(reference, target, &t.branch_args, fallthrough, &[]);
            t.b.seal_block(fallthrough);
            t.b.switch_to_block(fallthrough);
        }
        Operator::BrTable { targets } => {
            let index = t.pop1();
            let (default, arity) = frame_at(t, targets.default()).branch_target();
            top_as_args(t, arity);
            let mut calls = Vec::with_capacity(targets.len() as usize);
            for depth in targets.targets() {
                let depth = depth.map_err(super::invalid)?;
                let (target, _) = frame_at(t, depth).branch_target();
                calls.push(t.b.func.dfg.block_call(target, &t.branch_args));
            }
            let default = t.b.func.dfg.block_call(default, &t.branch_args);
            let table = t.b.create_jump_table(JumpTableData::new(default, &calls));
            t.b.ins().br_table(index, table);
            t.reachable = false;
        }
        Operator::Return => {
            let results = t.control[0].results;
            let values = t.peekn(results).to_vec();
            t.b.ins().return_(&values);
            t.reachable = false;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The frame `depth` levels out from the innermost.
pub(super) fn frame_at<'f>(t: &'f mut Translator, depth: u32) -> &'f mut ControlFrame {
    let index = t.control.len() - 1 - depth as usize;
    &mut t.control[index]
}

/// Fills the translator's branch-argument buffer with the top `n` stack values.
fn top_as_args(t: &mut Translator, n: usize) {
    t.branch_args.clear();
    let top = &t.stack[t.stack.len() - n..];
    t.branch_args
        .extend(top.iter().map(|v| BlockArg::Value(*v)));
}

/// Jumps to `target` with the top `n` stack values as its arguments.
fn jump_with_top(t: &mut Translator, target: ir::Block, n: usize) {
    top_as_args(t, n);
    t.b.ins().jump(target, &t.branch_args);
}

fn push_frame(t: &mut Translator, kind: FrameKind, next: ir::Block, params: usize, results: usize) {
    let height = t.stack.len() - params;
    t.control.push(ControlFrame {
        kind,
        next,
        params,
        results,
        height,
        next_reached: false,
    });
}

/// Opens a `try_table` frame with its catch clauses (their landing pads already built).
pub(super) fn push_try_table(
    t: &mut Translator,
    blockty: BlockType,
    catches: Vec<super::exceptions::CatchClause>,
) {
    let (params, results) = t.block_arity(blockty);
    let next = t.block_for(blockty, Side::Results);
    push_frame(t, FrameKind::TryTable { catches }, next, params, results);
}

/// `else` of the innermost `if`: closes the `then` arm and starts the `else` arm.
pub(super) fn reach_else(t: &mut Translator) {
    let reachable = t.reachable;
    let frame = t
        .control
        .last_mut()
        .expect("the validator matched else with if");
    let FrameKind::If {
        else_block,
        else_params,
        else_seen,
    } = &mut frame.kind
    else {
        unreachable!("the validator matched else with if");
    };
    *else_seen = true;
    let else_block = *else_block;
    let params = std::mem::take(else_params);
    let (next, results, height) = (frame.next, frame.results, frame.height);
    if reachable {
        frame.next_reached = true;
        jump_with_top(t, next, results);
    }
    t.stack.truncate(height);
    t.stack.extend(params);
    t.b.switch_to_block(else_block);
    t.reachable = true;
}

/// `end` of the innermost frame: falls through to its continuation, which becomes the current
/// block (reachable when anything reaches it). The function's own `end` returns.
pub(super) fn end_frame(t: &mut Translator) {
    let frame = t
        .control
        .pop()
        .expect("the validator matched end with a frame");
    let mut next_reached = frame.next_reached;
    if t.reachable {
        jump_with_top(t, frame.next, frame.results);
        next_reached = true;
    }
    let is_function = matches!(frame.kind, FrameKind::Function);
    match frame.kind {
        FrameKind::If {
            else_block,
            else_params,
            else_seen: false,
        } => {
            // No `else`: a false condition passes the parameters on as the results.
            t.b.switch_to_block(else_block);
            t.branch_args.clear();
            t.branch_args
                .extend(else_params.iter().map(|v| BlockArg::Value(*v)));
            t.b.ins().jump(frame.next, &t.branch_args);
            next_reached = true;
        }
        FrameKind::Loop { header } => t.b.seal_block(header),
        FrameKind::TryTable { catches } => {
            for catch in catches {
                t.b.seal_block(catch.landing_pad);
            }
        }
        _ => {}
    }
    t.stack.truncate(frame.height);
    t.b.switch_to_block(frame.next);
    t.b.seal_block(frame.next);
    t.reachable = next_reached;
    if !next_reached {
        return;
    }
    let results = t.b.block_params(frame.next).to_vec();
    if is_function {
        t.b.ins().return_(&results);
        t.reachable = false;
    } else {
        t.stack.extend(results);
    }
}

impl Translator<'_, '_> {
    /// Opens the function body's frame, whose continuation returns the function's results.
    pub(super) fn push_function_frame(&mut self) {
        let returns: Vec<ir::Type> = self
            .b
            .func
            .signature
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let next = self.block_with_params(&returns);
        let results = returns.len();
        push_frame(self, FrameKind::Function, next, 0, results);
    }

    /// How many parameters and results a block type has.
    pub(super) fn block_arity(&self, blockty: BlockType) -> (usize, usize) {
        match blockty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(index) => {
                let ty = &self.env.info.types[index as usize];
                (ty.params.len(), ty.results.len())
            }
        }
    }

    /// A new block whose parameters are the block type's results (`Side::Results`) or
    /// parameters (`Side::Params`).
    pub(super) fn block_for(&mut self, blockty: BlockType, side: Side) -> ir::Block {
        let block = self.b.create_block();
        match blockty {
            BlockType::Empty => {}
            BlockType::Type(ty) => {
                if side == Side::Results {
                    self.b.append_block_param(block, clif_type_of(ty));
                }
            }
            BlockType::FuncType(index) => {
                let ty = &self.env.info.types[index as usize];
                let types = match side {
                    Side::Params => &ty.params,
                    Side::Results => &ty.results,
                };
                for ty in types {
                    self.b.append_block_param(block, clif_type(*ty));
                }
            }
        }
        block
    }

    /// A new block with parameters of `types`.
    fn block_with_params(&mut self, types: &[ir::Type]) -> ir::Block {
        let block = self.b.create_block();
        for ty in types {
            self.b.append_block_param(block, *ty);
        }
        block
    }
}
