//! The gate's table: significant changes with their confidence intervals.

use crate::{
    analysis::{
        compare::Verdict,
        regression::{Change, GateResult, Tolerance},
    },
    model::{GateReport, GateRow, GateVerdict},
    render::table::Table,
    units::{format_bytes, format_ns, format_percent},
};

fn row(change: &Change) -> Vec<String> {
    let c = &change.comparison;
    let verdict = match c.verdict {
        Verdict::Regressed => "REGRESSED",
        Verdict::Improved => "improved",
        Verdict::Unchanged => "unchanged",
    };
    vec![
        change.run.clone(),
        change.metric.name().to_string(),
        format_ns(c.baseline_median_ns),
        format_ns(c.current_median_ns),
        format_percent(c.change),
        format!(
            "[{}, {}]",
            format_percent(c.ci_low),
            format_percent(c.ci_high)
        ),
        verdict.to_string(),
    ]
}

/// The comparison table: every significant change, and a count of the rest.
pub fn table(result: &GateResult, tolerance: Tolerance) -> Table {
    let significant: Vec<&Change> = result
        .changes
        .iter()
        .filter(|c| c.comparison.verdict != Verdict::Unchanged)
        .collect();
    let mut notes = vec![format!(
        "{} significant change(s) beyond ±{:.1}% and ±{} (95% CI outside both); {} metric(s) \
         unchanged",
        significant.len(),
        tolerance.relative * 100.0,
        format_ns(tolerance.floor_ns),
        result.changes.len() - significant.len()
    )];
    if result.fingerprint_differs {
        notes.push(
            "the engine fingerprints differ: the reports measured different engine configurations"
                .to_string(),
        );
    }
    notes.extend(
        result
            .unmatched_current
            .iter()
            .map(|r| format!("no baseline for {r}")),
    );
    notes.extend(
        result
            .unmatched_baseline
            .iter()
            .map(|r| format!("not measured now: {r}")),
    );
    Table {
        title: "comparison with the baseline".to_string(),
        header: [
            "run", "phase", "baseline", "current", "change", "95% CI", "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows: significant.into_iter().map(row).collect(),
        notes,
    }
}

/// A value in its unit: nanoseconds as a duration, bytes with their exact count, counts with
/// thousands separators.
fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "ns" => format_ns(value),
        "bytes" => format!("{} ({})", thousands(value), format_bytes(value as u64)),
        _ => thousands(value),
    }
}

/// An integer with thousands separators (`1,471,012`).
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}

fn report_row(row: &GateRow) -> Vec<String> {
    vec![
        row.benchmark.clone(),
        row.measure.clone(),
        format_value(row.baseline, &row.unit),
        format_value(row.current, &row.unit),
        format!("{:+.2}%", row.change * 100.0),
        format!("{:+.1}%", row.tolerance * 100.0),
        row.verdict.name().to_string(),
    ]
}

/// Every row of a gate report, with its notes.
pub fn report_table(report: &GateReport) -> Table {
    let regressed = report
        .rows
        .iter()
        .filter(|r| r.verdict == GateVerdict::Regressed)
        .count();
    let mut notes = vec![format!(
        "baseline: {}; current: {}; {regressed} of {} measure(s) regressed",
        report.baseline,
        report.current,
        report.rows.len()
    )];
    notes.extend(report.notes.iter().cloned());
    Table {
        title: "comparison with the baseline".to_string(),
        header: [
            "benchmark",
            "measure",
            "baseline",
            "current",
            "change",
            "tolerance",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows: report.rows.iter().map(report_row).collect(),
        notes,
    }
}
