//! `wasm-prof gate wall-clock`: two builds measured in turn in one run, then compared phase by
//! phase. The "other build" is a copy of this binary, or a script that runs it with guest
//! profiling on, which makes every cached load write a perf map: a real slowdown of one phase.

use std::{os::unix::fs::PermissionsExt as _, path::Path, process::Output};

use crate::util::{run, text};

/// A copy of this wasm-prof binary in `dir`: another file, the same build.
fn copy_of_this_build(dir: &Path) -> String {
    let copy = dir.join("wasm-prof-baseline");
    std::fs::copy(env!("CARGO_BIN_EXE_wasm-prof"), &copy).unwrap();
    copy.to_str().unwrap().to_string()
}

/// A script in `dir` that runs this wasm-prof with a perf map written by every process (and
/// removed after it, noted in `dir`): a build whose `cache_load` is slower, since a hit then
/// moves its code into anonymous memory and names every function in the map.
fn build_that_loads_slower(dir: &Path) -> String {
    let script = dir.join("wasm-prof-perfmap");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nWASM_PROF_PERF=perfmap '{}' \"$@\" &\npid=$!\nwait $pid\nstatus=$?\n\
             rm /tmp/perf-$pid.map && touch '{}/removed-perf-'$pid.map\nexit $status\n",
            env!("CARGO_BIN_EXE_wasm-prof"),
            dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script.to_str().unwrap().to_string()
}

fn gate(dir: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let mut all = vec!["gate", "wall-clock", "--export-json", "gate.json"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    let report = std::fs::read(dir.join("gate.json"))
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
        .unwrap_or_default();
    (out, report)
}

/// The report's row for `measure` of the run whose label contains `run`.
fn row<'a>(report: &'a serde_json::Value, run: &str, measure: &str) -> &'a serde_json::Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["benchmark"].as_str().unwrap().contains(run) && r["measure"] == measure)
        .unwrap_or_else(|| panic!("no row for {measure} of {run}: {report}"))
}

#[test]
fn the_same_build_twice_is_measured_on_both_sides_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = copy_of_this_build(dir.path());
    // A wide band: this asserts the mechanics, not the machine's quietness (README, "How far
    // the gates can be trusted", measures that).
    let (out, report) = gate(
        dir.path(),
        &[
            "--against-bin",
            &baseline,
            "--paths",
            "cached,nocache",
            "--runs",
            "4",
            "--threshold",
            "100%",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("in turn sample by sample"), "{stderr}");
    assert_eq!(report["kind"], "wall-clock", "{report}");
    assert!(
        report["baseline"]
            .as_str()
            .unwrap()
            .contains("wasm-prof-baseline")
    );
    for (run, measure) in [
        ("cached", "cache_load"),
        ("nocache", "codegen"),
        ("cached", "total"),
    ] {
        let row = row(&report, run, measure);
        assert!(row["baseline"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["current"].as_f64().unwrap() > 0.0, "{row}");
    }
}

#[test]
fn a_build_whose_cached_load_is_slower_is_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = copy_of_this_build(dir.path());
    let slower = build_that_loads_slower(dir.path());
    let (out, report) = gate(
        dir.path(),
        &[
            "--bin",
            &slower,
            "--against-bin",
            &baseline,
            "--paths",
            "cached",
            "--runs",
            "5",
            "--threshold",
            "50%",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("REGRESSED"), "{stdout}");
    assert_eq!(
        row(&report, "cached", "cache_load")["verdict"],
        "regressed",
        "{report}"
    );
    let maps = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("removed-perf-")
        })
        .count();
    assert!(maps >= 5, "the slower build wrote {maps} perf maps");
}

/// Runs `gate wall-clock ARGS` in `dir` and checks it is refused with one line containing
/// `says`.
fn refused(dir: &Path, args: &[&str], says: &str) {
    let mut all = vec!["gate", "wall-clock"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
}

/// Options a comparison of two builds cannot take are refused before anything is built or
/// measured, each with one line.
#[test]
fn a_baseline_report_or_a_missing_baseline_build_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["gate", "wall-clock", "--runs", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
    let baseline = copy_of_this_build(dir.path());
    let against = ["--against-bin", baseline.as_str()];
    refused(
        dir.path(),
        &[&against[..], &["--baseline", "old.json"]].concat(),
        "measures its baseline itself",
    );
    // Refused before the revision is built.
    refused(
        dir.path(),
        &["--against", "HEAD", "--cache-remote", "redis://127.0.0.1:1"],
        "compares the local cache paths",
    );
    refused(
        dir.path(),
        &[&against[..], &["--export-svg", "gate.svg"]].concat(),
        "export it as JSON",
    );
    refused(
        dir.path(),
        &["--against-bin", "no-such-wasm-prof"],
        "no wasm-prof binary at no-such-wasm-prof",
    );
}
