//! The hashes table: one row per (size, algorithm), then skips and the recommendation.

use crate::{
    model::HashesReport,
    render::table::Table,
    units::{format_bytes, format_ns, format_rate},
};

/// The table of a hashes report.
pub fn table(report: &HashesReport) -> Table {
    let header = [
        "algo",
        "crypto",
        "size",
        "median ± MAD",
        "min … max",
        "µs/MiB",
        "throughput",
    ];
    let rows = report
        .results
        .iter()
        .map(|r| {
            let us_per_mib = r.median_ns / 1e3 / (r.size_bytes as f64 / f64::from(1u32 << 20));
            vec![
                r.algo.clone(),
                if r.cryptographic { "yes" } else { "no" }.to_string(),
                format_bytes(r.size_bytes),
                format!("{} ± {}", format_ns(r.median_ns), format_ns(r.mad_ns)),
                format!(
                    "{} … {}",
                    format_ns(r.min_ns as f64),
                    format_ns(r.max_ns as f64)
                ),
                format!("{us_per_mib:.1}"),
                format_rate(r.bytes_per_s),
            ]
        })
        .collect();
    let mut notes: Vec<String> = report
        .skipped
        .iter()
        .map(|s| format!("skipped {}: {}", s.algo, s.reason))
        .collect();
    if let Some(rec) = &report.recommendation {
        match &rec.cryptographic {
            Some(p) => notes.push(format!(
                "recommended cache key on this CPU: {} ({}, fastest cryptographic at {})",
                p.algo,
                format_rate(p.bytes_per_s),
                format_bytes(rec.size_bytes)
            )),
            None => notes.push("no cryptographic algorithm ran".to_string()),
        }
        notes.push(format!(
            "fastest overall: {} ({})",
            rec.fastest.algo,
            format_rate(rec.fastest.bytes_per_s)
        ));
        notes.extend(rec.caveat.clone());
    }
    Table {
        title: format!("hash throughput on {}", report.host.cpu_model),
        header: header.map(String::from).to_vec(),
        rows,
        notes,
    }
}
