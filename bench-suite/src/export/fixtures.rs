//! Small reports for the exporters' unit tests, built from synthetic phase records.

use wasm_prof_runtime::phases::{FunctionTiming, PassTime, Phase, PhaseRecord, PhaseSpan};

use crate::{
    analysis::{
        recommend::recommend,
        runs::{RunKey, run_from_records},
    },
    guest::ExpectExit,
    model::{
        EngineInfo, GATE_SCHEMA, GateKind, GateReport, GateRow, GateVerdict, HASHES_SCHEMA,
        HashResult, HashesReport, Host, ModuleInfo, PHASES_SCHEMA, PathKind, PhasesReport,
        ProgramRun, ProgramSample, Report, SkippedAlgo, StdoutMismatch,
    },
};

fn host() -> Host {
    Host {
        os: "linux".into(),
        arch: "x86_64".into(),
        cpu_model: "Test CPU".into(),
        cores: 2,
        hostname: "test".into(),
        rustc: "rustc 1.95.0".into(),
        wasm_prof_version: "0.1.0".into(),
    }
}

fn record(phases: &[Phase], scale: u64, with_functions: bool) -> PhaseRecord {
    let mut at = 0;
    let spans = phases
        .iter()
        .enumerate()
        .map(|(i, &phase)| {
            let duration_ns = (i as u64 + 1) * 1000 * scale;
            let span = PhaseSpan {
                phase,
                start_ns: at,
                duration_ns,
            };
            at += duration_ns;
            span
        })
        .collect();
    let functions = if with_functions {
        (0..4)
            .map(|i| FunctionTiming {
                func_index: i,
                thread: i % 2,
                start_ns: 5000 + u64::from(i) * 100,
                translate_ns: 40,
                codegen_ns: 50,
                code_bytes: 64,
            })
            .collect()
    } else {
        Vec::new()
    };
    PhaseRecord {
        spans,
        functions,
        passes: vec![PassTime {
            pass: "regalloc".into(),
            total_ns: 1234,
        }],
    }
}

const DIGEST: &str = "5a";

/// What the demo program did: exit code 10, the same stdout in every sample but, when
/// `last_differs`, the last.
fn program(samples: usize, last_differs: bool) -> ProgramRun {
    ProgramRun {
        workload: Some("demo".into()),
        args: vec!["-d".into(), "/in/p.smt2".into()],
        requests: Vec::new(),
        expect_exit: ExpectExit::Code(10),
        samples: (0..samples)
            .map(|i| ProgramSample {
                exit_code: 10,
                stdout_sha256: if last_differs && i == samples - 1 {
                    "ef".repeat(32)
                } else {
                    DIGEST.repeat(32)
                },
                stdout_bytes: 178,
                stderr_bytes: 0,
                responses_sha256: None,
            })
            .collect(),
    }
}

/// A phases report for module `demo` (a program, workload `demo`) with cold, cached and
/// no-cache runs; the last no-cache sample printed something else.
pub fn phases_report() -> Report {
    use Phase::*;
    let module = ModuleInfo {
        name: "demo".into(),
        sha256: "ab".repeat(32),
        bytes: 4096,
        functions: 4,
    };
    let paths = [
        (
            PathKind::Cold,
            "blake3",
            vec![
                Read,
                Hash,
                CacheLookup,
                ParseValidate,
                Translate,
                Codegen,
                Link,
                Serialize,
                CacheStore,
                Instantiate,
            ],
        ),
        (
            PathKind::Cached,
            "blake3",
            vec![Read, Hash, CacheLookup, CacheLoad, Instantiate],
        ),
        (
            PathKind::Nocache,
            "none",
            vec![Read, ParseValidate, Translate, Codegen, Link, Instantiate],
        ),
    ];
    let runs = paths
        .into_iter()
        .map(|(path, hash, phases)| {
            let records: Vec<PhaseRecord> = (1..=5)
                .map(|s| record(&phases, 10 + s, path != PathKind::Cached))
                .collect();
            let key = RunKey {
                module: module.clone(),
                path,
                hash: hash.into(),
                engine: "wasm-prof".into(),
            };
            let mut run = run_from_records(key, &records).unwrap();
            run.program = Some(program(records.len(), path == PathKind::Nocache));
            run
        })
        .collect();
    Report::Phases(PhasesReport {
        schema: PHASES_SCHEMA.into(),
        host: host(),
        engine: EngineInfo {
            fingerprint: "test".into(),
        },
        runs,
        stdout_mismatches: vec![StdoutMismatch {
            module: "demo".into(),
            path: PathKind::Nocache,
            hash: "none".into(),
            engine: "wasm-prof".into(),
            sample: "sample 5".into(),
            expected_sha256: DIGEST.repeat(32),
            expected_from: "cold sample 1".into(),
            actual_sha256: "ef".repeat(32),
        }],
    })
}

