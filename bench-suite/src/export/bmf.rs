//! Bencher Metric Format (<https://bencher.dev/docs/reference/bencher-metric-format>): an object
//! of benchmarks, each an object of measures, each `{value, lower_value?, upper_value?}`.
//!
//! Times use Bencher's built-in `latency` measure (nanoseconds): a phases report gives one
//! benchmark per run and phase (`demo · cold · blake3 · codegen`) with the 95% confidence
//! interval of the median as bounds, and the cold run's artifact as `file-size`. A hashes
//! report gives one benchmark per algorithm and size with `latency` (bounds: fastest and
//! slowest sample) and `bytes-per-second`. A gate report gives its current values: times as
//! `latency`, counts and sizes under their own measure names (`instructions`, `file-bytes`).

use std::collections::BTreeMap;

use anyhow::ensure;
use serde::Serialize;

use crate::{
    export::Exporter,
    model::{GateReport, HashesReport, PhasesReport, Report, Stats},
    units::format_bytes,
};

/// Writes a report as Bencher Metric Format JSON.
pub struct BmfExporter;

/// One measure's metric.
#[derive(Serialize)]
struct Metric {
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper_value: Option<f64>,
}

impl Metric {
    fn exact(value: f64) -> Self {
        Metric {
            value,
            lower_value: None,
            upper_value: None,
        }
    }

    fn bounded(value: f64, lower: f64, upper: f64) -> Self {
        Metric {
            value,
            lower_value: Some(lower.min(value)),
            upper_value: Some(upper.max(value)),
        }
    }

    fn of(stats: &Stats) -> Self {
        Metric::bounded(stats.median_ns, stats.ci95_low_ns, stats.ci95_high_ns)
    }
}

type Benchmarks = BTreeMap<String, BTreeMap<String, Metric>>;

fn phases(report: &PhasesReport) -> Benchmarks {
    let mut out = Benchmarks::new();
    for run in &report.runs {
        let label = run.label();
        let timed = run
            .phases
            .iter()
            .map(|(phase, stats)| (phase.name(), stats))
            .chain([("total", &run.total)]);
        for (name, stats) in timed {
            out.entry(format!("{label} · {name}"))
                .or_default()
                .insert("latency".into(), Metric::of(stats));
        }
        if let Some(bytes) = run.artifact_bytes {
            out.entry(format!("{label} · artifact"))
                .or_default()
                .insert("file-size".into(), Metric::exact(bytes as f64));
        }
    }
    out
}

fn hashes(report: &HashesReport) -> Benchmarks {
    report
        .results
        .iter()
        .map(|r| {
            let measures = BTreeMap::from([
                (
                    "latency".to_string(),
                    Metric::bounded(r.median_ns, r.min_ns as f64, r.max_ns as f64),
                ),
                ("bytes-per-second".to_string(), Metric::exact(r.bytes_per_s)),
            ]);
            (
                format!("{} · {}", r.algo, format_bytes(r.size_bytes)),
                measures,
            )
        })
        .collect()
}

fn gate(report: &GateReport) -> Benchmarks {
    let mut out = Benchmarks::new();
    for row in &report.rows {
        let metric = match (row.current_low, row.current_high) {
            (Some(low), Some(high)) => Metric::bounded(row.current, low, high),
            _ => Metric::exact(row.current),
        };
        let (benchmark, measure) = if row.unit == "ns" {
            (
                format!("{} · {}", row.benchmark, row.measure),
                "latency".to_string(),
            )
        } else {
            (row.benchmark.clone(), row.measure.clone())
        };
        out.entry(benchmark).or_default().insert(measure, metric);
    }
    out
}

