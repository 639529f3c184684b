//! Turns the phase records of many samples into one summarised [`Run`].

use std::collections::BTreeMap;

use anyhow::ensure;
use wasm_prof_runtime::phases::{Phase, PhaseRecord};

use crate::{
    analysis::summary::summarize,
    model::{ModuleInfo, PathKind, Run},
};

/// The wall time a record covers: from the first span's start to the last span's end
/// (milestones, measured from the process's start, left out).
pub fn total_ns(record: &PhaseRecord) -> u64 {
    let spans = || record.spans.iter().filter(|s| !s.phase.is_milestone());
    let start = spans().map(|s| s.start_ns).min().unwrap_or(0);
    let end = spans()
        .map(|s| s.start_ns + s.duration_ns)
        .max()
        .unwrap_or(0);
    end - start
}

/// What identifies a run besides its samples.
#[derive(Clone, Debug)]
pub struct RunKey {
    /// The module.
    pub module: ModuleInfo,
    /// The cache path.
    pub path: PathKind,
    /// The hash algorithm name, or `none`.
    pub hash: String,
    /// The engine name.
    pub engine: String,
}

/// Summarises the records of one run. A phase is present when it ran in at least one sample;
/// the functions, passes and timeline come from the sample whose total is closest to the
/// median total.
///
/// # Errors
/// When there are no records.
pub fn run_from_records(key: RunKey, records: &[PhaseRecord]) -> anyhow::Result<Run> {
    ensure!(!records.is_empty(), "a run needs at least one sample");
    let mut phases = BTreeMap::new();
    for phase in Phase::ALL {
        let samples: Vec<u64> = records
            .iter()
            .filter(|r| r.ran(phase))
            .map(|r| r.total_ns(phase))
            .collect();
        if !samples.is_empty() {
            phases.insert(phase, summarize(&samples)?);
        }
    }
    let totals: Vec<u64> = records.iter().map(total_ns).collect();
    let total = summarize(&totals)?;
    let median_sample = totals
        .iter()
        .enumerate()
        .min_by(|a, b| {
            let da = (*a.1 as f64 - total.median_ns).abs();
            let db = (*b.1 as f64 - total.median_ns).abs();
            da.total_cmp(&db)
        })
        .map_or(0, |(i, _)| i);
    let median = &records[median_sample];
    Ok(Run {
        module: key.module,
        path: key.path,
        hash: key.hash,
        engine: key.engine,
        phases,
        total,
        functions: median.functions.clone(),
        passes: median.passes.clone(),
        timeline: median.spans.clone(),
        artifact_bytes: None,
        program: None,
        remote_tiers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use wasm_prof_runtime::phases::PhaseSpan;

    use super::*;

    fn record(spans: &[(Phase, u64, u64)]) -> PhaseRecord {
        PhaseRecord {
            spans: spans
                .iter()
                .map(|&(phase, start_ns, duration_ns)| PhaseSpan {
                    phase,
                    start_ns,
                    duration_ns,
                })
                .collect(),
            ..PhaseRecord::default()
        }
    }

    fn key() -> RunKey {
        RunKey {
            module: ModuleInfo {
                name: "m".into(),
                sha256: "00".into(),
                bytes: 8,
                functions: 0,
            },
            path: PathKind::Cold,
            hash: "blake3".into(),
            engine: "wasm-prof".into(),
        }
    }

    #[test]
    fn phases_that_never_ran_are_absent_and_totals_are_wall_extents() {
        let records = [
            record(&[(Phase::Read, 10, 5), (Phase::Hash, 15, 5)]),
            record(&[
                (Phase::Read, 10, 7),
                (Phase::Hash, 17, 5),
                (Phase::Hash, 30, 2),
            ]),
            record(&[(Phase::Read, 10, 6), (Phase::Hash, 16, 5)]),
        ];
        assert_eq!(total_ns(&records[1]), 22);
        let run = run_from_records(key(), &records).unwrap();
        assert_eq!(
            run.phases.keys().copied().collect::<Vec<_>>(),
            [Phase::Read, Phase::Hash]
        );
        assert_eq!(run.phases[&Phase::Hash].samples_ns, [5, 7, 5]);
        assert_eq!(run.total.samples_ns, [10, 22, 11]);
        // The median total is 11, so the third sample provides the timeline.
        assert_eq!(run.timeline[0].duration_ns, 6);
        assert!(run_from_records(key(), &[]).is_err());
    }
}
