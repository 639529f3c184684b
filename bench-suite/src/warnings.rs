//! Things worth knowing about a measurement, each with how to fix it.

use std::fmt;

use crate::units::format_ns;

/// Fewer runs than this make statistics weak.
pub const RECOMMENDED_RUNS: usize = 10;

/// A problem with a measurement that does not stop it.
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// Too few samples for meaningful statistics.
    FewRuns(usize),
    /// Other work is running on the machine.
    BusyMachine {
        /// One-minute load average.
        load: f64,
        /// Logical cores.
        cores: usize,
    },
    /// Some samples lie far from the rest.
    Outliers {
        /// What was measured.
        what: String,
        /// How many samples are outliers.
        count: usize,
        /// How many samples there are.
        total: usize,
    },
    /// The harness itself was built without optimizations.
    DebugBuild,
    /// A requested hash algorithm cannot run on this CPU.
    SkippedAlgo {
        /// The algorithm.
        algo: String,
        /// Why.
        reason: String,
    },
    /// A run has a median so short that the timer's resolution matters.
    TooFast {
        /// What was measured.
        what: String,
        /// Its median.
        median_ns: f64,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::FewRuns(runs) => write!(
                f,
                "only {runs} run(s): statistics will be weak, use --runs {RECOMMENDED_RUNS} or more"
            ),
            Warning::BusyMachine { load, cores } => write!(
                f,
                "the machine looks busy (load average {load:.2} on {cores} cores): \
                 results will be noisy, stop other work and measure again"
            ),
            Warning::Outliers { what, count, total } => write!(
                f,
                "{count} of {total} samples of {what} are statistical outliers: \
                 something interfered, use --warmup or more --runs on a quiet machine"
            ),
            Warning::DebugBuild => write!(
                f,
                "wasm-prof was built without optimizations: build it with --release before \
                 trusting the numbers"
            ),
            Warning::SkippedAlgo { algo, reason } => write!(f, "skipped {algo}: {reason}"),
            Warning::TooFast { what, median_ns } => write!(
                f,
                "{what} takes only {} per sample, close to the timer's resolution: \
                 use a larger --size",
                format_ns(*median_ns)
            ),
        }
    }
}

/// Warnings about the machine and the build, checked before measuring.
pub fn environment(runs: usize) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if runs < RECOMMENDED_RUNS / 2 {
        warnings.push(Warning::FewRuns(runs));
    }
    if cfg!(debug_assertions) {
        warnings.push(Warning::DebugBuild);
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if let Some(load) = load_average()
        && load > cores as f64 * 0.5
    {
        warnings.push(Warning::BusyMachine { load, cores });
    }
    warnings
}

fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Prints warnings to stderr.
pub fn emit(warnings: &[Warning]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_how_to_fix() {
        assert_eq!(
            Warning::FewRuns(3).to_string(),
            "only 3 run(s): statistics will be weak, use --runs 10 or more"
        );
        let busy = Warning::BusyMachine {
            load: 3.5,
            cores: 2,
        }
        .to_string();
        assert!(busy.contains("load average 3.50"), "{busy}");
    }
}
