//! The phases table: one per module, phases down, (path, hash) across.

use wasm_prof_runtime::phases::Phase;

use crate::{
    analysis::summary::summarize,
    model::{PathKind, PhasesReport, Run, Stats},
    render::{peers, table::Table},
    units::{format_bytes, format_ns},
};

/// How many phases the "where the time goes" line names.
const TOP_PHASES: usize = 3;

fn cell(stats: Option<&Stats>) -> String {
    stats.map_or_else(
        || "—".to_string(),
        |s| format!("{} ± {}", format_ns(s.median_ns), format_ns(s.mad_ns)),
    )
}

fn column_name(run: &Run, several_hashes: bool) -> String {
    if peers::is_peer(run) {
        format!("{} {} ({})", run.engine, run.path, run.hash)
    } else if several_hashes && run.path != PathKind::Nocache {
        format!("{} ({})", run.path, run.hash)
    } else {
        run.path.to_string()
    }
}

/// One table per module, in the order modules first appear in the report.
pub fn tables(report: &PhasesReport) -> Vec<Table> {
    let mut modules: Vec<&str> = Vec::new();
    for run in &report.runs {
        if !modules.contains(&run.module.name.as_str()) {
            modules.push(&run.module.name);
        }
    }
    modules
        .into_iter()
        .map(|name| {
            let runs: Vec<&Run> = report
                .runs
                .iter()
                .filter(|r| r.module.name == name)
                .collect();
            module_table(&runs)
        })
        .collect()
}

fn module_table(runs: &[&Run]) -> Table {
    let module = &runs[0].module;
    let mut hashes: Vec<&str> = runs
        .iter()
        .filter(|r| r.path != PathKind::Nocache && !peers::is_peer(r))
        .map(|r| r.hash.as_str())
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    let several_hashes = hashes.len() > 1;
    let mut header = vec!["phase".to_string()];
    header.extend(runs.iter().map(|r| column_name(r, several_hashes)));
    let mut rows: Vec<Vec<String>> = Phase::ALL
        .into_iter()
        .filter(|p| runs.iter().any(|r| r.phases.contains_key(p)))
        .map(|phase| {
            let mut row = vec![phase.name().to_string()];
            row.extend(runs.iter().map(|r| {
                let stats = r.phases.get(&phase);
                let vs = peers::reference(runs, r).and_then(|o| peers::reference_ns(o, phase));
                peer_cell(runs, r, stats, vs)
            }));
            row
        })
        .collect();
    let mut total = vec!["total".to_string()];
    total.extend(runs.iter().map(|r| {
        let vs = peers::reference(runs, r).map(peers::reference_total_ns);
        peer_cell(runs, r, Some(&r.total), vs)
    }));
    rows.push(total);
    Table {
        title: format!(
            "{} ({}, {} function(s), sha256 {})",
            module.name,
            format_bytes(module.bytes),
            module.functions,
            &module.sha256[..module.sha256.len().min(8)]
        ),
        header,
        rows,
        notes: notes(runs),
    }
}

/// A cell, followed for a peer's run by its ratio to wasm-prof's `vs`.
fn peer_cell(runs: &[&Run], run: &Run, stats: Option<&Stats>, vs: Option<f64>) -> String {
    match stats {
        Some(s) if peers::is_peer(run) && peers::reference(runs, run).is_some() => {
            format!("{}{}", cell(stats), peers::ratio(s.median_ns, vs))
        }
        _ => cell(stats),
    }
}

fn notes(runs: &[&Run]) -> Vec<String> {
    let mut notes: Vec<String> = program_note(runs).into_iter().collect();
    if runs.iter().any(|r| peers::is_peer(r)) {
        notes.push(peers::RATIO_NOTE.to_string());
    }
    notes.extend(peers::artifact_note(runs));
    for cold in runs.iter().filter(|r| r.path == PathKind::Cold) {
        let cached = runs
            .iter()
            .find(|r| r.path == PathKind::Cached && r.hash == cold.hash && r.engine == cold.engine);
        let engine = if peers::is_peer(cold) {
            format!("{} ", cold.engine)
        } else {
            String::new()
        };
        if let Some(cached) = cached
            && cached.total.median_ns > 0.0
        {
            notes.push(format!(
                "cold/cached ({engine}{}): {:.1}x",
                cold.hash,
                cold.total.median_ns / cached.total.median_ns
            ));
            if !peers::is_peer(cold)
                && let (Some(cold_load), Some(cached_load)) = (load_ns(cold), load_ns(cached))
                && cached_load > 0.0
            {
                notes.push(format!(
                    "module load cold/cached ({}): {:.1}x (compile and store vs hit, both from \
                     read on, without instantiate)",
                    cold.hash,
                    cold_load / cached_load
                ));
            }
        }
        if let Some(cached) = cached
            && let (Some(cold_ready), Some(cached_ready)) = (
                cold.phases.get(&Phase::Ready),
                cached.phases.get(&Phase::Ready),
            )
            && cached_ready.median_ns > 0.0
        {
            notes.push(format!(
                "ready cold/cached ({engine}{}): {:.1}x (process start to the first accepted \
                 connection)",
                cold.hash,
                cold_ready.median_ns / cached_ready.median_ns
            ));
        }
        if !peers::is_peer(cold)
            && let Some(line) = where_time_goes(cold)
        {
            notes.push(line);
        }
    }
    notes
}

