//! Running the binary and building reports with the harness's own types.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use wasm_prof::{
    analysis::runs::{RunKey, run_from_records},
    model::{EngineInfo, Host, ModuleInfo, PHASES_SCHEMA, PathKind, PhasesReport, Report},
};
use wasm_prof_runtime::phases::{Phase, PhaseRecord, PhaseSpan};

/// Runs `wasm-prof` with `args` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("wasm-prof runs")
}

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root")
}

/// The fetched (or, for nginx, built) corpus module `name`. Missing is a failure, unless the
/// run skips the fetched corpus deliberately (`WASM_PROF_SKIP_CORPUS=1`), which the test then
/// says.
pub fn corpus_module(name: &str) -> Option<PathBuf> {
    let path = repo_root().join(format!("corpora/fetched/{name}.wasm"));
    if path.is_file() {
        return Some(path);
    }
    let how = match name {
        "nginx" => "scripts/build-nginx.sh",
        _ => "scripts/fetch-corpus.sh",
    };
    assert!(
        std::env::var("WASM_PROF_SKIP_CORPUS").as_deref() == Ok("1"),
        "{} is missing: run {how} (or set WASM_PROF_SKIP_CORPUS=1 to skip it deliberately)",
        path.display()
    );
    eprintln!("note: WASM_PROF_SKIP_CORPUS=1: skipping {}", path.display());
    None
}

/// The lines of stderr that are not warnings: what a failing command said about its failure.
pub fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.starts_with("warning: ") && !l.trim().is_empty())
        .collect()
}

/// Stdout and stderr of `output` as text, for assertion messages.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn record(sample: u64, phases: &[Phase]) -> PhaseRecord {
    let mut at = 0;
    let spans = phases
        .iter()
        .enumerate()
        .map(|(i, &phase)| {
            // A little deterministic noise around 1 ms per phase step.
            let duration_ns = (i as u64 + 1) * 1_000_000 + (sample * 7_919) % 20_000;
            let span = PhaseSpan {
                phase,
                start_ns: at,
                duration_ns,
            };
            at += duration_ns;
            span
        })
        .collect();
    PhaseRecord {
        spans,
        ..PhaseRecord::default()
    }
}

/// A phases report for module `demo` (cold and cached, blake3) with `runs` samples each.
pub fn phases_report(runs: u64) -> PhasesReport {
    use Phase::*;
    let module = ModuleInfo {
        name: "demo".into(),
        sha256: "cd".repeat(32),
        bytes: 1 << 20,
        functions: 10,
    };
    let paths = [
        (
            PathKind::Cold,
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
            vec![Read, Hash, CacheLookup, CacheLoad, Instantiate],
        ),
    ];
    let runs = paths
        .into_iter()
        .map(|(path, phases)| {
            let records: Vec<PhaseRecord> = (0..runs).map(|s| record(s, &phases)).collect();
            let key = RunKey {
                module: module.clone(),
                path,
                hash: "blake3".into(),
                engine: "wasm-prof".into(),
            };
            run_from_records(key, &records).unwrap()
        })
        .collect();
    PhasesReport {
        schema: PHASES_SCHEMA.into(),
        host: Host {
            os: "linux".into(),
            arch: "x86_64".into(),
            cpu_model: "Test CPU".into(),
            cores: 2,
            hostname: "test".into(),
            rustc: "rustc".into(),
            wasm_prof_version: "0.1.0".into(),
        },
        engine: EngineInfo {
            fingerprint: "test".into(),
        },
        runs,
        stdout_mismatches: Vec::new(),
    }
}

/// Writes `report` as JSON to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, report: PhasesReport) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, Report::Phases(report).to_json().unwrap()).unwrap();
    path
}
