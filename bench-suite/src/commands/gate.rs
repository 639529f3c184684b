//! `wasm-prof gate`: fails (exit 3) when something regressed against a baseline. Three gates:
//! wall-clock phases reports compared with bootstrap confidence intervals (`gate --baseline
//! OLD.json --current NEW.json`), the same comparison of two builds measured in turn in one run
//! (`gate wall-clock`, in [`super::wall_clock_gate`]), and the deterministic gate (`gate
//! deterministic`), which measures builds under callgrind and compares sizes and instruction
//! counts.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use wasm_prof_runtime::cache::HashAlgo;

use crate::{
    analysis::{
        compare::Verdict,
        regression::{GateResult, Sampling, Tolerance, gate},
    },
    commands::{Command, Outcome, load_report, print_tables, wall_clock_gate::WallClockGate},
    corpus::{DEFAULT_WORKLOAD, project_root},
    deterministic::{
        BASELINE_FILE, Measurement, Origin, baseline_build, callgrind, compare::compare, measure,
    },
    export::{ExportArgs, ExportManager, write_file},
    model::{GATE_SCHEMA, GateKind, GateReport, GateRow, GateVerdict, PhasesReport, Report},
    render,
    units::{parse_duration_ns, parse_threshold},
};

/// Compares two phases reports phase by phase, or measures and compares two builds: phase by
/// phase (`gate wall-clock`) or by sizes and instruction counts (`gate deterministic`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct GateCommand {
    /// A gate that measures two builds itself instead of comparing two phases reports.
    #[command(subcommand)]
    kind: Option<GateKindCommand>,
    /// The reference phases report.
    #[arg(long, value_name = "OLD.json", required = true)]
    baseline: Option<PathBuf>,
    /// The phases report to judge.
    #[arg(long, value_name = "NEW.json", required = true)]
    current: Option<PathBuf>,
    #[command(flatten)]
    tolerance: ToleranceArgs,
    #[command(flatten)]
    exports: ExportArgs,
}

/// How large a wall-clock change must be to count.
#[derive(Debug, Args)]
pub struct ToleranceArgs {
    /// Changes within ± this percentage never count, however certain.
    #[arg(long, default_value = "5%", value_parser = parse_threshold)]
    threshold: f64,
    /// Changes smaller than this duration never count, however certain (like 20us or 1ms): a
    /// phase of a few microseconds moves by more than any percentage with the page cache and
    /// the scheduler; the deterministic gate judges those.
    #[arg(long, value_name = "DURATION", default_value = "20us", value_parser = parse_duration_ns)]
    min_change: f64,
}

impl ToleranceArgs {
    /// The tolerance these options give.
    pub fn tolerance(&self) -> Tolerance {
        Tolerance {
            relative: self.threshold,
            floor_ns: self.min_change,
        }
    }
}

/// The gates that measure as well as compare.
#[derive(Debug, Subcommand)]
pub enum GateKindCommand {
    /// Measure this build and a baseline build (another revision, or another binary) in turn,
    /// sample by sample, on the phases paths, and compare phase by phase: exit 3 on a
    /// regression, 0 when none. Takes the options of `phases`.
    WallClock(Box<WallClockGate>),
    /// Measure code and artifact bytes and callgrind instruction counts of cold, cached and
    /// no-cache loading of a module, for this build and a baseline, and compare: exit 3 on a
    /// regression, 0 when none, 1 when nothing could be judged.
    Deterministic(Box<DeterministicGate>),
}

/// The deterministic gate's options.
#[derive(Debug, Args)]
pub struct DeterministicGate {
    /// The committed baseline measurement, used when it is comparable with this machine's
    /// measurements (same valgrind, CPU features and module); otherwise the revision that last
    /// changed it is built and measured here.
    #[arg(long, value_name = "FILE", default_value = BASELINE_FILE)]
    baseline: PathBuf,
    /// Build this revision in a temporary git worktree and measure it next to the current build,
    /// instead of reading the baseline file.
    #[arg(long, value_name = "REV", conflicts_with = "against_bin")]
    against: Option<String>,
    /// Measure this wasm-prof binary as the baseline build.
    #[arg(long, value_name = "FILE")]
    against_bin: Option<PathBuf>,
    /// The wasm-prof binary to judge [default: this one].
    #[arg(long, value_name = "FILE")]
    bin: Option<PathBuf>,
    /// Measure, write the baseline file, and compare nothing.
    #[arg(long, conflicts_with_all = ["against", "against_bin"])]
    update: bool,
    /// Also save the current measurement to FILE.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// The module to load [default: the embedded workload].
    #[arg(long, value_name = "FILE")]
    module: Option<PathBuf>,
    /// The cache-key hash algorithm.
    #[arg(long, default_value = "blake3")]
    hash: HashAlgo,
    #[command(flatten)]
    exports: ExportArgs,
}

