//! Differential fuzzing, fixed-seed slice: wasm-smith modules executed on wasm-prof (compiled,
//! and again loaded from the cache) and on wasmi must agree on every result, trap, exported
//! global and memory. The long campaign is `examples/differential.rs`.

use wasm_prof_differential::{Wasmi, campaign};

/// The seed of the slice; any failing case reproduces alone with the example's `--case`.
const SEED: u64 = 0x5eed_0000_d1ff_0001;

#[test]
fn generated_modules_behave_the_same_on_wasm_prof_and_wasmi() {
    let cache = tempfile::tempdir().unwrap();
    let summary = campaign::<Wasmi>(SEED, 5_000, cache.path(), |_| {});
    summary.assert_no_mismatches();
    assert!(
        summary.compared > 4_500 && summary.calls > 7_000,
        "too little was compared: {summary:?}"
    );
}
