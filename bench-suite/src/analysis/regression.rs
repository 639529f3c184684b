//! Phase-by-phase comparison of two phases reports, as the regression gate needs it.

use wasm_prof_runtime::phases::Phase;

use crate::{
    analysis::compare::{Comparison, Verdict, compare, compare_paired},
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

/// How large a change must be before it counts: beyond the relative band and, in absolute
/// terms, beyond the floor (with 95% confidence both ways).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Changes within ± this fraction of the baseline never count (0.05 = ±5%).
    pub relative: f64,
    /// Changes within ± this many nanoseconds never count: a phase of a few microseconds
    /// moves by more than any band with the state of the page cache and the scheduler.
    pub floor_ns: f64,
}

/// How the two reports' samples were taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// At different times: compared as two independent sets.
    Independent,
    /// In one run, taking turns: sample `i` of one next to sample `i` of the other, compared
    /// pair by pair.
    Paired,
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

/// Whether the bound of a significant change's interval nearest to no change lies within
/// `floor_ns` of the baseline median.
fn below_floor(c: &Comparison, floor_ns: f64) -> bool {
    let nearest = match c.verdict {
        Verdict::Regressed => c.ci_low,
        Verdict::Improved => -c.ci_high,
        Verdict::Unchanged => return false,
    };
    nearest * c.baseline_median_ns <= floor_ns
}

fn same_run(a: &Run, b: &Run) -> bool {
    a.module.name == b.module.name && a.path == b.path && a.hash == b.hash && a.engine == b.engine
}

/// Compares every run of `current` with the baseline run of the same module name, path, hash
/// and engine, phase by phase in [`Phase::ALL`] order and then the total.
pub fn gate(
    baseline: &PhasesReport,
    current: &PhasesReport,
    tolerance: Tolerance,
    sampling: Sampling,
) -> GateResult {
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
            let comparison = match sampling {
                Sampling::Independent => compare(b, c, tolerance.relative),
                // A phase that ran in only some samples has no pairs to line up.
                Sampling::Paired => compare_paired(b, c, tolerance.relative)
                    .or_else(|| compare(b, c, tolerance.relative)),
            };
            if let Some(mut comparison) = comparison {
                if below_floor(&comparison, tolerance.floor_ns) {
                    comparison.verdict = Verdict::Unchanged;
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(base: u64) -> Vec<u64> {
        (0..20)
            .map(|i| base + (i * 7919) % (base / 100 + 1))
            .collect()
    }

    #[test]
    fn a_significant_change_smaller_than_the_floor_does_not_count() {
        // +50% of a 10 µs phase: significant, but 5 µs.
        let c = compare(&samples(10_000), &samples(15_000), 0.05).unwrap();
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!(below_floor(&c, 20_000.0));
        assert!(!below_floor(&c, 1_000.0));
        // +10% of a 10 ms phase: 1 ms, far above the floor.
        let c = compare(&samples(10_000_000), &samples(11_000_000), 0.05).unwrap();
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!(!below_floor(&c, 20_000.0));
        // An improvement is held to the same floor.
        let c = compare(&samples(15_000), &samples(10_000), 0.05).unwrap();
        assert_eq!(c.verdict, Verdict::Improved);
        assert!(below_floor(&c, 20_000.0));
    }
}
