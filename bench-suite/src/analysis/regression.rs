//! Phase-by-phase comparison of two phases reports, as the regression gate needs it.

use wasm_prof_runtime::phases::Phase;

use crate::{
    analysis::compare::{Comparison, Verdict, compare},
    model::{PhasesReport, Run},
};

/// What is compared inside a run: one phase, or the total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// One phase.
    Phase(Phase),
    /// The wall time of the whole sample.
    Total,
}

impl Metric {
    /// The metric's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Phase(p) => p.name(),
            Metric::Total => "total",
        }
    }
}

/// One compared metric of one matched run.
#[derive(Clone, Debug)]
pub struct Change {
    /// The run's label (module · path · hash).
    pub run: String,
    /// The compared metric.
    pub metric: Metric,
    /// The comparison.
    pub comparison: Comparison,
}

/// The result of comparing a current report against a baseline.
#[derive(Clone, Debug, Default)]
pub struct GateResult {
    /// Every comparable metric of every matched run.
    pub changes: Vec<Change>,
    /// Runs of the current report with no baseline counterpart.
    pub unmatched_current: Vec<String>,
    /// Runs of the baseline with no current counterpart.
    pub unmatched_baseline: Vec<String>,
    /// Whether the two reports came from different engine fingerprints.
    pub fingerprint_differs: bool,
}

impl GateResult {
    /// Whether any metric regressed significantly.
    pub fn regressed(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.comparison.verdict == Verdict::Regressed)
    }
}

fn same_run(a: &Run, b: &Run) -> bool {
    a.module.name == b.module.name && a.path == b.path && a.hash == b.hash && a.engine == b.engine
}

/// Compares every run of `current` with the baseline run of the same module name, path, hash
/// and engine, phase by phase in [`Phase::ALL`] order and then the total.
pub fn gate(baseline: &PhasesReport, current: &PhasesReport, threshold: f64) -> GateResult {
    let mut result = GateResult {
        fingerprint_differs: baseline.engine.fingerprint != current.engine.fingerprint,
        ..GateResult::default()
    };
    for run in &current.runs {
        let Some(base) = baseline.runs.iter().find(|b| same_run(b, run)) else {
            result.unmatched_current.push(run.label());
            continue;
        };
        let phases = Phase::ALL.into_iter().filter_map(|phase| {
            let (b, c) = (base.phases.get(&phase)?, run.phases.get(&phase)?);
            Some((Metric::Phase(phase), &b.samples_ns, &c.samples_ns))
        });
        let total = std::iter::once((Metric::Total, &base.total.samples_ns, &run.total.samples_ns));
        for (metric, b, c) in phases.chain(total) {
            if let Some(comparison) = compare(b, c, threshold) {
                result.changes.push(Change {
                    run: run.label(),
                    metric,
                    comparison,
                });
            }
        }
    }
    result.unmatched_baseline = baseline
        .runs
        .iter()
        .filter(|b| !current.runs.iter().any(|c| same_run(b, c)))
        .map(Run::label)
        .collect();
    result
}
