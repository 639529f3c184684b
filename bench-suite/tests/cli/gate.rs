//! `wasm-prof gate`: exit 3 on a significant regression, 0 otherwise, 1 on error.

use wasm_prof::analysis::summary::summarize;

use crate::util::{phases_report, run, text, write};

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
    let out = run(
        dir.path(),
        &[
            "gate",
            "--baseline",
            old.to_str().unwrap(),
            "--current",
            new.to_str().unwrap(),
        ],
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
    let out = run(
        dir.path(),
        &[
            "gate",
            "--baseline",
            same.to_str().unwrap(),
            "--current",
            same.to_str().unwrap(),
            "--threshold",
            "5%",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("0 significant change(s)"), "{stdout}");
}

#[test]
fn a_missing_file_is_an_error_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let same = write(dir.path(), "same.json", phases_report(3));
    let out = run(
        dir.path(),
        &[
            "gate",
            "--baseline",
            "missing.json",
            "--current",
            same.to_str().unwrap(),
        ],
    );
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
    let out = run(
        dir.path(),
        &[
            "gate",
            "--baseline",
            "other.json",
            "--current",
            same.to_str().unwrap(),
        ],
    );
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
    let out = run(
        dir.path(),
        &[
            "gate",
            "--baseline",
            "a",
            "--current",
            "b",
            "--threshold",
            "lots",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}
