//! `wasm-prof gate deterministic`, for real: builds measured under valgrind, judged against
//! a measurement of the same build (passes), a baseline file it outgrew (exit 3), and a
//! baseline it cannot compare with and no revision to rebuild (exit 1, never a silent pass).

use serde_json::Value;

use crate::util::{run, text};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_wasm-prof")
}

#[test]
fn the_gate_passes_a_build_against_itself_fails_growth_and_never_passes_blind() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();

    // The same build on both sides: every measure within its tolerance.
    let out = run(
        dir.path(),
        &[
            "gate",
            "deterministic",
            "--against-bin",
            bin(),
            "--save",
            &path("current.json"),
            "--export-bmf",
            &path("gate.bmf.json"),
            "--export-github-benchmark",
            &path("gate.github.json"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.matches(" ok\n").count(), 6, "{stdout}");
    assert!(stdout.contains("workload.wasm · cold · blake3"), "{stdout}");
    let bmf: Value =
        serde_json::from_slice(&std::fs::read(path("gate.bmf.json")).unwrap()).unwrap();
    let cold = bmf["workload.wasm · cold · blake3"]["instructions"]["value"]
        .as_f64()
        .unwrap();
    assert!(
        cold > 1e7,
        "a cold load runs millions of instructions: {cold}"
    );
    let github: Value =
        serde_json::from_slice(&std::fs::read(path("gate.github.json")).unwrap()).unwrap();
    assert_eq!(github.as_array().unwrap().len(), 6);

    // A baseline 10% cheaper than this build: the build regressed.
    let mut measurement: Value =
        serde_json::from_slice(&std::fs::read(path("current.json")).unwrap()).unwrap();
    let ir_cold = measurement["measures"]["ir_cold"].as_u64().unwrap();
    measurement["measures"]["ir_cold"] = Value::from(ir_cold * 9 / 10);
    std::fs::write(path("cheaper.json"), measurement.to_string()).unwrap();
    let out = run(
        dir.path(),
        &["gate", "deterministic", "--baseline", &path("cheaper.json")],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("REGRESSED"), "{stdout}");
    assert!(stdout.contains("+11.1"), "{stdout}");

    // A baseline from another valgrind, outside any git checkout: nothing to rebuild, so the
    // gate fails loudly instead of passing.
    measurement["valgrind"] = Value::from("valgrind-0.0.1");
    std::fs::write(path("foreign.json"), measurement.to_string()).unwrap();
    let out = run(
        dir.path(),
        &["gate", "deterministic", "--baseline", &path("foreign.json")],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("not comparable") && stderr.contains("valgrind version differs"),
        "{stderr}"
    );
    assert!(stderr.contains("error: "), "{stderr}");
}
