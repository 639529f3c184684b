//! TEST-ONLY (cargo feature `experiment-slowdown`, never in a normal build): deliberate extra
//! work inside one phase, to check that the regression gates catch a real slowdown (README,
//! "How far the gates can be trusted").
//!
//! `WASM_PROF_EXPERIMENT_SLOWDOWN=PHASE:KSTEPS` runs KSTEPS thousand steps of an integer loop
//! inside an extra span of PHASE, when PHASE ran in the sample: a fixed amount of work, so that
//! instruction counts stay deterministic, and plain integer work, which valgrind counts as it
//! runs natively.

use anyhow::{Context, bail};
use wasm_prof_runtime::phases::{Phase, PhaseClock};

/// The variable that switches the extra work on.
pub const VARIABLE: &str = "WASM_PROF_EXPERIMENT_SLOWDOWN";

/// Adds the extra work [`VARIABLE`] asks for, if any.
///
/// # Errors
/// When the variable is malformed.
pub fn extra_work(clock: &mut PhaseClock) -> anyhow::Result<()> {
    let Ok(spec) = std::env::var(VARIABLE) else {
        return Ok(());
    };
    let Some((phase, ksteps)) = spec.split_once(':') else {
        bail!("{VARIABLE} must be PHASE:KSTEPS, not `{spec}`");
    };
    let phase: Phase = phase
        .parse()
        .map_err(|e| anyhow::anyhow!("{VARIABLE}: {e}"))?;
    let ksteps: u64 = ksteps
        .parse()
        .with_context(|| format!("{VARIABLE}: KSTEPS must be a number, not `{ksteps}`"))?;
    if !clock.record().ran(phase) {
        return Ok(());
    }
    let state = clock.time(phase, || {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..ksteps * 1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x = std::hint::black_box(x);
        }
        x
    });
    std::hint::black_box(state);
    Ok(())
}
