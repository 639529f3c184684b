//! `wasm-prof gate wall-clock`: this build against a baseline build, measured in one run with
//! the two builds taking turns sample by sample, so that the machine's slow and fast moments
//! fall on both alike; then compared phase by phase as `gate --baseline --current` compares two
//! reports.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::{
    analysis::regression::{Sampling, gate},
    commands::{
        Command, Outcome,
        gate::{announce, wall_clock_report},
        phases::{Build, PhasesCommand},
    },
    corpus::project_root,
    deterministic::baseline_build,
    export::ExportManager,
    model::Report,
    warnings,
};

/// The wall-clock gate's options: a baseline build, and the options of `phases`.
#[derive(Debug, Args)]
pub struct WallClockGate {
    /// Build this revision in a temporary git worktree and measure it as the baseline.
    #[arg(
        long,
        value_name = "REV",
        conflicts_with = "against_bin",
        required_unless_present = "against_bin"
    )]
    against: Option<String>,
    /// Measure this wasm-prof binary as the baseline build.
    #[arg(long, value_name = "FILE")]
    against_bin: Option<PathBuf>,
    /// The wasm-prof binary to judge [default: this one].
    #[arg(long, value_name = "FILE")]
    bin: Option<PathBuf>,
    #[command(flatten)]
    phases: PhasesCommand,
}

impl WallClockGate {
    /// The baseline build and how reports name it.
    fn baseline(&self) -> anyhow::Result<(Build, String)> {
        if let Some(bin) = &self.against_bin {
            return Ok((Build::named(bin, "baseline")?, bin.display().to_string()));
        }
        let rev = self
            .against
            .as_deref()
            .context("give --against REV or --against-bin FILE")?;
        let root = project_root();
        let commit = baseline_build::resolve(&root, rev)?;
        let built = baseline_build::build(&root, &commit)?;
        Ok((Build::named(&built.bin, "baseline")?, built.measured_now()))
    }
}

impl Command for WallClockGate {
    fn execute(self) -> anyhow::Result<Outcome> {
        let exports = ExportManager::for_gate(self.phases.exports())?;
        // Before a baseline revision is built: a refusal should not take minutes.
        self.phases.check_for_two_builds()?;
        let (baseline, baseline_from) = self.baseline()?;
        let current = match &self.bin {
            Some(bin) => Build::named(bin, "current")?,
            None => Build::this()?,
        };
        let current_from = format!("{} measured now", current.exe.display());
        eprintln!("gate: {current_from} against {baseline_from}, the two in turn sample by sample");
        let (old, new, notes) = self.phases.sample_two_builds(baseline, current)?;
        warnings::emit(&notes);
        let tolerance = self.phases.tolerance();
        let mut result = gate(&old, &new, tolerance, Sampling::Paired);
        // The builds differ by design: that their engines' fingerprints differ says nothing.
        result.fingerprint_differs = false;
        let outcome = announce(&result, tolerance, exports.uses_stdout())?;
        let report = wall_clock_report(&result, &baseline_from, &current_from, tolerance);
        exports.finish(&Report::Gate(report))?;
        Ok(outcome)
    }
}
