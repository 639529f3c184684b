//! Chrome trace event format: one process per run, nested complete (`X`) events for the median
//! sample's phases on thread 0 and for each compiled function on its compile thread.

use anyhow::bail;
use serde::Serialize;
use serde_json::json;
use wasm_prof_runtime::phases::{Phase, PhaseSpan};

use crate::{
    export::Exporter,
    model::{PhasesReport, Report, Run},
};

/// Writes a phases report as a Chrome trace.
pub struct TraceExporter;

#[derive(Serialize)]
struct Event {
    name: String,
    cat: &'static str,
    ph: &'static str,
    ts: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    pid: usize,
    tid: u32,
    args: serde_json::Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Trace {
    trace_events: Vec<Event>,
    display_time_unit: &'static str,
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn complete(
    name: String,
    cat: &'static str,
    start_ns: u64,
    dur_ns: u64,
    pid: usize,
    tid: u32,
    args: serde_json::Value,
) -> Event {
    Event {
        name,
        cat,
        ph: "X",
        ts: us(start_ns),
        dur: Some(us(dur_ns)),
        pid,
        tid,
        args,
    }
}

fn metadata(name: &'static str, label: String, pid: usize, tid: u32) -> Event {
    Event {
        name: name.to_string(),
        cat: "__metadata",
        ph: "M",
        ts: 0.0,
        dur: None,
        pid,
        tid,
        args: json!({ "name": label }),
    }
}

/// The median sample's spans, or a sequential layout of the phase medians when the report
/// carries no timeline.
fn timeline(run: &Run) -> (Vec<PhaseSpan>, bool) {
    if !run.timeline.is_empty() {
        return (run.timeline.clone(), false);
    }
    let mut at = 0;
    let spans = Phase::ALL
        .into_iter()
        .filter_map(|phase| {
            let duration_ns = run.phases.get(&phase)?.median_ns as u64;
            if phase.is_milestone() {
                return Some(PhaseSpan {
                    phase,
                    start_ns: 0,
                    duration_ns,
                });
            }
            let span = PhaseSpan {
                phase,
                start_ns: at,
                duration_ns,
            };
            at += duration_ns;
            Some(span)
        })
        .collect();
    (spans, true)
}

/// The track of milestones (`ready`, `first_response`): spans from the process's start that
/// overlap the phases, so they do not nest in the phases' track.
const MILESTONES_TID: u32 = 1_000_000;

fn run_events(run: &Run, pid: usize, events: &mut Vec<Event>) {
    events.push(metadata("process_name", run.label(), pid, 0));
    events.push(metadata("thread_name", "phases".into(), pid, 0));
    let (spans, synthetic) = timeline(run);
    let phases = || spans.iter().filter(|s| !s.phase.is_milestone());
    let start = phases().map(|s| s.start_ns).min().unwrap_or(0);
    let end = phases()
        .map(|s| s.start_ns + s.duration_ns)
        .max()
        .unwrap_or(0);
    if spans.iter().any(|s| s.phase.is_milestone()) {
        events.push(metadata(
            "thread_name",
            "milestones (from process start)".into(),
            pid,
            MILESTONES_TID,
        ));
    }
    events.push(complete(
        "sample".into(),
        "sample",
        start,
        end - start,
        pid,
        0,
        json!({ "path": run.path, "hash": run.hash, "synthetic": synthetic }),
    ));
    for span in &spans {
        let stats = run.phases.get(&span.phase);
        let (category, tid) = if span.phase.is_milestone() {
            ("milestone", MILESTONES_TID)
        } else {
            ("phase", 0)
        };
        events.push(complete(
            span.phase.name().into(),
            category,
            span.start_ns,
            span.duration_ns,
            pid,
            tid,
            json!({ "median_ns": stats.map(|s| s.median_ns), "mad_ns": stats.map(|s| s.mad_ns) }),
        ));
    }
    let mut threads: Vec<u32> = run.functions.iter().map(|f| f.thread).collect();
    threads.sort_unstable();
    threads.dedup();
    for thread in threads {
        events.push(metadata(
            "thread_name",
            format!("compile thread {thread}"),
            pid,
            thread + 1,
        ));
    }
    for f in &run.functions {
        let tid = f.thread + 1;
        let args = json!({ "func_index": f.func_index, "code_bytes": f.code_bytes });
        events.push(complete(
            format!("function {}", f.func_index),
            "function",
            f.start_ns,
            f.translate_ns + f.codegen_ns,
            pid,
            tid,
            args,
        ));
        events.push(complete(
            "translate".into(),
            "function",
            f.start_ns,
            f.translate_ns,
            pid,
            tid,
            json!({}),
        ));
        events.push(complete(
            "codegen".into(),
            "function",
            f.start_ns + f.translate_ns,
            f.codegen_ns,
            pid,
            tid,
            json!({}),
        ));
    }
}

fn trace(report: &PhasesReport) -> Trace {
    let mut trace_events = Vec::new();
    for (i, run) in report.runs.iter().enumerate() {
        run_events(run, i + 1, &mut trace_events);
    }
    Trace {
        trace_events,
        display_time_unit: "ns",
    }
}

impl Exporter for TraceExporter {
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        match report {
            Report::Phases(r) => Ok(serde_json::to_vec(&trace(r))?),
            Report::Hashes(_) | Report::Gate(_) => {
                bail!("a trace needs a phases report; hashes and gate reports have no timeline")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures;

    fn events() -> Vec<serde_json::Value> {
        let bytes = TraceExporter.serialize(&fixtures::phases_report()).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["displayTimeUnit"], "ns");
        value["traceEvents"].as_array().unwrap().clone()
    }

    fn encloses(outer: &serde_json::Value, inner: &serde_json::Value) -> bool {
        let (ots, odur) = (
            outer["ts"].as_f64().unwrap(),
            outer["dur"].as_f64().unwrap(),
        );
        let (its, idur) = (
            inner["ts"].as_f64().unwrap(),
            inner["dur"].as_f64().unwrap(),
        );
        outer["pid"] == inner["pid"]
            && outer["tid"] == inner["tid"]
            && ots <= its
            && its + idur <= ots + odur + 1e-9
    }

    #[test]
    fn phases_nest_in_the_sample_and_functions_nest_their_steps() {
        let events = events();
        let complete: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
        let samples: Vec<&&serde_json::Value> =
            complete.iter().filter(|e| e["cat"] == "sample").collect();
        assert_eq!(samples.len(), 3, "one pid per (module, path)");
        for phase in complete.iter().filter(|e| e["cat"] == "phase") {
            assert!(samples.iter().any(|s| encloses(s, phase)), "{phase}");
        }
        let functions: Vec<&&serde_json::Value> = complete
            .iter()
            .filter(|e| {
                e["cat"] == "function" && e["name"].as_str().unwrap().starts_with("function ")
            })
            .collect();
        assert_eq!(
            functions.len(),
            8,
            "4 functions on the cold and no-cache runs"
        );
        for step in complete
            .iter()
            .filter(|e| e["name"] == "translate" && e["cat"] == "function")
        {
            assert!(functions.iter().any(|f| encloses(f, step)));
            assert!(
                step["tid"].as_u64().unwrap() >= 1,
                "functions are on compile-thread lanes"
            );
        }
    }

    #[test]
    fn hashes_reports_have_no_trace() {
        assert!(TraceExporter.serialize(&fixtures::hashes_report()).is_err());
    }
}
