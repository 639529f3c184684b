//! A differential fuzzing campaign: wasm-smith modules executed on wasm-prof (compiled, and
//! loaded back from the cache) and on wasmi, compared call by call.
//!
//! ```text
//! cargo run --release -p wasm-prof-runtime --example differential -- --count 100000 --seed 1
//! cargo run --release -p wasm-prof-runtime --example differential -- --seed 1 --case 4711
//! ```
//!
//! Prints a summary; `--case N` runs one case of the seed, prints its verdict and writes its
//! module to `case-N.wasm` (for `wasm2wat`, or a regression test).

use std::process::ExitCode;

use wasm_prof_differential::{Wasmi, campaign_command};

fn main() -> ExitCode {
    campaign_command::<Wasmi>("differential")
}
