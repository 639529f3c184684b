//! `wasm-prof phases` until the runtime is wired in: flags parse, the sample child is spawned,
//! and its failure comes back as one error sentence with exit code 1.

use crate::util::{run, text};

#[test]
fn reports_that_the_runtime_is_not_wired_in_yet() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_str("(module (func))").unwrap();
    std::fs::write(dir.path().join("tiny.wasm"), wasm).unwrap();
    let out = run(
        dir.path(),
        &[
            "phases",
            "tiny.wasm",
            "--runs",
            "1",
            "--paths",
            "nocache",
            "--export-json",
            "p.json",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the runtime is not wired in yet"),
        "{stderr}"
    );
    assert!(stderr.contains("tiny.wasm on the nocache path"), "{stderr}");
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
