//! `wasm-prof gate`: fails (exit 3) when a phase regressed significantly against a baseline.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;

use crate::{
    analysis::regression::gate,
    commands::{Command, Outcome, load_report, print_tables},
    model::{PhasesReport, Report},
    render,
    units::parse_threshold,
};

/// Compares two phases reports phase by phase.
#[derive(Debug, Args)]
pub struct GateCommand {
    /// The reference report.
    #[arg(long, value_name = "OLD.json")]
    baseline: PathBuf,
    /// The report to judge.
    #[arg(long, value_name = "NEW.json")]
    current: PathBuf,
    /// Changes within ± this percentage never count, however certain.
    #[arg(long, default_value = "5%", value_parser = parse_threshold)]
    threshold: f64,
}

/// Loads a report that must be a phases report.
///
/// # Errors
/// When the file cannot be loaded or holds a hashes report.
pub fn load_phases(path: &Path) -> anyhow::Result<PhasesReport> {
    match load_report(path)? {
        Report::Phases(r) => Ok(r),
        Report::Hashes(_) => bail!(
            "{} is a hashes report; the gate compares phases reports",
            path.display()
        ),
    }
}

/// Compares `current` with `baseline`, prints the result, and says whether it regressed.
///
/// # Errors
/// When the result cannot be printed.
pub fn judge(
    baseline: &PhasesReport,
    current: &PhasesReport,
    threshold: f64,
    to_stderr: bool,
) -> anyhow::Result<Outcome> {
    let result = gate(baseline, current, threshold);
    print_tables(&[render::gate::table(&result, threshold)], to_stderr)?;
    Ok(if result.regressed() {
        Outcome::Regressed
    } else {
        Outcome::Success
    })
}

impl Command for GateCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        let baseline = load_phases(&self.baseline)?;
        let current = load_phases(&self.current)?;
        judge(&baseline, &current, self.threshold, false)
    }
}
