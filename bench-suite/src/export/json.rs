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
    fn unknown_phase_names_are_rejected() {
        let bytes = JsonExporter.serialize(&fixtures::phases_report()).unwrap();
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("\"codegen\"", "\"compile\"");
        assert!(Report::from_json(text.as_bytes()).is_err());
    }
}
