//! `wasm-prof report`: re-renders a saved report as the table and any export.

use crate::util::{phases_report, run, text, write};

#[test]
fn re_renders_a_phases_report_with_every_export() {
    let dir = tempfile::tempdir().unwrap();
    let saved = write(dir.path(), "saved.json", phases_report(5));
    let out = run(
        dir.path(),
        &[
            "report",
            saved.to_str().unwrap(),
            "--export-markdown",
            "r.md",
            "--export-trace",
            "r.trace.json",
            "--export-svg",
            "r.svg",
            "--export-json",
            "r.json",
            "--export-html",
            "r.html",
            "--export-bmf",
            "r.bmf.json",
            "--export-github-benchmark",
            "r.github.json",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("demo"), "{stdout}");
    assert!(stdout.contains("cold/cached (blake3)"), "{stdout}");
    assert!(stdout.contains("where the time goes"), "{stdout}");
    let md = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(md.contains("| phase | cold | cached |"), "{md}");
    let trace: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.trace.json")).unwrap()).unwrap();
    assert!(
        trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["ph"] == "X")
    );
    let svg = std::fs::read_to_string(dir.path().join("r.svg")).unwrap();
    assert!(svg.contains("demo (") && svg.contains("where start-up time goes"));
    assert!(svg.contains("cold · blake3") && svg.contains("cached · blake3"));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("<table>"), "{html}");
    let bmf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.bmf.json")).unwrap()).unwrap();
    assert!(bmf["demo · cold · blake3 · total"]["latency"]["value"].is_number());
    let github: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.github.json")).unwrap()).unwrap();
    assert!(
        github
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "demo · cold · blake3 · total")
    );
    assert_eq!(
        std::fs::read(dir.path().join("r.json")).unwrap(),
        std::fs::read(&saved).unwrap()
    );
}

#[test]
fn a_file_that_is_not_a_report_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), "{}").unwrap();
    let out = run(dir.path(), &["report", "x.json"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("has no `schema` field"), "{stderr}");
}
