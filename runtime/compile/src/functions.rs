//! wasm → Cranelift IR → machine code, one function at a time, in parallel.
//!
//! Each function body is validated while the project's translator ([`crate::translate`])
//! turns it into IR through a [`FuncEnv`], then Cranelift generates code for the host. Calls
//! between functions stay relocations until [`crate::code_image`] lays out the code image.

use std::time::Instant;

use cranelift_codegen::{
    Context, ExceptionContextLoc, FinalizedMachExceptionHandler,
    binemit::Reloc,
    control::ControlPlane,
    ir::{ExternalName, Function, UserFuncName},
    isa::TargetIsa,
};
use rayon::prelude::*;
use wasmparser::FuncValidatorAllocations;

use wasm_prof_environ::{
    ModuleInfo, PendingBody, TrapKind,
    exception_table::{CallSite, Handler},
};
use wasm_prof_phases::{FunctionTiming, Phase, PhaseClock, offset_ns};

use crate::{
    CompileOptions,
    env::{self, FuncEnv},
    error::{CompileError, Result},
    pass_timing::{PassRecording, PassTotals},
    translate::FuncTranslator,
    traps::trap_kind,
};

/// A call from one function to another, patched by the linker.
pub(crate) struct CallReloc {
    pub offset: u32,
    pub kind: Reloc,
    pub target: u32,
    pub addend: i64,
}

/// One function's machine code with what the linker and trap handler need.
pub(crate) struct CompiledFunction {
    pub code: Vec<u8>,
    pub relocs: Vec<CallReloc>,
    pub traps: Vec<(u32, TrapKind)>,
    /// Calls with exception handlers, at offsets within `code`.
    pub call_sites: Vec<CallSite>,
}

/// Takes the machine code, call relocations and trap sites out of a compiled context.
pub(crate) fn collect(context: &Context, func_index: u32) -> Result<CompiledFunction> {
    let compiled = context
        .compiled_code()
        .expect("collect is called after a successful compile");
    let names = context.func.params.user_named_funcs();
    let mut relocs = Vec::new();
    for reloc in compiled.buffer.relocs() {
        let target = match &reloc.target {
            cranelift_codegen::FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                names[*name].index
            }
            other => {
                return Err(CompileError::Function {
                    func_index,
                    message: format!("unexpected relocation to {other:?}"),
                });
            }
        };
        relocs.push(CallReloc {
            offset: reloc.offset,
            kind: reloc.kind,
            target,
            addend: reloc.addend,
        });
    }
    let traps = compiled
        .buffer
        .traps()
        .iter()
        .map(|t| (t.offset, trap_kind(t.code)))
        .collect();
    Ok(CompiledFunction {
        code: compiled.code_buffer().to_vec(),
        relocs,
        traps,
        call_sites: call_sites(&compiled.buffer, func_index)?,
    })
}

/// The calls of a compiled function that have exception handlers, with their frame offsets and
/// handlers in the order the unwinder tries them.
fn call_sites(
    buffer: &cranelift_codegen::MachBufferFinalized<cranelift_codegen::Final>,
    func_index: u32,
) -> Result<Vec<CallSite>> {
    let failed = |message: &str| CompileError::Function {
        func_index,
        message: message.into(),
    };
    let mut sites = Vec::new();
    for site in buffer.call_sites() {
        if site.exception_handlers.is_empty() {
            continue;
        }
        let frame_offset = site
            .frame_offset
            .ok_or_else(|| failed("a call with exception handlers has no frame offset"))?;
        let handlers = site
            .exception_handlers
            .iter()
            .map(|handler| match *handler {
                FinalizedMachExceptionHandler::Tag(tag, landing_pad) => Ok(Handler::Tag {
                    tag: tag.as_u32(),
                    landing_pad,
                }),
                FinalizedMachExceptionHandler::Default(landing_pad) => {
                    Ok(Handler::CatchAll { landing_pad })
                }
                FinalizedMachExceptionHandler::Context(ExceptionContextLoc::SPOffset(
                    sp_offset,
                )) => Ok(Handler::Context { sp_offset }),
                FinalizedMachExceptionHandler::Context(ExceptionContextLoc::GPR(_)) => Err(failed(
                    "an exception handler's context is in a register, where the unwinder cannot \
                     find it",
                )),
            })
            .collect::<Result<_>>()?;
        sites.push(CallSite {
            return_address: site.ret_addr,
            frame_offset,
            handlers,
        });
    }
    Ok(sites)
}

/// Per-thread compile state, reused across the functions a worker compiles.
struct Worker {
    translator: FuncTranslator,
    allocations: FuncValidatorAllocations,
    context: Context,
}