/// A hashes report over two sizes, with meowhash skipped.
pub fn hashes_report() -> Report {
    let results: Vec<HashResult> = [1024u64, 1 << 20]
        .into_iter()
        .flat_map(|size| {
            [
                ("sha256", true, 1.0e9),
                ("blake3", true, 4.0e9),
                ("xxh3", false, 20.0e9),
            ]
            .into_iter()
            .map(move |(algo, cryptographic, rate)| {
                let ns = (size as f64 / rate * 1e9) as u64 + 1;
                HashResult {
                    algo: algo.into(),
                    cryptographic,
                    size_bytes: size,
                    median_ns: ns as f64,
                    min_ns: ns,
                    max_ns: ns,
                    mad_ns: 0.0,
                    samples_ns: vec![ns],
                    bytes_per_s: size as f64 / (ns as f64 / 1e9),
                }
            })
        })
        .collect();
    Report::Hashes(HashesReport {
        schema: HASHES_SCHEMA.into(),
        host: host(),
        recommendation: recommend(&results),
        results,
        skipped: vec![SkippedAlgo {
            algo: "meowhash".into(),
            reason: "needs AES-NI".into(),
        }],
    })
}

/// A deterministic gate report with one regressed, one improved and one unchanged measure,
/// and a wall-clock row with an interval.
pub fn gate_report() -> Report {
    let row = |benchmark: &str, measure: &str, unit: &str, baseline: f64, current: f64| GateRow {
        benchmark: benchmark.into(),
        measure: measure.into(),
        unit: unit.into(),
        baseline,
        current,
        current_low: None,
        current_high: None,
        change: current / baseline - 1.0,
        tolerance: 0.02,
        verdict: if current > baseline * 1.02 {
            GateVerdict::Regressed
        } else if current < baseline * 0.98 {
            GateVerdict::Improved
        } else {
            GateVerdict::Ok
        },
    };
    let mut timed = row("demo · cold · blake3", "codegen", "ns", 4.0e6, 4.4e6);
    timed.current_low = Some(4.3e6);
    timed.current_high = Some(4.5e6);
    Report::Gate(GateReport {
        schema: GATE_SCHEMA.into(),
        kind: GateKind::Deterministic,
        baseline: "reports/baselines/ci-gate.json".into(),
        current: "target/release/wasm-prof measured now".into(),
        rows: vec![
            row(
                "workload.wasm · cold · blake3",
                "instructions",
                "instructions",
                4.4e8,
                4.8e8,
            ),
            row(
                "workload.wasm · cached · blake3",
                "instructions",
                "instructions",
                1.5e6,
                1.3e6,
            ),
            row(
                "workload.wasm · artifact · blake3",
                "file-bytes",
                "bytes",
                155_648.0,
                155_648.0,
            ),
            timed,
        ],
        notes: vec!["cached instructions improved beyond its tolerance".into()],
    })
}
