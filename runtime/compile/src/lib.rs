//! The compile layer of wasm-prof's runtime: a parsed module's functions to machine code with
//! Cranelift, laid out in one position-independent code image.
//!
//! ```text
//! ParsedModule → translate (the project's translator, through FuncEnv) → codegen (Cranelift),
//!              in parallel
//!              → code image: functions, trampolines, trap table, data, memory images
//! ```
//!
//! It depends on the environment layer (`wasm-prof-environ`) for everything it shares with the
//! VM — vmctx offsets, libcall order, the code layout — and never on the VM itself.

#![deny(missing_docs)]

mod code_image;
mod env;
pub mod error;
mod functions;
pub mod isa;
mod pass_timing;
mod trampolines;
mod translate;
mod traps;

pub use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
pub use error::{CompileError, Result};
pub use isa::{CRANELIFT_VERSION, OptLevel, build_isa, describe_isa};
use wasm_prof_environ::{CodeLayout, ModuleInfo, ParsedModule, memory_image};
use wasm_prof_phases::{Phase, PhaseClock};

/// How functions are compiled.
#[derive(Clone, Copy, Debug)]
pub struct CompileOptions {
    /// Compile functions on all cores (rayon) rather than on the calling thread only.
    pub parallel: bool,
    /// Emit a deadline check at every function entry and loop header.
    pub epoch_interruption: bool,
}

/// A compiled module before it is made executable: what it declares, its code image and where
/// everything lies in the image.
pub struct CompiledImage {
    /// What the module declares (its data segments as the image holds them).
    pub info: ModuleInfo,
    /// The code image.
    pub image: Vec<u8>,
    /// Where everything lies in `image`.
    pub layout: CodeLayout,
}

/// Compiles every function of `parsed` (the `translate` and `codegen` phases) and lays out the
/// code image for pages of `page_size` bytes (the `link` phase), recording both on `clock`.
///
/// # Errors
/// [`CompileError::Invalid`] for an invalid function body, [`CompileError::Unsupported`] for a
/// feature the translator lacks, [`CompileError::Function`] when Cranelift fails,
/// [`CompileError::Limit`] for an image larger than 4 GiB.
pub fn compile_module(
    isa: &dyn TargetIsa,
    options: &CompileOptions,
    parsed: ParsedModule<'_>,
    page_size: usize,
    clock: &mut PhaseClock,
) -> Result<CompiledImage> {
    let ParsedModule {
        mut info,
        bodies,
        data,
    } = parsed;
    let functions = functions::compile_functions(isa, options, &info, bodies, clock)?;
    let span = clock.start(Phase::Link);
    let plan = memory_image::plan(&mut info, &data, page_size as u64);
    let (image, layout) = code_image::build_code_image(isa, &info, functions, plan, page_size)?;
    clock.end(span);
    Ok(CompiledImage {
        info,
        image,
        layout,
    })
}