struct Output {
    function: CompiledFunction,
    timing: Option<(FunctionTiming, PassTotals)>,
}

fn compile_one(
    worker: &mut Worker,
    isa: &dyn TargetIsa,
    info: &ModuleInfo,
    options: &CompileOptions,
    origin: Option<Instant>,
    func_index: u32,
    body: PendingBody<'_>,
) -> Result<Output> {
    let passes = origin.map(|_| PassRecording::start());
    let start = Instant::now();
    let mut func = Function::with_name_signature(
        UserFuncName::user(0, func_index),
        env::wasm_signature(isa, info.func_type(func_index)),
    );
    let mut environ = FuncEnv::new(isa, info, options.epoch_interruption);
    environ.install_stack_limit(&mut func);
    let mut validator = body
        .validator
        .into_validator(std::mem::take(&mut worker.allocations));
    worker
        .translator
        .translate(&mut validator, &body.body, &mut func, &mut environ)?;
    worker.allocations = validator.into_allocations();
    let translated = Instant::now();
    let context = &mut worker.context;
    context.clear();
    context.func = func;
    context
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| CompileError::Function {
            func_index,
            message: format!("{:?}", e.inner),
        })?;
    let function = collect(context, func_index)?;
    let timing = origin.zip(passes).map(|(origin, passes)| {
        let done = Instant::now();
        let timing = FunctionTiming {
            func_index,
            thread: rayon::current_thread_index().unwrap_or(0) as u32,
            start_ns: offset_ns(origin, start),
            translate_ns: offset_ns(start, translated),
            codegen_ns: offset_ns(translated, done),
            code_bytes: function.code.len() as u32,
        };
        (timing, passes.finish())
    });
    Ok(Output { function, timing })
}

/// Compiles every defined function of a parsed module, recording the `translate` and
/// `codegen` phases, per-function timings and per-pass times on `clock`.
///
/// Translation and code generation of one function run back to back on one worker, so the
/// two phases overlap in time; their spans split the parallel region's wall time in proportion
/// to the CPU time each took.
pub(crate) fn compile_functions(
    isa: &dyn TargetIsa,
    options: &CompileOptions,
    info: &ModuleInfo,
    bodies: Vec<PendingBody<'_>>,
    clock: &mut PhaseClock,
) -> Result<Vec<CompiledFunction>> {
    let origin = clock.origin();
    let first = info.num_imported_funcs;
    let region_start = Instant::now();
    let new_worker = || Worker {
        translator: FuncTranslator::default(),
        allocations: FuncValidatorAllocations::default(),
        context: Context::new(),
    };
    let outputs: Vec<Output> = if options.parallel {
        // Largest bodies first, one task each: a big function started last would leave the
        // other cores idle while it compiles.
        let mut queue: Vec<(usize, PendingBody<'_>)> = bodies.into_iter().enumerate().collect();
        queue.sort_by_key(|(_, body)| {
            let range = body.body.range();
            std::cmp::Reverse(range.end - range.start)
        });
        let mut compiled: Vec<(usize, Output)> = queue
            .into_par_iter()
            .with_max_len(1)
            .map_init(new_worker, |worker, (i, body)| {
                compile_one(worker, isa, info, options, origin, first + i as u32, body)
                    .map(|output| (i, output))
            })
            .collect::<Result<_>>()?;
        compiled.sort_unstable_by_key(|(i, _)| *i);
        compiled.into_iter().map(|(_, output)| output).collect()
    } else {
        let mut worker = new_worker();
        bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| {
                compile_one(
                    &mut worker,
                    isa,
                    info,
                    options,
                    origin,
                    first + i as u32,
                    body,
                )
            })
            .collect::<Result<_>>()?
    };
    if let Some(origin) = origin {
        let wall = region_start.elapsed();
        let mut passes = PassTotals::default();
        let mut translate = 0u64;
        let mut codegen = 0u64;
        for (timing, pass_totals) in outputs.iter().filter_map(|o| o.timing.as_ref()) {
            translate += timing.translate_ns;
            codegen += timing.codegen_ns;
            passes.merge(pass_totals);
        }
        let share = translate as f64 / (translate + codegen).max(1) as f64;
        let translate_wall = wall.mul_f64(share);
        let start = region_start.saturating_duration_since(origin);
        clock.push(Phase::Translate, start, translate_wall);
        clock.push(
            Phase::Codegen,
            start + translate_wall,
            wall - translate_wall,
        );
        clock.add_passes(passes.into_pass_times());
        clock.add_functions(
            outputs
                .iter()
                .filter_map(|o| o.timing.as_ref().map(|t| t.0.clone())),
        );
    }
    Ok(outputs.into_iter().map(|o| o.function).collect())
}
