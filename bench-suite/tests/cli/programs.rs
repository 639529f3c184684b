//! `wasm-prof phases FILE -- ARGS`: programs doing real work on every path, their exit codes
//! and stdout digests checked sample by sample and recorded in the JSON report.

use std::path::Path;

use wasm_prof::module_file::sha256_hex;

use crate::util::{corpus_module, error_lines, repo_root, run, text};

/// What boolector prints for corpora/src/boolector/puzzle.smt2 with `-d`: the only solution of
/// SEND + MORE = MONEY and the factors of 60121841789.
const PUZZLE_ANSWER: &str = "sat
(
 (S (_ bv9 32))
 (E (_ bv5 32))
 (N (_ bv6 32))
 (D (_ bv7 32))
 (M (_ bv1 32))
 (O (_ bv0 32))
 (R (_ bv8 32))
 (Y (_ bv2 32))
 (p (_ bv229351 18))
 (q (_ bv262139 18))
)
";

fn write_wat(dir: &Path, name: &str, wat: &str) -> String {
    std::fs::write(dir.join(name), wat::parse_str(wat).unwrap()).unwrap();
    name.to_string()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every sample of every run in a phases JSON report: (path, exit code, stdout digest).
fn program_samples(report: &serde_json::Value) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for run in report["runs"].as_array().unwrap() {
        let samples = run["program"]["samples"]
            .as_array()
            .unwrap_or_else(|| panic!("run without program: {run}"));
        assert_eq!(
            samples.len(),
            run["total"]["samples_ns"].as_array().unwrap().len(),
            "one program result per timed sample"
        );
        for s in samples {
            out.push((
                run["path"].as_str().unwrap().to_string(),
                s["exit_code"].as_i64().unwrap(),
                s["stdout_sha256"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

#[test]
fn boolector_solves_a_puzzle_on_every_path_with_the_same_answer() {
    let Some(boolector) = corpus_module("boolector") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let problems = repo_root().join("corpora/src/boolector");
    let grant = format!("{}::/problems", problems.display());
    let out = run(
        dir.path(),
        &[
            "phases",
            boolector.to_str().unwrap(),
            "--warmup",
            "0",
            "--runs",
            "2",
            "--paths",
            "cold,cached,nocache",
            "--expect-exit",
            "10",
            "--dir",
            &grant,
            "--export-json",
            "p.json",
            "--",
            "-d",
            "/problems/puzzle.smt2",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("program (args `-d /problems/puzzle.smt2`): exit code 10"),
        "{stdout}"
    );
    assert!(!stderr.contains("the stdout of"), "{stderr}");
    let report = json(&dir.path().join("p.json"));
    assert_eq!(report["schema"], "wasm-prof/phases/v2");
    let samples = program_samples(&report);
    assert_eq!(samples.len(), 6, "{samples:?}");
    let answer = sha256_hex(PUZZLE_ANSWER.as_bytes());
    for (path, code, digest) in &samples {
        assert_eq!((*code, digest), (10, &answer), "{path}");
    }
    let mut paths: Vec<&str> = samples.iter().map(|s| s.0.as_str()).collect();
    paths.dedup();
    assert_eq!(paths, ["cold", "cached", "nocache"]);
    for run in report["runs"].as_array().unwrap() {
        assert!(run["phases"]["execute"]["median_ns"].as_f64().unwrap() > 0.0);
        assert_eq!(run["program"]["expect_exit"], 10);
        assert_eq!(
            run["program"]["args"],
            serde_json::json!(["-d", "/problems/puzzle.smt2"])
        );
    }
    assert!(report.get("stdout_mismatches").is_none(), "{report}");
}

#[test]
fn the_default_expected_exit_code_fails_on_a_sat_answer_in_one_line() {
    let Some(boolector) = corpus_module("boolector") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let stdin = repo_root().join("corpora/src/boolector/puzzle.smt2");
    let out = run(
        dir.path(),
        &[
            "phases",
            boolector.to_str().unwrap(),
            "--warmup",
            "0",
            "--runs",
            "1",
            "--paths",
            "nocache",
            "--stdin",
            stdin.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(&format!(
            "error: {} exited with code 10 on the nocache path (sample 1), expected 0",
            boolector.display()
        )),
        "{stderr}"
    );
    assert!(errors[0].contains("--expect-exit 10"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_guest_whose_stdout_changes_between_samples_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    // Prints 16 random bytes: no two samples agree.
    let module = write_wat(
        dir.path(),
        "random.wasm",
        r#"(module
            (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "_start")
                (drop (call $random (i32.const 64) (i32.const 16)))
                (i32.store (i32.const 0) (i32.const 64))
                (i32.store (i32.const 4) (i32.const 16))
                (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    );
    let out = run(
        dir.path(),
        &[
            "phases",
            &module,
            "--warmup",
            "0",
            "--runs",
            "2",
            "--export-json",
            "p.json",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "warning: the stdout of random.wasm differs from its first sample's (cold sample 1, \
             sha256 "
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            ") in 7 sample(s): cold sample 2, cached priming sample, cached first hit, cached \
             sample 1, cached sample 2, nocache sample 1, nocache sample 2. A cache path that \
             changes a program's output is a bug"
        ),
        "{stderr}"
    );
    let report = json(&dir.path().join("p.json"));
    let samples = program_samples(&report);
    let mut digests: Vec<&str> = samples.iter().map(|s| s.2.as_str()).collect();
    digests.sort_unstable();
    digests.dedup();
    assert_eq!(digests.len(), 6, "every timed sample printed other bytes");
    // Timed samples (6), the priming cold sample and the first hit, less the first sample.
    let mismatches = report["stdout_mismatches"].as_array().unwrap();
    assert_eq!(mismatches.len(), 7, "{mismatches:?}");
    let first = &mismatches[0];
    assert_eq!(first["module"], "random");
    assert_eq!(first["path"], "cold");
    assert_eq!(first["sample"], "sample 2");
    assert_eq!(first["expected_from"], "cold sample 1");
    assert_ne!(first["expected_sha256"], first["actual_sha256"]);
    assert!(
        mismatches
            .iter()
            .any(|m| m["path"] == "cached" && m["sample"] == "priming sample")
    );
}

#[test]
fn a_failing_guest_is_named_with_its_code_and_the_end_of_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_wat(
        dir.path(),
        "fails.wasm",
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 64) "reading input\nbad input: foo\n")
            (func (export "_start")
                (i32.store (i32.const 0) (i32.const 64))
                (i32.store (i32.const 4) (i32.const 29))
                (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
                (call $exit (i32.const 3))))"#,
    );
    let args = ["phases", &module, "--runs", "1", "--paths", "cold"];
    let out = run(dir.path(), &args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(
        errors[0],
        "error: fails.wasm exited with code 3 on the cold path (warmup 1), expected 0 (pass \
         --expect-exit 3, or --expect-exit any to accept every code); the guest's stderr ended:",
        "{stderr}"
    );
    assert_eq!(errors[1..], ["  | reading input", "  | bad input: foo"]);

    let mut any = args.to_vec();
    any.extend(["--expect-exit", "any", "--export-json", "p.json"]);
    let out = run(dir.path(), &any);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let report = json(&dir.path().join("p.json"));
    assert_eq!(program_samples(&report)[0].1, 3);
    assert_eq!(report["runs"][0]["program"]["expect_exit"], "any");
}

#[test]
fn a_reactor_runs_its_invoked_export_after_initialize_and_shows_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_wat(
        dir.path(),
        "reactor.wasm",
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 64) "not yet set\n")
            (data (i32.const 128) "initialized\n")
            (func (export "_initialize")
                (memory.copy (i32.const 64) (i32.const 128) (i32.const 12)))
            (func (export "run")
                (i32.store (i32.const 0) (i32.const 64))
                (i32.store (i32.const 4) (i32.const 12))
                (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    );
    let out = run(
        dir.path(),
        &[
            "phases",
            &module,
            "--runs",
            "1",
            "--warmup",
            "0",
            "--paths",
            "nocache",
            "--invoke",
            "run",
            "--show-output",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("reactor stdout (nocache sample 1, 12 bytes):\ninitialized\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reactor stderr (nocache sample 1, 0 bytes)"),
        "{stdout}"
    );
    let table_end = stdout.find("reactor stdout").unwrap();
    assert!(stdout[..table_end].contains("execute"), "{stdout}");
}

#[test]
fn guest_options_for_a_module_that_is_no_program_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_wat(dir.path(), "lib.wasm", r#"(module (func (export "f")))"#);
    let out = run(
        dir.path(),
        &[
            "phases", &module, "--runs", "1", "--paths", "nocache", "--", "x",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        error_lines(&stderr),
        [
            "error: lib.wasm did not run as a program: it must import nothing but \
             wasi_snapshot_preview1 and export `_start` (or be given an export to --invoke)"
        ]
    );

    let out = run(
        dir.path(),
        &["phases", &module, "--runs", "1", "--paths", "nocache"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("compiled and instantiated only: not a WASI command"),
        "{stdout}"
    );
}

#[test]
fn a_missing_directory_or_stdin_fails_before_any_sample() {
    let dir = tempfile::tempdir().unwrap();
    for (option, value, says) in [
        (
            "--dir",
            "/no/such/dir::/d",
            "the directory /no/such/dir granted to the guest as /d does not exist",
        ),
        (
            "--stdin",
            "/no/such/file",
            "cannot read /no/such/file, the guest's stdin",
        ),
        ("--env", "NOVALUE", "--env NOVALUE: expected KEY=VALUE"),
    ] {
        let out = run(dir.path(), &["phases", "--runs", "1", option, value]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let errors = error_lines(&stderr);
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(errors[0].starts_with(&format!("error: {says}")), "{stderr}");
    }
}