/// Loads a report that must be a phases report.
///
/// # Errors
/// When the file cannot be loaded or holds another kind of report.
pub fn load_phases(path: &Path) -> anyhow::Result<PhasesReport> {
    match load_report(path)? {
        Report::Phases(r) => Ok(r),
        Report::Hashes(_) | Report::Gate(_) => bail!(
            "{} is not a phases report; the gate compares phases reports",
            path.display()
        ),
    }
}

/// The wall-clock comparison `result` as a gate report: every compared phase of every matched
/// run, its current value's interval taken from the confidence interval of the change.
pub fn wall_clock_report(
    result: &GateResult,
    baseline: &str,
    current: &str,
    tolerance: Tolerance,
) -> GateReport {
    let rows = result
        .changes
        .iter()
        .map(|change| {
            let c = &change.comparison;
            GateRow {
                benchmark: change.run.clone(),
                measure: change.metric.name().to_string(),
                unit: "ns".to_string(),
                baseline: c.baseline_median_ns,
                current: c.current_median_ns,
                current_low: Some(c.baseline_median_ns * (1.0 + c.ci_low)),
                current_high: Some(c.baseline_median_ns * (1.0 + c.ci_high)),
                change: c.change,
                tolerance: tolerance.relative,
                verdict: match c.verdict {
                    Verdict::Regressed => GateVerdict::Regressed,
                    Verdict::Improved => GateVerdict::Improved,
                    Verdict::Unchanged => GateVerdict::Ok,
                },
            }
        })
        .collect();
    let notes = result
        .unmatched_current
        .iter()
        .map(|r| format!("no baseline for {r}"))
        .chain(
            result
                .unmatched_baseline
                .iter()
                .map(|r| format!("not measured now: {r}")),
        )
        .collect();
    GateReport {
        schema: GATE_SCHEMA.to_string(),
        kind: GateKind::WallClock,
        baseline: baseline.to_string(),
        current: current.to_string(),
        rows,
        notes,
    }
}

/// Compares `current` with `baseline`, prints the result, and says whether it regressed.
///
/// # Errors
/// When the result cannot be printed.
pub fn judge(
    baseline: &PhasesReport,
    current: &PhasesReport,
    tolerance: Tolerance,
    to_stderr: bool,
) -> anyhow::Result<Outcome> {
    announce(
        &gate(baseline, current, tolerance, Sampling::Independent),
        tolerance,
        to_stderr,
    )
}

/// Prints a wall-clock comparison and says whether it regressed.
///
/// # Errors
/// When the result cannot be printed.
pub fn announce(
    result: &GateResult,
    tolerance: Tolerance,
    to_stderr: bool,
) -> anyhow::Result<Outcome> {
    print_tables(&[render::gate::table(result, tolerance)], to_stderr)?;
    Ok(if result.regressed() {
        Outcome::Regressed
    } else {
        Outcome::Success
    })
}

impl Command for GateCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        match self.kind {
            Some(GateKindCommand::Deterministic(gate)) => return gate.execute(),
            Some(GateKindCommand::WallClock(gate)) => return gate.execute(),
            None => {}
        }
        let (Some(baseline_path), Some(current_path)) = (&self.baseline, &self.current) else {
            bail!(
                "give --baseline OLD.json and --current NEW.json, or use `gate wall-clock` or \
                 `gate deterministic`"
            );
        };
        let exports = ExportManager::for_gate(&self.exports)?;
        let baseline = load_phases(baseline_path)?;
        let current = load_phases(current_path)?;
        let tolerance = self.tolerance.tolerance();
        let result = gate(&baseline, &current, tolerance, Sampling::Independent);
        let outcome = announce(&result, tolerance, exports.uses_stdout())?;
        let report = wall_clock_report(
            &result,
            &baseline_path.display().to_string(),
            &current_path.display().to_string(),
            tolerance,
        );
        exports.finish(&Report::Gate(report))?;
        Ok(outcome)
    }
}

