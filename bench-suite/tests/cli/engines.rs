//! `wasm-prof phases --engine`: peers run beside wasm-prof when built with the `peers`
//! feature, and are refused with the rebuild command otherwise.

use crate::util::{run, text};

#[test]
fn peers_run_beside_wasm_prof_or_are_refused_with_the_rebuild_command() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_str("(module (func (export \"f\")))").unwrap();
    std::fs::write(dir.path().join("tiny.wasm"), wasm).unwrap();
    let args = [
        "phases",
        "tiny.wasm",
        "--engine",
        "wasm-prof,wasmtime,wasmer",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--export-json",
        "p.json",
    ];
    let out = run(dir.path(), &args);
    let (_, stderr) = text(&out);
    if cfg!(feature = "peers") {
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let json = std::fs::read_to_string(dir.path().join("p.json")).unwrap();
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        let runs = report["runs"].as_array().unwrap();
        let count = |engine: &str| runs.iter().filter(|r| r["engine"] == engine).count();
        // wasm-prof: cold, cached, nocache; a peer: its artifact and its cache on cold and
        // cached, plus nocache.
        assert_eq!(
            (count("wasm-prof"), count("wasmtime"), count("wasmer")),
            (3, 5, 5)
        );
        assert!(runs.iter().any(|r| r["engine"] == "wasmtime"
            && r["path"] == "cold"
            && r["artifact_bytes"].as_u64().is_some_and(|b| b > 0)));
    } else {
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("--features peers"), "{stderr}");
    }
}

#[test]
fn an_unknown_engine_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["phases", "--engine", "v8"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown engine `v8`"), "{stderr}");
}
