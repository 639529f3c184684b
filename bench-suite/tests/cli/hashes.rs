//! `wasm-prof hashes`: every algorithm measured or skipped with a reason, JSON in its schema.

use wasm_prof::model::{HASHES_SCHEMA, Report};

use crate::util::{run, text};

const ALGOS: [&str; 6] = [
    "sha256", "blake2b", "blake2bp", "blake3", "xxh3", "meowhash",
];

#[test]
fn lists_all_six_algorithms_and_writes_valid_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "hashes",
            "--size",
            "64KB",
            "--runs",
            "3",
            "--export-json",
            "h.json",
            "--export-svg",
            "h.svg",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    for algo in ALGOS {
        assert!(stdout.contains(algo), "{algo} missing from\n{stdout}");
    }
    assert!(
        stdout.contains("recommended cache key on this CPU"),
        "{stdout}"
    );
    let bytes = std::fs::read(dir.path().join("h.json")).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(value["schema"], HASHES_SCHEMA);
    let Report::Hashes(report) = Report::from_json(&bytes).unwrap() else {
        panic!("not a hashes report");
    };
    for algo in ALGOS {
        let measured = report.results.iter().filter(|r| r.algo == algo).count();
        let skipped = report
            .skipped
            .iter()
            .any(|s| s.algo == algo && !s.reason.is_empty());
        assert!(measured == 1 || (algo == "meowhash" && skipped), "{algo}");
    }
    for r in &report.results {
        assert_eq!(r.size_bytes, 65536);
        assert_eq!(r.samples_ns.len(), 3);
        assert!(r.bytes_per_s > 0.0 && r.min_ns as f64 <= r.median_ns);
    }
    assert!(
        report
            .recommendation
            .unwrap()
            .cryptographic
            .unwrap()
            .cryptographic
    );
    let svg = std::fs::read_to_string(dir.path().join("h.svg")).unwrap();
    assert!(svg.contains("<text") && svg.contains("blake3"));
}

#[test]
fn a_subset_of_algorithms_and_json_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "hashes",
            "--size",
            "4KB",
            "--runs",
            "2",
            "--algo",
            "blake3,xxh3",
            "--export-json",
            "-",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is only the JSON");
    assert_eq!(value["results"].as_array().unwrap().len(), 2);
    assert!(
        stderr.contains("hash throughput"),
        "the table moves to stderr"
    );
}

#[test]
fn an_unknown_algorithm_or_size_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        run(dir.path(), &["hashes", "--algo", "md5"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(dir.path(), &["hashes", "--size", "12XB"]).status.code(),
        Some(2)
    );
}

#[test]
fn a_size_larger_than_memory_is_a_one_line_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let output = crate::util::run(dir.path(), &["hashes", "--size", "1000GB"]);
    let (_, stderr) = crate::util::text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines = crate::util::error_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("cannot be hashed here"), "{stderr}");
}
