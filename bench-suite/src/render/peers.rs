//! Peer engines in the phases table: each peer figure with its ratio to wasm-prof's.
//!
//! A ratio is the peer's median over wasm-prof's on the same module and path (above 1: the
//! peer is slower). A peer's `codegen` is its whole compile, so it is set against wasm-prof's
//! whole compile; a peer's `cache_load` is a whole load, set against wasm-prof's lookup plus
//! load. A peer's total is set against wasm-prof's without `start` and `execute`, which
//! peers do not run.

use wasm_prof_runtime::phases::Phase;

use crate::{
    model::{Run, WASM_PROF_ENGINE},
    units::format_bytes,
};

/// The note under a table that has peer columns.
pub const RATIO_NOTE: &str = "(Nx) = peer / wasm-prof on the same path; a peer's codegen is its \
     whole compile (vs parse_validate+translate+codegen+link), its cache_load a whole load (vs \
     cache_lookup+cache_load), its total vs wasm-prof's without start and execute";

/// Whether the run is a peer engine's.
pub fn is_peer(run: &Run) -> bool {
    run.engine != WASM_PROF_ENGINE
}

/// wasm-prof's run a peer run is compared with: same module and path, first in the report.
pub fn reference<'a>(runs: &[&'a Run], peer: &Run) -> Option<&'a Run> {
    runs.iter()
        .copied()
        .find(|r| !is_peer(r) && r.module.name == peer.module.name && r.path == peer.path)
}

/// wasm-prof's phases that do what a peer's `phase` does.
fn counterparts(phase: Phase) -> Vec<Phase> {
    match phase {
        Phase::Codegen => vec![
            Phase::ParseValidate,
            Phase::Translate,
            Phase::Codegen,
            Phase::Link,
        ],
        Phase::CacheLoad => vec![Phase::CacheLookup, Phase::CacheLoad],
        other => vec![other],
    }
}

/// wasm-prof's median for what a peer's `phase` measures, when wasm-prof ran it.
pub fn reference_ns(ours: &Run, phase: Phase) -> Option<f64> {
    let medians: Vec<f64> = counterparts(phase)
        .into_iter()
        .filter_map(|p| ours.phases.get(&p).map(|s| s.median_ns))
        .collect();
    (!medians.is_empty()).then(|| medians.iter().sum())
}

/// wasm-prof's total without the phases peers do not run (`start`, `execute`).
pub fn reference_total_ns(ours: &Run) -> f64 {
    let unmatched: f64 = [Phase::Start, Phase::Execute]
        .iter()
        .filter_map(|p| ours.phases.get(p).map(|s| s.median_ns))
        .sum();
    ours.total.median_ns - unmatched
}

/// ` (1.8x)`, or nothing when there is no positive reference.
pub fn ratio(peer_ns: f64, ours_ns: Option<f64>) -> String {
    match ours_ns {
        Some(ours) if ours > 0.0 => format!(" ({:.2}x)", peer_ns / ours),
        _ => String::new(),
    }
}

/// One note listing the artifact sizes of the runs that recorded one, peers with their
/// ratio to wasm-prof's.
pub fn artifact_note(runs: &[&Run]) -> Option<String> {
    let ours = runs
        .iter()
        .find(|r| !is_peer(r))
        .and_then(|r| r.artifact_bytes);
    let sizes: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            let bytes = r.artifact_bytes?;
            let vs = ours.filter(|_| is_peer(r)).map(|o| o as f64);
            Some(format!(
                "{} {} ({}) {}{}",
                r.engine,
                r.path,
                r.hash,
                format_bytes(bytes),
                ratio(bytes as f64, vs)
            ))
        })
        .collect();
    (!sizes.is_empty()).then(|| format!("artifact bytes: {}", sizes.join("; ")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{
        analysis::summary::summarize,
        model::{ModuleInfo, PathKind},
    };

    fn run(engine: &str, phases: &[(Phase, u64)], artifact_bytes: Option<u64>) -> Run {
        let stats = |ns| summarize(&[ns]).unwrap();
        Run {
            module: ModuleInfo {
                name: "m".into(),
                sha256: "00".into(),
                bytes: 8,
                functions: 1,
            },
            path: PathKind::Nocache,
            hash: "none".into(),
            engine: engine.into(),
            phases: phases
                .iter()
                .map(|&(p, ns)| (p, stats(ns)))
                .collect::<BTreeMap<_, _>>(),
            total: stats(phases.iter().map(|p| p.1).sum()),
            functions: Vec::new(),
            passes: Vec::new(),
            timeline: Vec::new(),
            artifact_bytes,
            program: None,
            remote_tiers: Vec::new(),
        }
    }

    #[test]
    fn a_peer_compile_is_set_against_the_whole_of_ours() {
        let ours = run(
            WASM_PROF_ENGINE,
            &[
                (Phase::Read, 1),
                (Phase::ParseValidate, 10),
                (Phase::Translate, 20),
                (Phase::Codegen, 70),
            ],
            Some(400),
        );
        let peer = run(
            "wasmtime",
            &[(Phase::Read, 2), (Phase::Codegen, 150)],
            Some(600),
        );
        let runs = [&ours, &peer];
        let reference = reference(&runs, &peer).unwrap();
        assert_eq!(reference_ns(reference, Phase::Codegen), Some(100.0));
        assert_eq!(reference_ns(reference, Phase::CacheLoad), None);
        assert_eq!(
            ratio(150.0, reference_ns(reference, Phase::Codegen)),
            " (1.50x)"
        );
        assert_eq!(ratio(1.0, None), "");
        assert_eq!(reference_total_ns(reference), 101.0);
        let note = artifact_note(&runs).unwrap();
        assert!(note.ends_with("(1.50x)"), "{note}");
    }
}
