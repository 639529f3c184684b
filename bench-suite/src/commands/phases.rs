//! `wasm-prof phases`: times every phase of each module's life on the chosen cache paths, one
//! fresh child process per sample.

use std::{
    io::IsTerminal as _,
    path::{Path, PathBuf},
};

use anyhow::{Context, ensure};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wasm_prof_runtime::cache::HashAlgo;

use crate::{
    analysis::{
        outliers::outliers,
        runs::{RunKey, run_from_records},
    },
    commands::{
        Command, Outcome,
        gate::{judge, load_phases},
        print_tables,
    },
    corpus::{self, DEFAULT_WORKLOAD},
    engines::EngineName,
    export::{ExportArgs, ExportManager, write_file},
    machine,
    model::{EngineInfo, PHASES_SCHEMA, PathKind, PhasesReport, Report, Run},
    module_file::ModuleFile,
    render,
    sampling::child_process::{Sampler, Target},
    sampling::in_process::{SampleOutput, engine_fingerprint},
    units::parse_threshold,
    warnings::{self, Warning},
};

/// Which hash algorithms to key the cache with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashSelection {
    /// Every algorithm this CPU supports.
    All,
    /// One algorithm.
    One(HashAlgo),
}

fn parse_hash_selection(text: &str) -> Result<HashSelection, String> {
    if text.eq_ignore_ascii_case("all") {
        return Ok(HashSelection::All);
    }
    text.parse()
        .map(HashSelection::One)
        .map_err(|e| format!("{e}, or all"))
}

/// Times every phase of a module's life: cold (empty cache), cached (primed cache) and
/// nocache (cache disabled), each sample in a fresh process.
#[derive(Debug, Args)]
pub struct PhasesCommand {
    /// Modules to measure (default: the embedded workload, unless --corpus is given).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Also measure every fetched module listed in corpora/manifest.toml.
    #[arg(long)]
    corpus: bool,
    /// Engines to measure, comma-separated: wasm-prof, and with the `peers` feature wasmtime
    /// and wasmer.
    #[arg(long, value_delimiter = ',', default_value = "wasm-prof")]
    engine: Vec<EngineName>,
    /// Cache paths to measure, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [PathKind::Cold, PathKind::Cached, PathKind::Nocache])]
    paths: Vec<PathKind>,
    /// Timed samples per module and path.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Untimed samples per module and path before the timed ones.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Cache-key hash algorithm (sha256, blake2b, blake2bp, blake3, xxh3, meowhash), or `all`.
    #[arg(long, value_name = "ALGO|all", default_value = "blake3", value_parser = parse_hash_selection)]
    hash: HashSelection,
    /// Where the cache directories go (default: a temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compare with this phases report afterwards; exit 3 on a significant regression.
    #[arg(long, value_name = "OLD.json")]
    baseline: Option<PathBuf>,
    /// Changes within ± this percentage never count as regressions.
    #[arg(long, default_value = "5%", value_parser = parse_threshold)]
    threshold: f64,
    /// Also save the report as reports/baselines/NAME.json.
    #[arg(long, value_name = "NAME")]
    save_baseline: Option<String>,
    #[command(flatten)]
    exports: ExportArgs,
}

/// What to sample: an engine, a path, the `--hash` the child is given, and the name reports
/// use.
struct Series {
    engine: EngineName,
    path: PathKind,
    arg: String,
    hash_name: String,
}

impl Series {
    fn target(&self) -> Target<'_> {
        Target {
            engine: self.engine,
            hash: &self.arg,
        }
    }
}

fn series(engines: &[EngineName], paths: &[PathKind], algos: &[HashAlgo]) -> Vec<Series> {
    let mut out = Vec::new();
    for &engine in engines {
        for &path in paths {
            if engine != EngineName::WasmProf {
                out.extend(engine.peer_hashes(path).into_iter().map(|hash| Series {
                    engine,
                    path,
                    arg: hash.clone(),
                    hash_name: hash,
                }));
            } else if path == PathKind::Nocache {
                out.push(Series {
                    engine,
                    path,
                    arg: algos[0].name().to_string(),
                    hash_name: "none".to_string(),
                });
            } else {
                out.extend(algos.iter().map(|&algo| Series {
                    engine,
                    path,
                    arg: algo.name().to_string(),
                    hash_name: algo.name().to_string(),
                }));
            }
        }
    }
    out
}