impl Exporter for BmfExporter {
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        let benchmarks = match report {
            Report::Phases(r) => phases(r),
            Report::Hashes(r) => hashes(r),
            Report::Gate(r) => gate(r),
        };
        ensure!(
            benchmarks.values().flat_map(|m| m.values()).all(|m| {
                [Some(m.value), m.lower_value, m.upper_value]
                    .into_iter()
                    .flatten()
                    .all(f64::is_finite)
            }),
            "the report holds a value that is not a finite number, which BMF cannot carry"
        );
        let mut bytes = serde_json::to_vec_pretty(&benchmarks)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::export::fixtures;

    /// Checks `value` against BMF's JSON schema: an object of non-empty benchmark names, each
    /// an object of non-empty measure names, each an object with a numeric `value` and
    /// optional numeric `lower_value` and `upper_value`, and nothing else. Also that the bounds
    /// bracket the value.
    fn assert_bmf(value: &Value) {
        let benchmarks = value.as_object().expect("BMF is a JSON object");
        assert!(!benchmarks.is_empty());
        for (name, measures) in benchmarks {
            assert!(!name.is_empty() && name.len() <= 1024, "{name}");
            let measures = measures.as_object().expect("a benchmark is an object");
            assert!(!measures.is_empty(), "{name} has no measure");
            for (measure, metric) in measures {
                assert!(!measure.is_empty() && measure.len() <= 64, "{measure}");
                let metric = metric.as_object().expect("a metric is an object");
                for key in metric.keys() {
                    assert!(
                        ["value", "lower_value", "upper_value"].contains(&key.as_str()),
                        "{name}/{measure} has an unknown key {key}"
                    );
                }
                let v = metric["value"].as_f64().expect("value is a number");
                if let Some(low) = metric.get("lower_value") {
                    assert!(low.as_f64().unwrap() <= v, "{name}/{measure}");
                }
                if let Some(high) = metric.get("upper_value") {
                    assert!(high.as_f64().unwrap() >= v, "{name}/{measure}");
                }
            }
        }
    }

    fn export(report: &Report) -> Value {
        serde_json::from_slice(&BmfExporter.serialize(report).unwrap()).unwrap()
    }

    #[test]
    fn phases_give_a_latency_per_run_and_phase_with_the_ci_as_bounds() {
        let report = fixtures::phases_report();
        let value = export(&report);
        assert_bmf(&value);
        let Report::Phases(phases) = &report else {
            unreachable!()
        };
        let cold = &phases.runs[0];
        let codegen = &cold.phases[&wasm_prof_runtime::phases::Phase::Codegen];
        let metric = &value["demo · cold · blake3 · codegen"]["latency"];
        assert_eq!(metric["value"], codegen.median_ns);
        assert_eq!(metric["lower_value"], codegen.ci95_low_ns);
        assert_eq!(metric["upper_value"], codegen.ci95_high_ns);
        assert_eq!(
            value["demo · cold · blake3 · total"]["latency"]["value"],
            cold.total.median_ns
        );
        assert!(
            value.get("demo · cached · blake3 · codegen").is_none(),
            "a phase that did not run is absent"
        );
    }

    #[test]
    fn hashes_give_latency_and_bytes_per_second() {
        let value = export(&fixtures::hashes_report());
        assert_bmf(&value);
        let blake3 = &value["blake3 · 1 MiB"];
        assert!(blake3["latency"]["value"].as_f64().unwrap() > 0.0);
        let rate = blake3["bytes-per-second"]["value"].as_f64().unwrap();
        assert!((rate / 4.0e9 - 1.0).abs() < 0.01, "{rate}");
    }

    #[test]
    fn gates_give_current_values_under_their_measure_names() {
        let value = export(&fixtures::gate_report());
        assert_bmf(&value);
        assert_eq!(
            value["workload.wasm · cold · blake3"]["instructions"]["value"],
            4.8e8
        );
        assert_eq!(
            value["workload.wasm · artifact · blake3"]["file-bytes"]["value"],
            155_648.0
        );
        let timed = &value["demo · cold · blake3 · codegen"]["latency"];
        assert_eq!(timed["lower_value"], 4.3e6);
        assert_eq!(timed["upper_value"], 4.5e6);
    }
}
