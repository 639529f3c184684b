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

use std::{process::ExitCode, time::Instant};

use wasm_prof_differential::{Wasmi, campaign, case_bytes, module_bytes, run_case};

fn main() -> ExitCode {
    let mut count = 10_000usize;
    let mut seed = 1u64;
    let mut case = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (arg.as_str(), value) {
            ("--count", Some(v)) => count = v as usize,
            ("--seed", Some(v)) => seed = v,
            ("--case", Some(v)) => case = Some(v as usize),
            _ => {
                eprintln!("usage: differential [--count N] [--seed S] [--case N]");
                return ExitCode::from(2);
            }
        }
    }
    let cache = tempfile::tempdir().expect("a temporary cache directory");
    if let Some(case) = case {
        let raw = case_bytes(seed, case);
        if let Some(bytes) = module_bytes::<Wasmi>(&raw) {
            let file = format!("case-{case}.wasm");
            std::fs::write(&file, bytes).expect("write the case's module");
            println!("wrote {file}");
        }
        println!("{:?}", run_case::<Wasmi>(&raw, cache.path()));
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let mut reported = 0;
    let summary = campaign::<Wasmi>(seed, count, cache.path(), |s| {
        for (case, why) in &s.mismatches[reported..] {
            eprintln!("mismatch: case {case}: {why}");
        }
        reported = s.mismatches.len();
        if s.cases % 1000 == 0 {
            eprintln!(
                "{} cases, {} compared, {} mismatches, {:.0} s",
                s.cases,
                s.compared,
                s.mismatches.len(),
                started.elapsed().as_secs_f64()
            );
        }
    });
    println!(
        "seed {seed}: {} cases, {} modules compared ({} exported-function calls per engine run), \
         {} explained (stack overflows), {} unexplained mismatches, {:.0} s",
        summary.cases,
        summary.compared,
        summary.calls,
        summary.explained.len(),
        summary.mismatches.len(),
        started.elapsed().as_secs_f64()
    );
    for (case, why) in &summary.mismatches {
        println!("  case {case}: {why}");
    }
    if summary.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
