//! The full report as pretty-printed JSON (the schema in `model.rs`).

use crate::{export::Exporter, model::Report};

/// Writes the report in its versioned JSON schema.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        report.to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures;

    #[test]
    fn round_trips_both_schemas() {
        for report in [fixtures::phases_report(), fixtures::hashes_report()] {
            let bytes = JsonExporter.serialize(&report).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert!(value["schema"].as_str().unwrap().starts_with("wasm-prof/"));
            let again = Report::from_json(&bytes).unwrap();
            assert_eq!(JsonExporter.serialize(&again).unwrap(), bytes);
        }
    }

    #[test]
    fn phases_have_exact_names_and_absent_phases_are_absent() {
        let bytes = JsonExporter.serialize(&fixtures::phases_report()).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let cached = &value["runs"][1];
        assert_eq!(cached["path"], "cached");
        let phases = cached["phases"].as_object().unwrap();
        assert!(phases.contains_key("cache_load"));
        assert!(
            !phases.contains_key("codegen"),
            "a phase that did not run is absent"
        );
        for key in [
            "median_ns",
            "min_ns",
            "max_ns",
            "mad_ns",
            "ci95_low_ns",
            "ci95_high_ns",
        ] {
            assert!(phases["cache_load"][key].is_number(), "{key}");
        }
        assert!(value["host"]["cpu_model"].is_string());
        assert!(value["engine"]["fingerprint"].is_string());
    }

    #[test]
    fn programs_are_recorded_per_sample() {
        let bytes = JsonExporter.serialize(&fixtures::phases_report()).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["schema"], "wasm-prof/phases/v2");
        let program = &value["runs"][0]["program"];
        assert_eq!(program["workload"], "demo");
        assert_eq!(program["expect_exit"], 10);
        assert_eq!(program["args"], serde_json::json!(["-d", "/in/p.smt2"]));
        let samples = program["samples"].as_array().unwrap();
        assert_eq!(samples.len(), 5);
        assert_eq!(
            samples[0],
            serde_json::json!({
                "exit_code": 10,
                "stdout_sha256": "5a".repeat(32),
                "stdout_bytes": 178,
                "stderr_bytes": 0,
            })
        );
        assert_eq!(
            value["stdout_mismatches"][0],
            serde_json::json!({
                "module": "demo",
                "path": "nocache",
                "hash": "none",
                "engine": "wasm-prof",
                "sample": "sample 5",
                "expected_sha256": "5a".repeat(32),
                "expected_from": "cold sample 1",
                "actual_sha256": "ef".repeat(32),
            })
        );
    }

    #[test]
    fn v1_reports_are_still_read_and_stay_v1() {
        let Report::Phases(mut report) = fixtures::phases_report() else {
            unreachable!()
        };
        report.schema = "wasm-prof/phases/v1".into();
        let with_programs = Report::Phases(report.clone()).to_json().unwrap();
        let e = Report::from_json(&with_programs).unwrap_err();
        assert!(format!("{e:#}").contains("cannot record programs"), "{e:#}");
        report.stdout_mismatches.clear();
        for run in &mut report.runs {
            run.program = None;
        }
        let v1 = Report::Phases(report).to_json().unwrap();
        let text = String::from_utf8(v1.clone()).unwrap();
        assert!(!text.contains("program") && !text.contains("stdout_mismatches"));
        let again = Report::from_json(&v1).unwrap();
        assert_eq!(JsonExporter.serialize(&again).unwrap(), v1);
    }

    #[test]
    fn unknown_phase_names_are_rejected() {
        let bytes = JsonExporter.serialize(&fixtures::phases_report()).unwrap();
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("\"codegen\"", "\"compile\"");
        assert!(Report::from_json(text.as_bytes()).is_err());
    }
}
