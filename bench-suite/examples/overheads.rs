//! The overheads issue 13 asks for, in a form callgrind can count exactly: run one variant per
//! process and compare the instruction counts of two processes.
//!
//! ```sh
//! # The phase clock: a compile (cache off, one thread) with the clock on, then off.
//! valgrind --tool=callgrind --callgrind-out-file=on.out  target/release/examples/overheads clock on  corpora/wasm/workload.wasm
//! valgrind --tool=callgrind --callgrind-out-file=off.out target/release/examples/overheads clock off corpora/wasm/workload.wasm
//! # A cache hit (a first run primes the cache) with the clock on, then off.
//! valgrind --tool=callgrind target/release/examples/overheads hit on  corpora/fetched/7zip.wasm /tmp/c
//! valgrind --tool=callgrind target/release/examples/overheads hit off corpora/fetched/7zip.wasm /tmp/c
//! # A hash algorithm through the cache's HashAlgo::digest, then straight from its crate.
//! valgrind --tool=callgrind target/release/examples/overheads hash blake3 wrapped 1048576
//! valgrind --tool=callgrind target/release/examples/overheads hash blake3 bare 1048576
//! ```
//!
//! Both variants of a pair do the same set-up (reading the module, making the engine, making
//! the input), so the difference between their totals is what the variant costs.

use std::{hint::black_box, process::ExitCode};

#[path = "../benches/runtime/bare_hash.rs"]
mod bare_hash;

use bare_hash::bare_digest;
use wasm_prof_runtime::{Config, Engine, Module, cache::HashAlgo, phases::PhaseClock};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["clock", state @ ("on" | "off"), module] => clock(*state == "on", module, None),
        ["hit", state @ ("on" | "off"), module, cache] => {
            clock(*state == "on", module, Some(cache))
        }
        ["hash", algo, how @ ("wrapped" | "bare"), len] => hash(algo, *how == "bare", len),
        _ => Err(
            "usage: overheads clock on|off MODULE | overheads hit on|off MODULE CACHE_DIR | \
             overheads hash ALGO wrapped|bare BYTES"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads `module` once on one thread, the clock on or off: compiled with the cache off, or
/// from the cache in `cache` (primed by an earlier run).
fn clock(on: bool, module: &str, cache: Option<&str>) -> Result<(), String> {
    let bytes = std::fs::read(module).map_err(|e| format!("cannot read {module}: {e}"))?;
    let mut config = Config::new();
    config.parallel_compile(false);
    match cache {
        Some(dir) => config.cache_dir(dir),
        None => config.cache(false),
    };
    let engine = Engine::new(config).map_err(|e| e.to_string())?;
    let mut clock = if on {
        PhaseClock::enabled()
    } else {
        PhaseClock::disabled()
    };
    Module::from_bytes_with_clock(&engine, &bytes, &mut clock).map_err(|e| e.to_string())?;
    black_box(clock);
    Ok(())
}

/// Hashes `len` bytes once with `algo`, through `HashAlgo::digest` or straight from its crate.
fn hash(algo: &str, bare: bool, len: &str) -> Result<(), String> {
    let algo: HashAlgo = algo.parse().map_err(|e| format!("{e}"))?;
    let len: usize = len.parse().map_err(|e| format!("bad length {len}: {e}"))?;
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    if bare {
        black_box(bare_digest(algo, black_box(&data)));
    } else {
        black_box(algo.digest(black_box(&data)).map_err(|e| e.to_string())?);
    }
    Ok(())
}
