//! Things worth knowing about a measurement, each with how to fix it.

use std::fmt;

use crate::{model::StdoutMismatch, units::format_ns};

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
    /// Samples of a program printed something else than the module's first sample.
    StdoutDiffers {
        /// How messages name the module.
        what: String,
        /// The differing samples, in the order they were taken.
        mismatches: Vec<StdoutMismatch>,
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
            Warning::StdoutDiffers { what, mismatches } => {
                let Some(first) = mismatches.first() else {
                    return Ok(());
                };
                let several_hashes = mismatches
                    .iter()
                    .any(|m| m.hash != first.hash && m.hash != "none");
                let samples: Vec<String> = mismatches
                    .iter()
                    .map(|m| {
                        if several_hashes && m.hash != "none" {
                            format!("{} ({}) {}", m.path, m.hash, m.sample)
                        } else {
                            format!("{} {}", m.path, m.sample)
                        }
                    })
                    .collect();
                write!(
                    f,
                    "the stdout of {what} differs from its first sample's ({}, sha256 {}) in {} \
                     sample(s): {}. A cache path that changes a program's output is a bug, \
                     unless the program prints a clock or random bytes (the digests are in the \
                     JSON report)",
                    first.expected_from,
                    short(&first.expected_sha256),
                    mismatches.len(),
                    samples.join(", ")
                )
            }
            Warning::TooFast { what, median_ns } => write!(
                f,
                "{what} takes only {} per sample, close to the timer's resolution: \
                 use a larger --size",
                format_ns(*median_ns)
            ),
        }
    }
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(16)]
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
    use crate::model::PathKind;

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

    #[test]
    fn differing_stdout_names_every_sample_once() {
        let mismatch = |path, hash: &str, sample: &str| StdoutMismatch {
            module: "m".into(),
            path,
            hash: hash.into(),
            engine: "wasm-prof".into(),
            sample: sample.into(),
            expected_sha256: "ab".repeat(32),
            expected_from: "cold sample 1".into(),
            actual_sha256: "cd".repeat(32),
        };
        let warning = Warning::StdoutDiffers {
            what: "m.wasm".into(),
            mismatches: vec![
                mismatch(PathKind::Cached, "blake3", "first hit"),
                mismatch(PathKind::Nocache, "none", "sample 2"),
            ],
        };
        assert_eq!(
            warning.to_string(),
            "the stdout of m.wasm differs from its first sample's (cold sample 1, sha256 \
             abababababababab) in 2 sample(s): cached first hit, nocache sample 2. A cache path \
             that changes a program's output is a bug, unless the program prints a clock or \
             random bytes (the digests are in the JSON report)"
        );
    }
}