impl DeterministicGate {
    /// Measures `bin` in a fresh scratch directory.
    fn measure(&self, bin: &Path, module: &Path, valgrind: &str) -> anyhow::Result<Measurement> {
        let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
        eprintln!("gate: measuring {} under callgrind", bin.display());
        measure::measure(
            &measure::Subject {
                bin,
                module,
                hash: self.hash,
                valgrind,
            },
            scratch.path(),
        )
    }

    /// Builds and measures `rev`.
    fn measure_revision(
        &self,
        root: &Path,
        commit: &str,
        module: &Path,
        valgrind: &str,
    ) -> anyhow::Result<(Measurement, String)> {
        let build = baseline_build::build(root, commit)?;
        let measurement = self.measure(&build.bin, module, valgrind)?;
        Ok((measurement, build.measured_now()))
    }
}

impl Command for DeterministicGate {
    fn execute(self) -> anyhow::Result<Outcome> {
        let exports = ExportManager::for_gate(&self.exports)?;
        let root = project_root();
        let valgrind = callgrind::valgrind_version()?;
        let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
        let module = match &self.module {
            Some(path) => path.clone(),
            None => {
                let path = scratch.path().join("workload.wasm");
                std::fs::write(&path, DEFAULT_WORKLOAD)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                path
            }
        };
        let bin = match &self.bin {
            Some(bin) => bin.clone(),
            None => std::env::current_exe().context("cannot find this program's own path")?,
        };
        let current = self.measure(&bin, &module, &valgrind)?;
        if let Some(save) = &self.save {
            write_file(save, &current.to_json()?)?;
        }
        if self.update {
            let path = root.join(&self.baseline);
            write_file(&path, &current.to_json()?)?;
            eprintln!("gate: wrote the baseline {}: commit it", path.display());
            return Ok(Outcome::Success);
        }
        let (baseline, baseline_from, origin) = if let Some(against) = &self.against_bin {
            (
                self.measure(against, &module, &valgrind)?,
                format!("{} measured now", against.display()),
                Origin::MeasuredNow,
            )
        } else if let Some(rev) = &self.against {
            let commit = baseline_build::resolve(&root, rev)?;
            let (measured, from) = self.measure_revision(&root, &commit, &module, &valgrind)?;
            (measured, from, Origin::MeasuredNow)
        } else {
            let path = root.join(&self.baseline);
            let committed = Measurement::load(&path)?;
            let differences = committed.incomparable_with(&current, Origin::Recorded);
            if differences.is_empty() {
                (committed, path.display().to_string(), Origin::Recorded)
            } else {
                let file = self.baseline.display().to_string();
                let why = format!(
                    "{file} is not comparable with this machine's measurements ({})",
                    differences.join("; ")
                );
                let commit = baseline_build::last_change(&root, &file).with_context(|| {
                    format!("{why}, and the revision it was measured at cannot be found")
                })?;
                eprintln!(
                    "gate: {why}: measuring the revision that last changed it, {}, here",
                    &commit[..12]
                );
                let (measured, from) = self.measure_revision(&root, &commit, &module, &valgrind)?;
                (measured, from, Origin::MeasuredNow)
            }
        };
        let report = compare(
            (&baseline, &baseline_from),
            (&current, &format!("{} measured now", bin.display())),
            origin,
        )?;
        print_tables(
            &[render::gate::report_table(&report)],
            exports.uses_stdout(),
        )?;
        let regressed = report.regressed();
        exports.finish(&Report::Gate(report))?;
        if regressed {
            eprintln!(
                "gate: a measure grew beyond its tolerance (REGRESSED above); if the growth is \
                 intended, run `wasm-prof gate deterministic --update` and commit {}",
                self.baseline.display()
            );
            return Ok(Outcome::Regressed);
        }
        eprintln!("gate: no regression");
        Ok(Outcome::Success)
    }
}
