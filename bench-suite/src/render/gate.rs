//! The gate's table: significant changes with their confidence intervals.

use crate::{
    analysis::{
        compare::Verdict,
        regression::{Change, GateResult},
    },
    render::table::Table,
    units::{format_ns, format_percent},
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
pub fn table(result: &GateResult, threshold: f64) -> Table {
    let significant: Vec<&Change> = result
        .changes
        .iter()
        .filter(|c| c.comparison.verdict != Verdict::Unchanged)
        .collect();
    let mut notes = vec![format!(
        "{} significant change(s) beyond ±{:.1}% (95% CI outside the band); {} metric(s) unchanged",
        significant.len(),
        threshold * 100.0,
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
