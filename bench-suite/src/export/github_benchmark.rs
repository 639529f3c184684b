//! github-action-benchmark's `customSmallerIsBetter` input
//! (<https://github.com/benchmark-action/github-action-benchmark>): a JSON array of
//! `{name, unit, value, range?, extra?}`, where `range` and `extra` are free text and a smaller
//! value is better.
//!
//! A phases report gives one entry per run and phase (median in ns, the 95% confidence interval
//! as range); a hashes report one per algorithm and size (median time to hash the buffer, the
//! throughput in `extra`); a gate report one per row (the current value, the baseline and the
//! verdict in `extra`).

use anyhow::ensure;
use serde::Serialize;

use crate::{
    export::Exporter,
    model::{GateReport, HashesReport, PhasesReport, Report, Stats},
    units::{format_bytes, format_ns, format_percent, format_rate},
};

/// Writes a report as github-action-benchmark `customSmallerIsBetter` JSON.
pub struct GithubBenchmarkExporter;

/// One benchmark entry.
#[derive(Serialize)]
struct Entry {
    name: String,
    unit: String,
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra: Option<String>,
}

fn timed(name: String, stats: &Stats) -> Entry {
    Entry {
        name,
        unit: "ns".into(),
        value: stats.median_ns,
        range: Some(format!(
            "± {:.0}",
            (stats.ci95_high_ns - stats.ci95_low_ns) / 2.0
        )),
        extra: Some(format!(
            "median of {} samples; 95% CI [{}, {}]",
            stats.samples_ns.len(),
            format_ns(stats.ci95_low_ns),
            format_ns(stats.ci95_high_ns)
        )),
    }
}

fn phases(report: &PhasesReport) -> Vec<Entry> {
    let mut out = Vec::new();
    for run in &report.runs {
        let label = run.label();
        for (phase, stats) in &run.phases {
            out.push(timed(format!("{label} · {}", phase.name()), stats));
        }
        out.push(timed(format!("{label} · total"), &run.total));
        if let Some(bytes) = run.artifact_bytes {
            out.push(Entry {
                name: format!("{label} · artifact"),
                unit: "bytes".into(),
                value: bytes as f64,
                range: None,
                extra: Some(format_bytes(bytes)),
            });
        }
    }
    out
}

fn hashes(report: &HashesReport) -> Vec<Entry> {
    report
        .results
        .iter()
        .map(|r| Entry {
            name: format!("hash {} · {}", r.algo, format_bytes(r.size_bytes)),
            unit: "ns".into(),
            value: r.median_ns,
            range: Some(format!("± {:.0}", r.mad_ns)),
            extra: Some(format!(
                "{} ({}cryptographic); {} samples, fastest {}",
                format_rate(r.bytes_per_s),
                if r.cryptographic { "" } else { "not " },
                r.samples_ns.len(),
                format_ns(r.min_ns as f64)
            )),
        })
        .collect()
}

fn gate(report: &GateReport) -> Vec<Entry> {
    report
        .rows
        .iter()
        .map(|row| Entry {
            name: format!("{} · {}", row.benchmark, row.measure),
            unit: row.unit.clone(),
            value: row.current,
            range: row
                .current_low
                .zip(row.current_high)
                .map(|(low, high)| format!("± {:.0}", (high - low) / 2.0)),
            extra: Some(format!(
                "baseline {:.0}; change {} (tolerance {}): {}",
                row.baseline,
                format_percent(row.change),
                format_percent(row.tolerance),
                row.verdict.name()
            )),
        })
        .collect()
}

impl Exporter for GithubBenchmarkExporter {
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        let entries = match report {
            Report::Phases(r) => phases(r),
            Report::Hashes(r) => hashes(r),
            Report::Gate(r) => gate(r),
        };
        ensure!(
            entries.iter().all(|e| e.value.is_finite()),
            "the report holds a value that is not a finite number, which the benchmark \
             action cannot chart"
        );
        let mut bytes = serde_json::to_vec_pretty(&entries)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::Value;

    use super::*;
    use crate::export::fixtures;

    /// Checks `value` against the action's custom format: an array of objects with a string
    /// `name`, a string `unit` and a numeric `value`, optionally string `range` and `extra`, and
    /// nothing else; names are unique (the action keys its history by name).
    fn assert_custom(value: &Value) -> Vec<Value> {
        let entries = value.as_array().expect("an array").clone();
        assert!(!entries.is_empty());
        let mut names = HashSet::new();
        for entry in &entries {
            let object = entry.as_object().expect("an object");
            for key in object.keys() {
                assert!(
                    ["name", "unit", "value", "range", "extra"].contains(&key.as_str()),
                    "unknown key {key}"
                );
            }
            let name = object["name"].as_str().expect("name is a string");
            assert!(names.insert(name.to_string()), "{name} twice");
            assert!(
                !object["unit"]
                    .as_str()
                    .expect("unit is a string")
                    .is_empty()
            );
            assert!(
                object["value"]
                    .as_f64()
                    .expect("value is a number")
                    .is_finite()
            );
            for key in ["range", "extra"] {
                if let Some(v) = object.get(key) {
                    assert!(v.is_string(), "{name}: {key} is a string");
                }
            }
        }
        entries
    }

    fn export(report: &Report) -> Vec<Value> {
        let bytes = GithubBenchmarkExporter.serialize(report).unwrap();
        assert_custom(&serde_json::from_slice(&bytes).unwrap())
    }

    fn find<'a>(entries: &'a [Value], name: &str) -> &'a Value {
        entries
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no entry {name}"))
    }

    #[test]
    fn phases_give_one_entry_per_run_and_phase() {
        let report = fixtures::phases_report();
        let entries = export(&report);
        let Report::Phases(phases) = &report else {
            unreachable!()
        };
        let cold = &phases.runs[0];
        let total = find(&entries, "demo · cold · blake3 · total");
        assert_eq!(total["unit"], "ns");
        assert_eq!(total["value"], cold.total.median_ns);
        assert!(total["range"].as_str().unwrap().starts_with("± "));
        let expected: usize = phases
            .runs
            .iter()
            .map(|r| r.phases.len() + 1)
            .sum::<usize>()
            + phases
                .runs
                .iter()
                .filter(|r| r.artifact_bytes.is_some())
                .count();
        assert_eq!(entries.len(), expected);
    }

    #[test]
    fn hashes_give_time_per_buffer_with_the_throughput_as_extra() {
        let entries = export(&fixtures::hashes_report());
        let xxh3 = find(&entries, "hash xxh3 · 1 KiB");
        assert_eq!(xxh3["unit"], "ns");
        assert!(
            xxh3["extra"]
                .as_str()
                .unwrap()
                .contains("not cryptographic")
        );
        assert_eq!(entries.len(), 6);
    }

    #[test]
    fn gates_give_current_values_with_baseline_and_verdict() {
        let entries = export(&fixtures::gate_report());
        let cold = find(&entries, "workload.wasm · cold · blake3 · instructions");
        assert_eq!(cold["value"], 4.8e8);
        assert_eq!(cold["unit"], "instructions");
        assert!(cold.get("range").is_none(), "exact counts have no range");
        let extra = cold["extra"].as_str().unwrap();
        assert!(
            extra.contains("REGRESSED") && extra.contains("440000000"),
            "{extra}"
        );
        let timed = find(&entries, "demo · cold · blake3 · codegen");
        assert_eq!(timed["range"], "± 100000");
    }
}
