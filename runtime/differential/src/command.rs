//! The command line of a campaign example, the same for every reference engine.

use std::{process::ExitCode, time::Instant};

use crate::{ReferenceEngine, campaign, case_bytes, compare_module, module_bytes, run_case};

/// Runs a campaign against `R` from the process's arguments (`--count N`, default 10,000;
/// `--seed S`, default 1) and prints its summary and mismatches; with `--case N`, runs that
/// one case of the seed, prints its verdict and writes its module to `case-N.wasm`, or with
/// `--module FILE` too, runs that module with the case's arguments instead. `example`
/// names the program in the usage message. Fails when there was a mismatch.
pub fn campaign_command<R: ReferenceEngine>(example: &str) -> ExitCode {
    let mut count = 10_000usize;
    let mut seed = 1u64;
    let mut case = None;
    let mut module = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        let number = value.as_deref().and_then(|v| v.parse::<u64>().ok());
        match (arg.as_str(), number) {
            ("--count", Some(v)) => count = v as usize,
            ("--seed", Some(v)) => seed = v,
            ("--case", Some(v)) => case = Some(v as usize),
            ("--module", _) if value.is_some() => module = value,
            _ => {
                eprintln!(
                    "usage: {example} [--count N] [--seed S] [--case N [--module FILE.wasm]]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let cache = tempfile::tempdir().expect("a temporary cache directory");
    if let (Some(case), Some(module)) = (case, &module) {
        let bytes = std::fs::read(module).expect("read the module");
        let raw = case_bytes(seed, case);
        println!("{:?}", compare_module::<R>(&bytes, &raw, cache.path()));
        return ExitCode::SUCCESS;
    }
    if let Some(case) = case {
        let raw = case_bytes(seed, case);
        if let Some(bytes) = module_bytes::<R>(&raw) {
            let file = format!("case-{case}.wasm");
            std::fs::write(&file, bytes).expect("write the case's module");
            println!("wrote {file}");
        }
        println!("{:?}", run_case::<R>(&raw, cache.path()));
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let mut reported = 0;
    let summary = campaign::<R>(seed, count, cache.path(), |s| {
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
        "seed {seed} against {}: {} cases, {} modules compared ({} skipped; {} throw or catch), \
         {} exported-function calls per engine run agreed on ({} trapped, {} with an uncaught \
         exception), {} explained (stack overflows), {} unexplained mismatches, {:.0} s",
        R::NAME,
        summary.cases,
        summary.compared,
        summary.cases - summary.compared,
        summary.handling_exceptions,
        summary.calls,
        summary.trapped,
        summary.uncaught_exceptions,
        summary.explained.len(),
        summary.mismatches.len(),
        started.elapsed().as_secs_f64()
    );
    for (case, why) in &summary.explained {
        println!("  explained: case {case}: {why}");
    }
    for (case, why) in &summary.mismatches {
        println!("  case {case}: {why}");
    }
    if summary.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