fn progress_bar(len: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg:30} [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// One warning per run that has outliers, naming the phases they are in.
fn outlier_warning(run: &Run) -> Option<Warning> {
    let mut phases = Vec::new();
    let (mut count, mut total) = (0, 0);
    for (phase, stats) in &run.phases {
        let flagged = outliers(&stats.samples_ns).len();
        total += stats.samples_ns.len();
        if flagged > 0 {
            count += flagged;
            phases.push(phase.name());
        }
    }
    (count > 0).then(|| Warning::Outliers {
        what: format!("{} (in {})", run.label(), phases.join(", ")),
        count,
        total,
    })
}

impl PhasesCommand {
    fn algos(&self, notes: &mut Vec<Warning>) -> anyhow::Result<Vec<HashAlgo>> {
        match self.hash {
            HashSelection::One(algo) => {
                algo.check_supported()?;
                Ok(vec![algo])
            }
            HashSelection::All => {
                let mut algos = Vec::new();
                for algo in HashAlgo::ALL {
                    match algo.check_supported() {
                        Ok(()) => algos.push(algo),
                        Err(e) => notes.push(Warning::SkippedAlgo {
                            algo: algo.name().to_string(),
                            reason: e.to_string(),
                        }),
                    }
                }
                Ok(algos)
            }
        }
    }

    fn modules(&self, scratch: &Path) -> anyhow::Result<Vec<ModuleFile>> {
        let mut modules = self
            .files
            .iter()
            .map(|f| ModuleFile::from_path(f))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if self.corpus {
            for path in corpus::fetched_modules(&corpus::project_root())? {
                modules.push(ModuleFile::from_path(&path)?);
            }
        }
        if modules.is_empty() {
            let path = scratch.join("workload.wasm");
            std::fs::write(&path, DEFAULT_WORKLOAD).with_context(|| {
                format!("cannot write the default workload to {}", path.display())
            })?;
            modules.push(ModuleFile::open(&path, "workload")?);
        }
        Ok(modules)
    }

    fn save_baseline(&self, report: &Report) -> anyhow::Result<()> {
        let Some(name) = &self.save_baseline else {
            return Ok(());
        };
        ensure!(
            !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..",
            "the baseline name `{name}` must be a plain file name without slashes"
        );
        let path = corpus::project_root()
            .join("reports/baselines")
            .join(format!("{name}.json"));
        write_file(&path, &report.to_json()?)?;
        eprintln!("saved the baseline {}", path.display());
        Ok(())
    }
}

fn collect(
    sampler: &Sampler,
    module: &ModuleFile,
    s: &Series,
    warmup: u64,
    runs: u64,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<SampleOutput>> {
    bar.set_message(format!(
        "{} {} {} {}",
        module.info.name, s.engine, s.path, s.hash_name
    ));
    sampler.prepare(&module.path, s.path, s.target())?;
    for _ in 0..warmup {
        sampler.sample(&module.path, s.path, s.target())?;
        bar.inc(1);
    }
    (0..runs)
        .map(|_| {
            let record = sampler.sample(&module.path, s.path, s.target());
            bar.inc(1);
            record
        })
        .collect()
}

impl Command for PhasesCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        let exports = ExportManager::new(&self.exports)?;
        let baseline = self.baseline.as_deref().map(load_phases).transpose()?;
        let mut notes = warnings::environment(self.runs as usize);
        let algos = self.algos(&mut notes)?;
        ensure!(!algos.is_empty(), "no hash algorithm can run on this CPU");
        for engine in &self.engine {
            engine.check_available()?;
        }
        let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
        let cache_root = self
            .cache_dir
            .clone()
            .unwrap_or_else(|| scratch.path().join("cache"));
        let modules = self.modules(scratch.path())?;
        let sampler = Sampler::new(&cache_root)?;
        let series = series(&self.engine, &self.paths, &algos);
        let bar = progress_bar((modules.len() * series.len()) as u64 * (self.warmup + self.runs));
        let mut report = PhasesReport {
            schema: PHASES_SCHEMA.to_string(),
            host: machine::detect(),
            engine: EngineInfo {
                fingerprint: engine_fingerprint()?,
            },
            runs: Vec::new(),
        };
        let to_stderr = exports.uses_stdout();
        for module in &modules {
            for s in &series {
                let outputs = collect(&sampler, module, s, self.warmup, self.runs, &bar)?;
                let key = RunKey {
                    module: module.info.clone(),
                    path: s.path,
                    hash: s.hash_name.clone(),
                    engine: s.engine.to_string(),
                };
                let records: Vec<_> = outputs.iter().map(|o| o.record.clone()).collect();
                let mut run = run_from_records(key, &records)?;
                run.artifact_bytes = outputs.iter().filter_map(|o| o.artifact_bytes).max();
                notes.extend(outlier_warning(&run));
                report.runs.push(run);
            }
            let tables = render::phases::tables(&report);
            bar.suspend(|| print_tables(&tables[tables.len() - 1..], to_stderr))?;
            exports.checkpoint(&Report::Phases(report.clone()))?;
        }
        bar.finish_and_clear();
        warnings::emit(&notes);
        let outcome = match &baseline {
            Some(old) => judge(old, &report, self.threshold, to_stderr)?,
            None => Outcome::Success,
        };
        let report = Report::Phases(report);
        exports.finish(&report)?;
        self.save_baseline(&report)?;
        Ok(outcome)
    }
}
