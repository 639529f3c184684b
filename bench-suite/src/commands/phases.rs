//! `wasm-prof phases`: times every phase of each module's life on the chosen cache paths, one
//! fresh child process per sample.

use std::{
    collections::HashSet,
    io::{IsTerminal as _, Write as _},
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail, ensure};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wasm_prof_runtime::cache::HashAlgo;

use crate::{
    analysis::{
        outliers::outliers,
        regression::Tolerance,
        runs::{RunKey, run_from_records},
    },
    commands::{
        Command, Outcome,
        gate::{ToleranceArgs, judge, load_phases},
        print_tables,
    },
    corpus::{self, DEFAULT_WORKLOAD, Manifest},
    engines::EngineName,
    export::{ExportArgs, ExportManager, write_file},
    guest::{ExpectExit, Guest, GuestArgs, parse_seconds},
    machine,
    model::{
        EngineInfo, PHASES_SCHEMA, PathKind, PhasesReport, ProgramRun, RemoteTierCounts, Report,
        Run, StdoutMismatch,
    },
    module_file::ModuleFile,
    render,
    sampling::child_process::{Job, Sample, Sampler, Target, with_stderr_tail},
    sampling::in_process::engine_fingerprint,
    warnings::{self, Warning},
    workloads::{EMBEDDED, ModuleSource, Workload, WorkloadKind, Workloads},
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
/// nocache (cache disabled), each sample in a fresh process. A WASI program runs to its exit
/// in every sample, with the guest options given (`phases FILE -- ARGS`) or a workload's.
#[derive(Debug, Args)]
pub struct PhasesCommand {
    /// Modules to measure (default: the embedded workload, unless --workload or --corpus is
    /// given).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Also measure this workload of corpora/workloads.toml (repeatable).
    #[arg(long = "workload", value_name = "NAME")]
    workloads: Vec<String>,
    /// Also measure every workload of corpora/workloads.toml, and every other fetched module of
    /// corpora/manifest.toml (those are compiled and instantiated only).
    #[arg(long)]
    corpus: bool,
    /// The exit code every sample of a program must end with, or `any` [default: 0, or a
    /// workload's `expect_exit`].
    #[arg(long, value_name = "CODE|any")]
    expect_exit: Option<ExpectExit>,
    /// Seconds a server (a guest given --tcplisten, or a server workload) may take to answer
    /// all its requests in a sample.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    timeout: f64,
    /// Print each program's stdout and stderr from its first sample after its table.
    #[arg(long)]
    show_output: bool,
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
    /// A remote cache tier (`redis://HOST[:PORT]` or `s3://BUCKET[/PREFIX]`, repeatable) for
    /// the `remote` path, which it primes; the cold path then also uploads to it (after
    /// clearing the module from it). Use a store of your own: the module's entries are removed.
    #[arg(long = "cache-remote", value_name = "URL")]
    cache_remote: Vec<String>,
    /// Where the cache directories go (default: a temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Hash the module on every sample, never taking its digest from the cache's stat index
    /// (the cached path then shows `hash` where it showed `key_lookup`).
    #[arg(long)]
    no_stat_index: bool,
    /// Compare with this phases report afterwards; exit 3 on a significant regression.
    #[arg(long, value_name = "OLD.json")]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    tolerance: ToleranceArgs,
    /// Also save the report as reports/baselines/NAME.json.
    #[arg(long, value_name = "NAME")]
    save_baseline: Option<String>,
    #[command(flatten)]
    exports: ExportArgs,
    /// The guest's arguments, environment, directories, stdin and entry point, for FILE (or
    /// the embedded workload); a workload brings its own.
    #[command(flatten)]
    guest: GuestArgs,
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

/// One warning per run that has outliers, naming the phases they are in (and the build, when
/// `build` names one of several).
fn outlier_warning(run: &Run, build: Option<&str>) -> Option<Warning> {
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
        what: match build {
            Some(build) => format!(
                "{} of the {build} build (in {})",
                run.label(),
                phases.join(", ")
            ),
            None => format!("{} (in {})", run.label(), phases.join(", ")),
        },
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

    /// What to measure, in order: the FILEs, the `--workload`s, then with `--corpus` every
    /// other workload and every corpus module no workload uses; else the embedded workload.
    fn plans(&self, scratch: &Path) -> anyhow::Result<Vec<Plan>> {
        let guest = self.guest.guest()?;
        let for_files = !self.files.is_empty() || (self.workloads.is_empty() && !self.corpus);
        ensure!(
            guest.is_empty() || for_files,
            "--dir, --env, --stdin, --invoke and `-- ARGS` are for FILE (or the embedded \
             workload): a workload brings its own from {}",
            crate::workloads::WORKLOADS
        );
        guest.check()?;
        let expect_exit = self.expect_exit.unwrap_or_default();
        let mut plans = Vec::new();
        for file in &self.files {
            plans.push(Plan {
                module: ModuleFile::from_path(file)?,
                what: file.display().to_string(),
                execute: if guest.is_empty() {
                    Execute::Auto
                } else {
                    Execute::Program
                },
                guest: guest.clone(),
                expect_exit,
                exit_from_workload: false,
                expect_stdout: None,
                workload: None,
                note: None,
            });
        }
        if !self.workloads.is_empty() || self.corpus {
            let root = corpus::project_root();
            let workloads = Workloads::load(&root)?;
            let manifest = Manifest::load(&root)?;
            let mut chosen: Vec<&Workload> = Vec::new();
            for name in &self.workloads {
                let workload = workloads.get(name)?;
                if !chosen.iter().any(|w| w.name == workload.name) {
                    chosen.push(workload);
                }
            }
            if self.corpus {
                for workload in &workloads.workloads {
                    if !chosen.iter().any(|w| w.name == workload.name) {
                        chosen.push(workload);
                    }
                }
            }
            for workload in chosen {
                plans.push(self.workload_plan(workload, &root, &manifest, scratch)?);
            }
            if self.corpus {
                for entry in &manifest.modules {
                    if workloads.workloads.iter().any(|w| w.module == entry.name) {
                        continue;
                    }
                    let path = entry.fetched_path(&root)?;
                    plans.push(Plan {
                        module: ModuleFile::open(&path, &entry.name)?,
                        what: path.display().to_string(),
                        guest: Guest::default(),
                        execute: Execute::InstantiateOnly,
                        expect_exit: ExpectExit::Any,
                        exit_from_workload: false,
                        expect_stdout: None,
                        workload: None,
                        note: Some(format!(
                            "compiled and instantiated only: {} is a {} ({}) with no workload in \
                             {}, so `execute` is not measured",
                            entry.name,
                            entry.kind,
                            entry.imports,
                            crate::workloads::WORKLOADS
                        )),
                    });
                }
            }
        }
        if plans.is_empty() {
            plans.push(Plan {
                module: ModuleFile::open(&embedded(scratch)?, "workload")?,
                what: "the embedded workload".to_string(),
                guest,
                execute: Execute::Program,
                expect_exit,
                exit_from_workload: false,
                expect_stdout: None,
                workload: None,
                note: None,
            });
        }
        // Reports tell runs apart by name: a second module of the same name gets a suffix.
        let mut names = HashSet::new();
        for plan in &mut plans {
            let base = plan.module.info.name.clone();
            let mut n = 1;
            while !names.insert(plan.module.info.name.clone()) {
                n += 1;
                plan.module.info.name = format!("{base}#{n}");
            }
        }
        Ok(plans)
    }

    fn workload_plan(
        &self,
        workload: &Workload,
        root: &Path,
        manifest: &Manifest,
        scratch: &Path,
    ) -> anyhow::Result<Plan> {
        let path = match workload.module_source(root, manifest)? {
            ModuleSource::Embedded => embedded(scratch)?,
            ModuleSource::File(path) => path,
        };
        let execute = match workload.kind {
            WorkloadKind::Command | WorkloadKind::Reactor | WorkloadKind::Server => {
                Execute::Program
            }
            WorkloadKind::Library => Execute::InstantiateOnly,
        };
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let module = if workload.module == EMBEDDED {
            "the embedded workload".to_string()
        } else {
            shown
        };
        Ok(Plan {
            module: ModuleFile::open(&path, &workload.name)?,
            what: format!("workload {} ({module})", workload.name),
            guest: workload.guest(root)?,
            execute,
            expect_exit: self.expect_exit.unwrap_or(workload.expect_exit),
            exit_from_workload: self.expect_exit.is_none(),
            expect_stdout: workload.stdout_sha256.clone(),
            workload: Some(workload.name.clone()),
            note: (execute == Execute::InstantiateOnly).then(|| {
                "compiled and instantiated only (kind = \"library\"), so `execute` is not \
                 measured"
                    .to_string()
            }),
        })
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

/// The embedded workload, written once into the scratch directory.
fn embedded(scratch: &Path) -> anyhow::Result<PathBuf> {
    let path = scratch.join("workload.wasm");
    if !path.exists() {
        std::fs::write(&path, DEFAULT_WORKLOAD)
            .with_context(|| format!("cannot write the default workload to {}", path.display()))?;
    }
    Ok(path)
}

/// Whether the samples of a plan run a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Execute {
    /// When the module is a WASI command (a FILE given without guest options).
    Auto,
    /// Always: a module that is not a WASI program is an error.
    Program,
    /// Never: compile and instantiate only.
    InstantiateOnly,
}

/// One thing to measure: a module and what each of its samples does.
struct Plan {
    /// The module; its name is the run's (a workload's name for a workload).
    module: ModuleFile,
    /// How messages name it: the file as given, or `workload NAME (FILE)`.
    what: String,
    guest: Guest,
    execute: Execute,
    expect_exit: ExpectExit,
    /// Whether `expect_exit` is a workload's own (no --expect-exit overrode it).
    exit_from_workload: bool,
    /// The stdout digest a workload promises.
    expect_stdout: Option<String>,
    workload: Option<String>,
    /// Said under the module's table.
    note: Option<String>,
}

impl Plan {
    fn job(&self) -> Job<'_> {
        Job {
            module: &self.module.path,
            guest: &self.guest,
            execute: self.execute != Execute::InstantiateOnly,
        }
    }
}

/// Checks every sample of a plan as it arrives: exit code, promised digest, and the digest of
/// the plan's first sample.
struct OutputCheck<'a> {
    plan: &'a Plan,
    /// The first sample that ran the program: where it was taken, and what it printed.
    first: Option<(String, Sample)>,
    mismatches: Vec<StdoutMismatch>,
}

impl<'a> OutputCheck<'a> {
    fn new(plan: &'a Plan) -> Self {
        Self {
            plan,
            first: None,
            mismatches: Vec::new(),
        }
    }

    fn check(&mut self, s: &Series, label: &str, sample: &Sample) -> anyhow::Result<()> {
        let plan = self.plan;
        let Some(program) = &sample.output.program else {
            ensure!(
                s.engine != EngineName::WasmProf || plan.execute != Execute::Program,
                "{} did not run as a program: it must import nothing but \
                 wasi_snapshot_preview1 and export `_start` (or be given an export to \
                 --invoke)",
                plan.what
            );
            return Ok(());
        };
        let path = s.path;
        if !plan.expect_exit.accepts(program.exit_code) {
            let code = program.exit_code;
            let how = if plan.exit_from_workload {
                format!("as {} says", crate::workloads::WORKLOADS)
            } else {
                format!("pass --expect-exit {code}, or --expect-exit any to accept every code")
            };
            bail!(with_stderr_tail(
                format!(
                    "{} exited with code {code} on the {path} path ({label}), expected {} ({how})",
                    plan.what, plan.expect_exit
                ),
                &sample.stderr
            ));
        }
        if let Some(expected) = &plan.expect_stdout
            && program.stdout_sha256 != *expected
        {
            bail!(with_stderr_tail(
                format!(
                    "{}: its stdout on the {path} path ({label}) has sha256 {}, not the {} that \
                     {} promises ({} bytes; run it with --show-output)",
                    plan.what,
                    program.stdout_sha256,
                    expected,
                    crate::workloads::WORKLOADS,
                    program.stdout_bytes
                ),
                &sample.stderr
            ));
        }
        match &self.first {
            None => self.first = Some((format!("{path} {label}"), sample.clone())),
            Some((from, first)) => {
                let expected = first
                    .output
                    .program
                    .as_ref()
                    .map(|p| p.stdout_sha256.clone())
                    .unwrap_or_default();
                let expected_responses = first
                    .output
                    .program
                    .as_ref()
                    .and_then(|p| p.responses_sha256.clone());
                if program.responses_sha256 != expected_responses {
                    bail!(with_stderr_tail(
                        format!(
                            "{}: the server's responses on the {path} path ({label}) differ \
                             from those of the {from} (sha256 {} vs {})",
                            plan.what,
                            program.responses_sha256.as_deref().unwrap_or("none"),
                            expected_responses.as_deref().unwrap_or("none")
                        ),
                        &sample.stderr
                    ));
                }
                if program.stdout_sha256 != expected {
                    let mismatch = StdoutMismatch {
                        module: plan.module.info.name.clone(),
                        path,
                        hash: s.hash_name.clone(),
                        engine: s.engine.to_string(),
                        sample: label.to_string(),
                        expected_sha256: expected,
                        expected_from: from.clone(),
                        actual_sha256: program.stdout_sha256.clone(),
                    };
                    self.mismatches.push(mismatch);
                }
            }
        }
        Ok(())
    }
}

/// Takes one series' samples with each sampler (one per build), alternating between them
/// sample by sample and starting each round with the other end (ABBA), so that a slow moment
/// of the machine falls on every build alike: the timed samples, one list per sampler.
fn collect(
    samplers: &[(Sampler, &str)],
    plan: &Plan,
    s: &Series,
    (warmup, runs): (u64, u64),
    bar: &ProgressBar,
    check: &mut OutputCheck,
) -> anyhow::Result<Vec<Vec<Sample>>> {
    bar.set_message(format!(
        "{} {} {} {}",
        plan.module.info.name, s.engine, s.path, s.hash_name
    ));
    let job = plan.job();
    let of_build = |name: &str| match samplers.len() {
        1 => String::new(),
        _ => format!(" of the {name} build"),
    };
    for (sampler, name) in samplers {
        for (label, sample) in sampler.prepare(job, s.path, s.target())? {
            check.check(s, &format!("{label}{}", of_build(name)), &sample)?;
        }
    }
    let mut taken = vec![Vec::new(); samplers.len()];
    for round in 1..=warmup + runs {
        let order: Vec<usize> = if round % 2 == 1 {
            (0..samplers.len()).collect()
        } else {
            (0..samplers.len()).rev().collect()
        };
        for index in order {
            let (sampler, name) = &samplers[index];
            let sample = sampler.sample(job, s.path, s.target())?;
            let label = match round.checked_sub(warmup + 1) {
                None => format!("warmup {round}"),
                Some(i) => format!("sample {}", i + 1),
            };
            check.check(s, &format!("{label}{}", of_build(name)), &sample)?;
            bar.inc(1);
            if round > warmup {
                taken[index].push(sample);
            }
        }
    }
    Ok(taken)
}

/// What the program did in a run's timed samples, when it ran in all of them.
fn program_run(plan: &Plan, samples: &[Sample]) -> Option<ProgramRun> {
    let programs: Option<Vec<_>> = samples.iter().map(|s| s.output.program.clone()).collect();
    Some(ProgramRun {
        workload: plan.workload.clone(),
        args: plan.guest.args.clone(),
        requests: if plan.guest.is_server() {
            plan.guest.probe_paths()
        } else {
            Vec::new()
        },
        expect_exit: plan.expect_exit,
        samples: programs.filter(|p| !p.is_empty())?,
    })
}

/// The first sample's stdout and stderr, as `--show-output` prints them.
fn shown_output(plan: &Plan, first: &(String, Sample)) -> String {
    let (from, sample) = first;
    let mut text = String::new();
    for (stream, bytes) in [("stdout", &sample.stdout), ("stderr", &sample.stderr)] {
        text.push_str(&format!(
            "{} {stream} ({from}, {} bytes){}\n",
            plan.module.info.name,
            bytes.len(),
            if bytes.is_empty() { "" } else { ":" }
        ));
        let body = String::from_utf8_lossy(bytes);
        text.push_str(&body);
        if !body.is_empty() && !body.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

/// A wasm-prof executable whose `sample` command takes a report's samples, and how messages
/// name it.
pub struct Build {
    /// The executable.
    pub exe: PathBuf,
    /// `current` or `baseline`.
    pub name: &'static str,
}

impl Build {
    /// The running wasm-prof, named `current`.
    ///
    /// # Errors
    /// When its own path cannot be found.
    pub fn this() -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find this program's own path")?;
        Self::named(&exe, "current")
    }

    /// The executable at `exe`, named `name`.
    ///
    /// # Errors
    /// When there is no file at `exe`.
    pub fn named(exe: &Path, name: &'static str) -> anyhow::Result<Self> {
        let exe = exe
            .canonicalize()
            .with_context(|| format!("there is no wasm-prof binary at {}", exe.display()))?;
        Ok(Self { exe, name })
    }
}

impl PhasesCommand {
    /// The hash selection, guest and paths checked, samples every plan and series with each of
    /// `builds`, alternating between the builds sample by sample (see [`collect`]): one report
    /// per build, in order, and the warnings to show. `after_plan` is called after each plan
    /// with the reports so far and the first sample that ran the plan's program.
    fn sample_builds(
        &self,
        builds: &[Build],
        mut after_plan: impl FnMut(
            &Plan,
            Option<&(String, Sample)>,
            &[PhasesReport],
        ) -> anyhow::Result<()>,
    ) -> anyhow::Result<(Vec<PhasesReport>, Vec<Warning>)> {
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
        let plans = self.plans(scratch.path())?;
        ensure!(
            !self.paths.contains(&PathKind::Remote) || !self.cache_remote.is_empty(),
            "the remote path needs a remote cache tier to prime: pass --cache-remote URL"
        );
        let samplers = builds
            .iter()
            .map(|build| {
                let mut sampler = Sampler::new(&cache_root, &scratch.path().join("output"))?;
                if builds.len() > 1 {
                    sampler = sampler.for_build(&build.exe, build.name);
                }
                let sampler = sampler
                    .with_server_timeout(Duration::from_secs_f64(self.timeout))
                    .with_stat_index(!self.no_stat_index)
                    .with_remote(&self.cache_remote)?;
                Ok((sampler, build.name))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let series = series(&self.engine, &self.paths, &algos);
        let bar = progress_bar(
            (plans.len() * series.len() * builds.len()) as u64 * (self.warmup + self.runs),
        );
        let this = Build::this()?.exe;
        let mut reports = builds
            .iter()
            .map(|build| {
                Ok(PhasesReport {
                    schema: PHASES_SCHEMA.to_string(),
                    host: machine::detect(),
                    engine: EngineInfo {
                        fingerprint: if build.exe == this {
                            engine_fingerprint()?
                        } else {
                            format!("the engine of {}", build.exe.display())
                        },
                    },
                    runs: Vec::new(),
                    stdout_mismatches: Vec::new(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for plan in &plans {
            let mut check = OutputCheck::new(plan);
            for s in &series {
                let taken = collect(
                    &samplers,
                    plan,
                    s,
                    (self.warmup, self.runs),
                    &bar,
                    &mut check,
                )?;
                for ((report, samples), build) in reports.iter_mut().zip(taken).zip(builds) {
                    let run = run_of(plan, s, &samples)?;
                    let named = (builds.len() > 1).then_some(build.name);
                    notes.extend(outlier_warning(&run, named));
                    report.runs.push(run);
                }
            }
            if !check.mismatches.is_empty() {
                notes.push(Warning::StdoutDiffers {
                    what: plan.what.clone(),
                    mismatches: check.mismatches.clone(),
                });
            }
            for report in &mut reports {
                report
                    .stdout_mismatches
                    .extend(check.mismatches.iter().cloned());
            }
            bar.suspend(|| after_plan(plan, check.first.as_ref(), &reports))?;
        }
        bar.finish_and_clear();
        Ok((reports, notes))
    }
}

impl PhasesCommand {
    /// Checks that the options make sense for a comparison of two builds.
    ///
    /// # Errors
    /// When one does not (a baseline report, a remote tier, another engine).
    pub fn check_for_two_builds(&self) -> anyhow::Result<()> {
        ensure!(
            self.baseline.is_none() && self.save_baseline.is_none(),
            "the wall-clock gate measures its baseline itself: give --against REV or \
             --against-bin FILE, not --baseline or --save-baseline"
        );
        ensure!(
            self.cache_remote.is_empty(),
            "the wall-clock gate compares the local cache paths; --cache-remote is for `phases`"
        );
        ensure!(
            self.engine == [EngineName::WasmProf],
            "the wall-clock gate compares two wasm-prof builds; --engine is for `phases`"
        );
        Ok(())
    }

    /// Samples the `baseline` and `current` builds in turn, sample by sample, as the
    /// wall-clock gate compares them: their reports (baseline first) and the warnings to show.
    ///
    /// # Errors
    /// When an option makes no sense for a comparison of two builds, or sampling fails.
    pub fn sample_two_builds(
        &self,
        baseline: Build,
        current: Build,
    ) -> anyhow::Result<(PhasesReport, PhasesReport, Vec<Warning>)> {
        self.check_for_two_builds()?;
        let (reports, notes) = self.sample_builds(&[baseline, current], |_, _, _| Ok(()))?;
        let [baseline, current]: [PhasesReport; 2] = reports
            .try_into()
            .map_err(|_| anyhow::anyhow!("two builds make two reports"))?;
        Ok((baseline, current, notes))
    }

    /// The exports asked for.
    pub fn exports(&self) -> &ExportArgs {
        &self.exports
    }

    /// How large a change must be to count.
    pub fn tolerance(&self) -> Tolerance {
        self.tolerance.tolerance()
    }
}

/// The run one series of a plan makes of its timed samples.
fn run_of(plan: &Plan, s: &Series, samples: &[Sample]) -> anyhow::Result<Run> {
    let key = RunKey {
        module: plan.module.info.clone(),
        path: s.path,
        hash: s.hash_name.clone(),
        engine: s.engine.to_string(),
    };
    let records: Vec<_> = samples.iter().map(|s| s.output.record.clone()).collect();
    let mut run = run_from_records(key, &records)?;
    run.artifact_bytes = samples.iter().filter_map(|s| s.output.artifact_bytes).max();
    run.program = program_run(plan, samples);
    run.remote_tiers = RemoteTierCounts::sum(samples.iter().flat_map(|s| &s.output.remote_tiers));
    Ok(run)
}

impl Command for PhasesCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        let exports = ExportManager::new(&self.exports)?;
        let baseline = self.baseline.as_deref().map(load_phases).transpose()?;
        let to_stderr = exports.uses_stdout();
        let this = Build::this()?;
        let ran_ours = self.engine.contains(&EngineName::WasmProf);
        let (mut reports, notes) = self.sample_builds(&[this], |plan, first, reports| {
            let report = &reports[0];
            let mut tables = render::phases::tables(report);
            let mut table = tables.pop().context("a measured module has a table")?;
            table.notes.extend(plan.note.clone());
            if plan.execute == Execute::Auto && ran_ours && first.is_none() {
                table.notes.push(
                    "compiled and instantiated only: not a WASI command (it imports more than \
                     wasi_snapshot_preview1, or exports no `_start`), so `execute` is not \
                     measured"
                        .to_string(),
                );
            }
            print_tables(&[table], to_stderr)?;
            if self.show_output
                && let Some(first) = first
            {
                print_text(&shown_output(plan, first), to_stderr)?;
            }
            exports.checkpoint(&Report::Phases(report.clone()))
        })?;
        let report = reports.pop().context("one build was measured")?;
        warnings::emit(&notes);
        let outcome = match &baseline {
            Some(old) => judge(old, &report, self.tolerance.tolerance(), to_stderr)?,
            None => Outcome::Success,
        };
        let report = Report::Phases(report);
        exports.finish(&report)?;
        self.save_baseline(&report)?;
        Ok(outcome)
    }
}

/// Prints text where the tables go; a closed stdout is not an error.
fn print_text(text: &str, to_stderr: bool) -> anyhow::Result<()> {
    let written = if to_stderr {
        std::io::stderr().lock().write_all(text.as_bytes())
    } else {
        std::io::stdout().lock().write_all(text.as_bytes())
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot print the program's output")
        }
        _ => Ok(()),
    }
}
