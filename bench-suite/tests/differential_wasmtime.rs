//! Differential fuzzing against wasmtime, fixed-seed slice: wasm-smith modules with exceptions
//! and several memories executed on wasm-prof (compiled, and again loaded from the cache) and
//! on wasmtime must agree on every result, trap, exported global and memory. The long campaign
//! is `examples/differential_wasmtime.rs`.

use wasm_prof::engines::wasmtime_reference::WasmtimeReference;
use wasm_prof_differential::campaign;

/// The seed of the slice; any failing case reproduces alone with the example's `--case`.
const SEED: u64 = 0x5eed_0000_d1ff_0002;

#[test]
fn generated_modules_with_exceptions_behave_the_same_on_wasm_prof_and_wasmtime() {
    let cache = tempfile::tempdir().unwrap();
    let summary = campaign::<WasmtimeReference>(SEED, 2_000, cache.path(), |_| {});
    summary.assert_no_mismatches();
    assert!(
        summary.compared > 1_800 && summary.handling_exceptions > 500,
        "too little was compared: {summary:?}"
    );
}