/// What the program of a module's runs did: its arguments, exit codes and stdout digests
/// over every timed sample.
fn program_note(runs: &[&Run]) -> Option<String> {
    let programs: Vec<_> = runs.iter().filter_map(|r| r.program.as_ref()).collect();
    let first = programs.first()?;
    let samples: Vec<_> = programs.iter().flat_map(|p| &p.samples).collect();
    let mut codes: Vec<i32> = samples.iter().map(|s| s.exit_code).collect();
    codes.sort_unstable();
    codes.dedup();
    let mut digests: Vec<&str> = samples.iter().map(|s| s.stdout_sha256.as_str()).collect();
    digests.sort_unstable();
    digests.dedup();
    let what = match &first.workload {
        Some(name) => format!("workload `{name}`"),
        None => "program".to_string(),
    };
    let mut args = if first.args.is_empty() {
        "no arguments".to_string()
    } else {
        format!("args `{}`", first.args.join(" "))
    };
    if !first.requests.is_empty() {
        let mut responses: Vec<&str> = samples
            .iter()
            .filter_map(|s| s.responses_sha256.as_deref())
            .collect();
        responses.sort_unstable();
        responses.dedup();
        let answered = match responses.as_slice() {
            [digest] => format!("responses sha256 {}", &digest[..digest.len().min(8)]),
            _ => format!("responses differ ({} digests)", responses.len()),
        };
        args = format!(
            "{args}; served GET {}, {answered}, then stopped",
            first.requests.join(" ")
        );
    }
    let codes: Vec<String> = codes.iter().map(i32::to_string).collect();
    let exit = match codes.as_slice() {
        [code] => format!("exit code {code}"),
        _ => format!("exit codes {}", codes.join(", ")),
    };
    let stdout = match digests.as_slice() {
        [digest] => format!(
            "stdout {} sha256 {}",
            format_bytes(samples[0].stdout_bytes),
            &digest[..digest.len().min(8)]
        ),
        _ => format!("stdout differs between samples ({} digests)", digests.len()),
    };
    let count = match samples.len() {
        1 => "in its 1 sample".to_string(),
        n => format!("in all {n} samples"),
    };
    Some(format!("{what} ({args}): {exit}, {stdout}, {count}"))
}

/// The median over samples of the time a run took to get a loaded module: every phase before
/// `instantiate` (read, hash, lookup and load on a hit; read through store on a cold run).
/// `None` when its phases were not sampled alike.
pub fn load_ns(run: &Run) -> Option<f64> {
    let loading: Vec<&Stats> = run
        .phases
        .iter()
        .filter(|(phase, _)| **phase < Phase::Instantiate && !phase.is_milestone())
        .map(|(_, stats)| stats)
        .collect();
    let samples = loading.first()?.samples_ns.len();
    if samples == 0 || loading.iter().any(|s| s.samples_ns.len() != samples) {
        return None;
    }
    let sums: Vec<u64> = (0..samples)
        .map(|i| loading.iter().map(|s| s.samples_ns[i]).sum())
        .collect();
    summarize(&sums).ok().map(|stats| stats.median_ns)
}

/// "where the time goes" on a run: its largest phases with their share of the phase sum
/// (milestones, which overlap the phases before them, left out).
pub fn where_time_goes(run: &Run) -> Option<String> {
    let mut phases: Vec<(Phase, f64)> = run
        .phases
        .iter()
        .filter(|(p, _)| !p.is_milestone())
        .map(|(p, s)| (*p, s.median_ns))
        .collect();
    let sum: f64 = phases.iter().map(|(_, ns)| ns).sum();
    if sum <= 0.0 {
        return None;
    }
    phases.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top: Vec<String> = phases
        .iter()
        .take(TOP_PHASES)
        .map(|(p, ns)| format!("{p} {:.0}%", ns / sum * 100.0))
        .collect();
    Some(format!(
        "where the time goes ({} {}): {}",
        run.path,
        run.hash,
        top.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures;

    #[test]
    fn the_program_note_names_the_workload_codes_and_digests() {
        let crate::model::Report::Phases(mut report) = fixtures::phases_report() else {
            unreachable!()
        };
        let notes = &tables(&report)[0].notes;
        assert_eq!(
            notes[0],
            "workload `demo` (args `-d /in/p.smt2`): exit code 10, stdout differs between \
             samples (2 digests), in all 15 samples"
        );
        for run in &mut report.runs {
            let program = run.program.as_mut().unwrap();
            program.samples.truncate(1);
            program.samples[0].stdout_sha256 = "5a".repeat(32);
        }
        report.runs.truncate(1);
        assert_eq!(
            tables(&report)[0].notes[0],
            "workload `demo` (args `-d /in/p.smt2`): exit code 10, stdout 178 B sha256 5a5a5a5a, \
             in its 1 sample"
        );
    }
}
