//! `wasm-prof phases` end to end: real samples in child processes, every export valid.

use crate::util::{run, text};

#[test]
fn measures_every_path_and_exports_valid_reports() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_str(
        r#"(module (memory 1) (func $f (param i32) (result i32) local.get 0 i32.const 1 i32.add)
                    (export "f" (func $f)))"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("tiny.wasm"), wasm).unwrap();
    let out = run(
        dir.path(),
        &[
            "phases",
            "tiny.wasm",
            "--runs",
            "2",
            "--warmup",
            "0",
            "--export-json",
            "p.json",
            "--export-trace",
            "t.json",
            "--export-svg",
            "p.svg",
            "--export-markdown",
            "p.md",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("cold/cached"), "{stdout}");
    assert!(
        stdout.contains("module load cold/cached (blake3)"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("p.json")).unwrap()).unwrap();
    assert_eq!(json["schema"], "wasm-prof/phases/v2");
    let runs = json["runs"].as_array().unwrap();
    let path_of = |name: &str| {
        runs.iter()
            .find(|r| r["path"] == name)
            .unwrap_or_else(|| panic!("no {name} run"))
    };
    let cold = &path_of("cold")["phases"];
    let cached = &path_of("cached")["phases"];
    let nocache = &path_of("nocache")["phases"];
    for phase in [
        "hash",
        "cache_lookup",
        "codegen",
        "serialize",
        "cache_store",
        "instantiate",
    ] {
        assert!(cold.get(phase).is_some(), "cold has {phase}");
    }
    assert!(cached.get("cache_load").is_some() && cached.get("codegen").is_none());
    assert!(nocache.get("hash").is_none() && nocache.get("codegen").is_some());
    assert_eq!(
        cold["codegen"]["samples_ns"].as_array().unwrap().len(),
        2,
        "one sample per run"
    );
    let trace: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("t.json")).unwrap()).unwrap();
    assert!(
        trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "codegen")
    );
    let svg = std::fs::read_to_string(dir.path().join("p.svg")).unwrap();
    for path in ["cold", "cached", "nocache"] {
        assert!(svg.contains(path), "the SVG shows the {path} path");
    }
    assert!(
        std::fs::read_to_string(dir.path().join("p.md"))
            .unwrap()
            .contains("codegen")
    );
}

#[test]
fn runs_the_embedded_workload_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "phases", "--runs", "1", "--warmup", "0", "--paths", "nocache",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("workload"), "{stdout}");
    assert!(stdout.contains("execute"), "the workload runs: {stdout}");
}

#[test]
fn rejects_a_file_that_is_not_wasm_before_sampling() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.wasm"), b"nope").unwrap();
    let out = run(dir.path(), &["phases", "bad.wasm"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("bad.wasm is not a WebAssembly module"),
        "{stderr}"
    );
}

#[test]
fn unknown_paths_and_hashes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        run(dir.path(), &["phases", "--paths", "warm"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(dir.path(), &["phases", "--hash", "md5"]).status.code(),
        Some(2)
    );
}
