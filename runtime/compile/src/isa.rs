//! The Cranelift target for this machine, and a description of everything in it that changes
//! generated code (for the engine fingerprint).

use std::fmt::Write as _;

use cranelift_codegen::{
    isa::{OwnedTargetIsa, TargetIsa},
    settings::{self, Configurable},
};

use crate::error::{CompileError, Result};

/// The Cranelift release the compiler is built on (part of every cache key).
pub const CRANELIFT_VERSION: &str = "0.135.0";

/// Cranelift's optimisation level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptLevel {
    /// No optimisations: fastest compile.
    None,
    /// Optimise for speed (the default).
    Speed,
    /// Optimise for speed and size.
    SpeedAndSize,
}

/// Builds the Cranelift target for this machine: `opt_level`, the IR verifier after every
/// pass when `verifier`, frame pointers kept (the trap handler walks them), no probestack, no
/// unwind info, no spectre mitigations on heap and table accesses (guard pages and explicit
/// checks trap instead), and results beyond the return registers returned through a hidden
/// return area (wasm functions may return any number of values).
///
/// # Errors
/// [`CompileError::Target`] when Cranelift does not support this CPU or a setting.
pub fn build_isa(opt_level: OptLevel, verifier: bool) -> Result<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| CompileError::Target(format!("cranelift flag {name}={value}: {e}")))
    };
    let opt = match opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
        OptLevel::SpeedAndSize => "speed_and_size",
    };
    set(&mut flags, "opt_level", opt)?;
    set(
        &mut flags,
        "enable_verifier",
        if verifier { "true" } else { "false" },
    )?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "unwind_info", "false")?;
    set(&mut flags, "enable_probestack", "false")?;
    set(&mut flags, "enable_heap_access_spectre_mitigation", "false")?;
    set(
        &mut flags,
        "enable_table_access_spectre_mitigation",
        "false",
    )?;
    set(&mut flags, "enable_nan_canonicalization", "false")?;
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    let builder = cranelift_native::builder().map_err(|e| {
        CompileError::Target(format!("this CPU is not supported by Cranelift: {e}"))
    })?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| CompileError::Target(format!("cannot build the Cranelift target: {e}")))
}

/// The Cranelift version, target triple, shared flags and ISA flags of `isa`, as one stable
/// string.
pub fn describe_isa(isa: &dyn TargetIsa) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "cranelift {CRANELIFT_VERSION}; triple {}; ",
        isa.triple()
    );
    let flags: Vec<String> = isa.flags().iter().map(|v| v.to_string()).collect();
    let _ = write!(s, "flags [{}]; ", flags.join(", "));
    let isa_flags: Vec<String> = isa.isa_flags().iter().map(|v| v.to_string()).collect();
    let _ = write!(s, "isa [{}]", isa_flags.join(", "));
    s
}
