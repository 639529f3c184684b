//! `wasm-prof sample --sequential`, which the CI gate runs under callgrind.

use wasm_prof_runtime::phases::PhaseRecord;

use crate::util::{run, text};

/// Runs a no-cache sample of the embedded workload and parses its record.
fn nocache_sample(extra: &[&str]) -> PhaseRecord {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let module = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpora/wasm/workload.wasm");
    let mut args = vec![
        "sample",
        "--path",
        "nocache",
        "--hash",
        "blake3",
        "--disable-cache",
        "--module",
        module,
    ];
    args.extend_from_slice(extra);
    let output = run(dir.path(), &args);
    assert!(output.status.success(), "{:?}", text(&output));
    serde_json::from_slice(&output.stdout).expect("a phase record")
}

#[test]
fn sequential_compiles_on_one_thread_and_generates_the_same_code() {
    let sequential = nocache_sample(&["--sequential"]);
    let parallel = nocache_sample(&[]);
    assert!(!sequential.functions.is_empty());
    assert!(sequential.functions.iter().all(|f| f.thread == 0));
    let sizes = |r: &PhaseRecord| {
        let mut sizes: Vec<(u32, u32)> = r
            .functions
            .iter()
            .map(|f| (f.func_index, f.code_bytes))
            .collect();
        sizes.sort_unstable();
        sizes
    };
    assert_eq!(sizes(&sequential), sizes(&parallel));
}
