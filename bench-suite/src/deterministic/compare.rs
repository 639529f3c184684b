//! Comparing two measurements measure by measure: a growth beyond the measure's tolerance is a
//! regression. There is no "not comparable, so pass": incomparable measurements are an error.

use anyhow::{bail, ensure};

use crate::{
    deterministic::{MEASURES, Measurement, Origin, machine_part},
    model::{GATE_SCHEMA, GateKind, GateReport, GateRow, GateVerdict},
};

/// Compares `current` with `baseline`, each described by where it came from. A measure only
/// one side has (a baseline build whose artifact format this build cannot read has no
/// code-image size) is left out with a note; a baseline measured now may have another engine
/// fingerprint, which is noted.
///
/// # Errors
/// When the two cannot be compared (see [`Measurement::incomparable_with`]), or no measure is
/// on both sides.
pub fn compare(
    baseline: (&Measurement, &str),
    current: (&Measurement, &str),
    origin: Origin,
) -> anyhow::Result<GateReport> {
    let (old, new) = (baseline.0, current.0);
    let differences = old.incomparable_with(new, origin);
    if !differences.is_empty() {
        bail!(
            "{} cannot be compared with {}: {}",
            current.1,
            baseline.1,
            differences.join("; ")
        );
    }
    let mut notes = Vec::new();
    if machine_part(&old.fingerprint) != machine_part(&new.fingerprint) {
        notes.push(
            "the engine fingerprints differ: the builds configure the engine differently"
                .to_string(),
        );
    }
    let mut rows = Vec::new();
    for spec in &MEASURES {
        let (Some(&b), Some(&c)) = (old.measures.get(spec.key), new.measures.get(spec.key)) else {
            notes.push(format!(
                "{} {} not compared: only one side has it",
                spec.part, spec.measure
            ));
            continue;
        };
        let change = if b == 0 {
            if c == 0 { 0.0 } else { f64::INFINITY }
        } else {
            c as f64 / b as f64 - 1.0
        };
        // Compared in the measure's own units, so that exactly the tolerance is not over it.
        let allowed = b as f64 * spec.tolerance;
        let growth = c as f64 - b as f64;
        let verdict = if growth > allowed {
            GateVerdict::Regressed
        } else if growth < -allowed {
            notes.push(format!(
                "{} {} improved beyond its tolerance: record it with `wasm-prof gate \
                 deterministic --update`",
                spec.part, spec.measure
            ));
            GateVerdict::Improved
        } else {
            GateVerdict::Ok
        };
        rows.push(GateRow {
            benchmark: format!("{} · {} · {}", new.module, spec.part, new.hash),
            measure: spec.measure.to_string(),
            unit: spec.unit.to_string(),
            baseline: b as f64,
            current: c as f64,
            current_low: None,
            current_high: None,
            change,
            tolerance: spec.tolerance,
            verdict,
        });
    }
    ensure!(
        !rows.is_empty(),
        "{} and {} have no measure in common",
        current.1,
        baseline.1
    );
    Ok(GateReport {
        schema: GATE_SCHEMA.to_string(),
        kind: GateKind::Deterministic,
        baseline: baseline.1.to_string(),
        current: current.1.to_string(),
        rows,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deterministic::SCHEMA_VERSION;

    fn measurement(changes: &[(&str, u64)]) -> Measurement {
        let mut measures: std::collections::BTreeMap<String, u64> =
            MEASURES.iter().map(|m| (m.key.to_string(), 1000)).collect();
        for (key, value) in changes {
            measures.insert(key.to_string(), *value);
        }
        Measurement {
            schema_version: SCHEMA_VERSION,
            module: "workload.wasm".into(),
            module_sha256: "ab".into(),
            hash: "blake3".into(),
            fingerprint: "fp".into(),
            valgrind: "valgrind-3.19.0".into(),
            measures,
        }
    }

    fn judge(current: &Measurement) -> anyhow::Result<GateReport> {
        compare(
            (&measurement(&[]), "base"),
            (current, "now"),
            Origin::Recorded,
        )
    }

    fn verdict(report: &GateReport, part: &str, measure: &str) -> GateVerdict {
        report
            .rows
            .iter()
            .find(|r| r.benchmark.contains(part) && r.measure == measure)
            .unwrap()
            .verdict
    }

    #[test]
    fn equal_measurements_pass() {
        let report = judge(&measurement(&[])).unwrap();
        assert!(!report.regressed());
        assert_eq!(report.rows.len(), MEASURES.len());
        assert!(report.notes.is_empty());
    }

    #[test]
    fn growth_beyond_the_tolerance_regresses() {
        let report = judge(&measurement(&[("ir_cached", 1030)])).unwrap();
        assert!(report.regressed());
        assert_eq!(
            verdict(&report, "cached", "instructions"),
            GateVerdict::Regressed
        );
        assert_eq!(verdict(&report, "cold", "instructions"), GateVerdict::Ok);
        let row = report.rows.iter().find(|r| r.current == 1030.0).unwrap();
        assert!((row.change - 0.03).abs() < 1e-9);
    }

    #[test]
    fn one_byte_over_one_percent_regresses_and_growth_within_tolerance_passes() {
        assert!(
            judge(&measurement(&[("artifact_bytes", 1011)]))
                .unwrap()
                .regressed()
        );
        let within = measurement(&[("ir_nocache", 1019), ("artifact_bytes", 1010)]);
        assert!(!judge(&within).unwrap().regressed());
    }

    #[test]
    fn an_improvement_passes_with_a_note() {
        let report = judge(&measurement(&[("code_image_bytes", 900)])).unwrap();
        assert!(!report.regressed());
        assert_eq!(
            verdict(&report, "artifact", "code-image-bytes"),
            GateVerdict::Improved
        );
        assert!(report.notes[0].contains("--update"), "{:?}", report.notes);
    }

    #[test]
    fn incomparable_measurements_are_an_error_not_a_pass() {
        let mut other_cpu = measurement(&[("ir_cold", 2000)]);
        other_cpu.fingerprint = "other".into();
        let e = judge(&other_cpu).unwrap_err().to_string();
        assert!(e.contains("engine fingerprint"), "{e}");
        let mut missing = measurement(&[]);
        missing.measures.remove("ir_cold");
        let e = judge(&missing).unwrap_err().to_string();
        assert!(e.contains("ir_cold"), "{e}");
        let mut other_valgrind = measurement(&[]);
        other_valgrind.valgrind = "valgrind-3.22.0".into();
        assert!(judge(&other_valgrind).is_err());
        let mut older = measurement(&[]);
        older.schema_version = 1;
        let e = judge(&older).unwrap_err().to_string();
        assert!(e.contains("schema version"), "{e}");
    }

    #[test]
    fn a_recorded_baseline_of_another_build_of_the_same_engine_compares() {
        let mut baseline = measurement(&[]);
        baseline.fingerprint = "wasm-prof-runtime 0.1.0; x86_64 +avx2; metadata schema 0x00000001; build 0x0000000000000001".into();
        let mut current = measurement(&[]);
        current.fingerprint = "wasm-prof-runtime 0.1.0; x86_64 +avx2; metadata schema 0x00000002; build 0x0000000000000002".into();
        assert!(
            baseline
                .incomparable_with(&current, Origin::Recorded)
                .is_empty()
        );
        current.fingerprint = current.fingerprint.replace("+avx2", "-avx2");
        assert!(
            !baseline
                .incomparable_with(&current, Origin::Recorded)
                .is_empty()
        );
    }

    #[test]
    fn a_build_measured_now_may_differ_in_fingerprint_and_lack_a_measure() {
        let mut other_build = measurement(&[("ir_cold", 2000)]);
        other_build.fingerprint = "other".into();
        other_build.measures.remove("code_image_bytes");
        let report = compare(
            (&other_build, "built now"),
            (&measurement(&[]), "now"),
            Origin::MeasuredNow,
        )
        .unwrap();
        assert_eq!(report.rows.len(), MEASURES.len() - 1);
        assert_eq!(
            verdict(&report, "cold", "instructions"),
            GateVerdict::Improved
        );
        let notes = report.notes.join("\n");
        assert!(notes.contains("fingerprints differ"), "{notes}");
        assert!(notes.contains("code-image-bytes not compared"), "{notes}");
        let mut other_valgrind = measurement(&[]);
        other_valgrind.valgrind = "valgrind-3.22.0".into();
        assert!(
            compare(
                (&other_valgrind, "built now"),
                (&measurement(&[]), "now"),
                Origin::MeasuredNow
            )
            .is_err()
        );
    }
}
