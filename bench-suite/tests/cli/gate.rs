//! `wasm-prof gate`: exit 3 on a significant regression, 0 otherwise, 1 on error.

use wasm_prof::analysis::summary::summarize;

use crate::util::{phases_report, run, text, write};

/// Runs the wall-clock `wasm-prof gate` in `dir` on two reports, with `extra` arguments.
fn gate(
    dir: &std::path::Path,
    baseline: &str,
    current: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["gate", "--baseline", baseline, "--current", current];
    args.extend_from_slice(extra);
    run(dir, &args)
}

#[test]
fn a_twice_as_fast_baseline_is_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let current = phases_report(10);
    let mut baseline = current.clone();
    for r in &mut baseline.runs {
        for stats in r.phases.values_mut().chain(std::iter::once(&mut r.total)) {
            let halved: Vec<u64> = stats.samples_ns.iter().map(|s| s / 2).collect();
            *stats = summarize(&halved).unwrap();
        }
    }
    let old = write(dir.path(), "old.json", baseline);
    let new = write(dir.path(), "new.json", current);
    let out = gate(
        dir.path(),
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        &[],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("REGRESSED"), "{stdout}");
    assert!(stdout.contains("codegen"), "{stdout}");
    assert!(stdout.contains("+100.0%"), "{stdout}");
}

#[test]
fn a_report_against_itself_passes() {
    let dir = tempfile::tempdir().unwrap();
    let same = write(dir.path(), "same.json", phases_report(10));
    let out = gate(
        dir.path(),
        same.to_str().unwrap(),
        same.to_str().unwrap(),
        &["--threshold", "5%"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("0 significant change(s)"), "{stdout}");
}

#[test]
fn a_missing_file_is_an_error_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let same = write(dir.path(), "same.json", phases_report(3));
    let out = gate(dir.path(), "missing.json", same.to_str().unwrap(), &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot read the report missing.json"),
        "{stderr}"
    );
}

#[test]
fn a_schema_mismatch_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let same = write(dir.path(), "same.json", phases_report(3));
    std::fs::write(
        dir.path().join("other.json"),
        r#"{"schema":"wasm-prof/phases/v9"}"#,
    )
    .unwrap();
    let out = gate(dir.path(), "other.json", same.to_str().unwrap(), &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("unknown report schema `wasm-prof/phases/v9`"),
        "{stderr}"
    );
}

#[test]
fn a_bad_threshold_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = gate(dir.path(), "a", "b", &["--threshold", "lots"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_wall_clock_gate_exports_bmf_and_github_benchmark_data() {
    let dir = tempfile::tempdir().unwrap();
    let same = write(dir.path(), "same.json", phases_report(10));
    let out = gate(
        dir.path(),
        same.to_str().unwrap(),
        same.to_str().unwrap(),
        &[
            "--export-bmf",
            "gate.bmf.json",
            "--export-github-benchmark",
            "gate.github.json",
            "--export-json",
            "gate.json",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap()
    };
    let bmf = read("gate.bmf.json");
    let (name, measures) = bmf.as_object().unwrap().iter().next().unwrap();
    let latency = &measures["latency"];
    assert!(
        latency["lower_value"].as_f64() <= latency["value"].as_f64()
            && latency["value"].as_f64() <= latency["upper_value"].as_f64(),
        "{name}: {latency}"
    );
    let github = read("gate.github.json");
    assert!(
        github
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["unit"] == "ns" && e["extra"].as_str().unwrap().ends_with(": ok"))
    );
    assert_eq!(read("gate.json")["schema"], "wasm-prof/gate/v1");
}
