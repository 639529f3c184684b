//! TEST-ONLY (cargo feature `experiment-slowdown`, never in a normal build): deliberate extra
//! work inside one phase, to check that the regression gates catch a real slowdown (README,
//! "How far the gates can be trusted").
//!
//! `WASM_PROF_EXPERIMENT_SLOWDOWN=PHASE:ROUNDS` hashes the module file ROUNDS times with SHA-256
//! inside an extra span of PHASE, when PHASE ran in the sample: a fixed amount of work, so that
//! instruction counts stay deterministic.

use std::path::Path;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use wasm_prof_runtime::phases::{Phase, PhaseClock};

/// The variable that switches the extra work on.
pub const VARIABLE: &str = "WASM_PROF_EXPERIMENT_SLOWDOWN";

/// Adds the extra work `VARIABLE` asks for, if any.
///
/// # Errors
/// When the variable is malformed or the module cannot be read.
pub fn extra_work(clock: &mut PhaseClock, module: &Path) -> anyhow::Result<()> {
    let Ok(spec) = std::env::var(VARIABLE) else {
        return Ok(());
    };
    let Some((phase, rounds)) = spec.split_once(':') else {
        bail!("{VARIABLE} must be PHASE:ROUNDS, not `{spec}`");
    };
    let phase: Phase = phase
        .parse()
        .map_err(|e| anyhow::anyhow!("{VARIABLE}: {e}"))?;
    let rounds: u32 = rounds
        .parse()
        .with_context(|| format!("{VARIABLE}: ROUNDS must be a number, not `{rounds}`"))?;
    if !clock.record().ran(phase) {
        return Ok(());
    }
    let bytes = std::fs::read(module).with_context(|| format!("cannot read {}", module.display()))?;
    let digest = clock.time(phase, || {
        let mut digest = Sha256::digest(&bytes);
        for _ in 1..rounds {
            digest = Sha256::new().chain_update(digest).chain_update(&bytes).finalize();
        }
        digest
    });
    std::hint::black_box(digest);
    Ok(())
}
