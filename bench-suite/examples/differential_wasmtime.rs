//! A differential fuzzing campaign against wasmtime for what wasmi cannot check: wasm-smith
//! modules with exceptions, tail calls, extended constant expressions and several memories
//! (besides WebAssembly 2.0 with SIMD) executed on wasm-prof (compiled, and loaded back from
//! the cache) and on wasmtime, compared call by call.
//!
//! ```text
//! cargo run --release -p wasm-prof --features peers --example differential_wasmtime -- --count 20000 --seed 1
//! cargo run --release -p wasm-prof --features peers --example differential_wasmtime -- --seed 1 --case 4711
//! ```
//!
//! Prints a summary; `--case N` runs one case of the seed, prints its verdict and writes its
//! module to `case-N.wasm`.

use std::process::ExitCode;

use wasm_prof::engines::wasmtime_reference::WasmtimeReference;
use wasm_prof_differential::campaign_command;

fn main() -> ExitCode {
    campaign_command::<WasmtimeReference>("differential_wasmtime")
}
