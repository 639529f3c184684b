//! The versioned JSON schema of wasm-prof's reports.
//!
//! Two documents exist, told apart by their `schema` field: a phases report
//! ([`PHASES_SCHEMA`]) and a hashes report ([`HASHES_SCHEMA`]). Every duration is in
//! nanoseconds; computed statistics (medians, MADs, confidence bounds) are floats, raw samples
//! and extremes are integers.
//!
//! Phases schema history: v2 added what a program did — per run, `program` (the workload, the
//! arguments, the accepted exit code and per sample the exit code and stdout digest), and per
//! report `stdout_mismatches`. A v1 document is a v2 document without them, so both are read;
//! a v1 document re-exported stays v1. Within v2, the `remote` path and the phases
//! `remote_lookup`, `remote_fetch`, `backfill` and `remote_store` were added later; a report
//! without them is read as before.

use std::{collections::BTreeMap, fmt};

use anyhow::{Context, bail};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use wasm_prof_runtime::{
    phases::{FunctionTiming, PassTime, Phase, PhaseSpan},
    remote_cache::TierCounts,
};

use crate::guest::ExpectExit;

/// The `schema` value of a phases report.
pub const PHASES_SCHEMA: &str = "wasm-prof/phases/v2";
/// The `schema` value of phases reports written before programs were recorded; still read.
pub const PHASES_SCHEMA_V1: &str = "wasm-prof/phases/v1";
/// The `engine` of runs measured on wasm-prof's own runtime.
pub const WASM_PROF_ENGINE: &str = "wasm-prof";
/// The `schema` value of a hashes report.
pub const HASHES_SCHEMA: &str = "wasm-prof/hashes/v1";
/// The `schema` value of a gate report (a comparison of a current build with a baseline).
pub const GATE_SCHEMA: &str = "wasm-prof/gate/v1";

/// The machine a report was measured on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Operating system (`linux`, `macos`, ...).
    pub os: String,
    /// CPU architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// CPU model name as the kernel reports it.
    pub cpu_model: String,
    /// Logical cores available to the process.
    pub cores: usize,
    /// The machine's host name.
    pub hostname: String,
    /// The compiler that built wasm-prof.
    pub rustc: String,
    /// wasm-prof's own version.
    pub wasm_prof_version: String,
}

/// The engine configuration every run of a phases report used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineInfo {
    /// Everything that changes generated code, as one string.
    pub fingerprint: String,
}

/// Which cache state a sample started from.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum PathKind {
    /// Cache enabled and empty: compile, then store.
    Cold,
    /// Cache enabled and primed: load the stored artifact.
    Cached,
    /// Cache disabled: compile and store nothing.
    Nocache,
    /// Local cache empty, remote tier primed: fetch, authenticate and backfill the artifact.
    Remote,
}

impl PathKind {
    /// The path's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PathKind::Cold => "cold",
            PathKind::Cached => "cached",
            PathKind::Nocache => "nocache",
            PathKind::Remote => "remote",
        }
    }
}

impl fmt::Display for PathKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Summary statistics of a set of duration samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// Median of the samples.
    pub median_ns: f64,
    /// Smallest sample.
    pub min_ns: u64,
    /// Largest sample.
    pub max_ns: u64,
    /// Median absolute deviation from the median (unscaled).
    pub mad_ns: f64,
    /// Lower bound of the percentile-bootstrap 95% confidence interval of the median.
    pub ci95_low_ns: f64,
    /// Upper bound of that interval.
    pub ci95_high_ns: f64,
    /// Every sample, in the order it was taken.
    pub samples_ns: Vec<u64>,
}

/// The module a run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleInfo {
    /// Short name (the file stem, or the corpus name).
    pub name: String,
    /// SHA-256 of the module bytes, lower-case hex.
    pub sha256: String,
    /// Size of the module in bytes.
    pub bytes: u64,
    /// Number of functions the module defines (imports excluded).
    pub functions: u32,
}

/// Every sample of one module on one path with one hash algorithm.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// The module.
    pub module: ModuleInfo,
    /// The cache path.
    pub path: PathKind,
    /// The cache-key hash algorithm, or `none` on the no-cache path.
    pub hash: String,
    /// The engine that ran the samples (`wasm-prof`, or a peer runtime).
    pub engine: String,
    /// Statistics per phase; phases that did not run on this path are absent.
    pub phases: BTreeMap<Phase, Stats>,
    /// Statistics of the wall time from the first phase's start to the last phase's end.
    pub total: Stats,
    /// Per-function compile timings of the median sample (empty when nothing was compiled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionTiming>,
    /// Per-Cranelift-pass totals of the median sample.
    #[serde(default)]
    pub passes: Vec<PassTime>,
    /// The phase spans of the median sample, for trace exports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<PhaseSpan>,
    /// Bytes of the compiled artifact the engine stored on the cold path (wasm-prof: its `.wpa`
    /// file; a peer: its serialized module, or its built-in cache's files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_bytes: Option<u64>,
    /// What the program did in each timed sample; absent when the module was only
    /// instantiated (and for peer engines, which do not run programs). Since v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramRun>,
    /// What the samples did with each remote cache tier, summed over them; absent when no
    /// remote tier was configured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_tiers: Vec<RemoteTierCounts>,
}

/// What one or more processes did with one remote cache tier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteTierCounts {
    /// The tier's URL (never with a password).
    pub tier: String,
    /// Artifacts fetched: a usable entry found, and the artifact it names received.
    pub hits: u64,
    /// Lookups that found no entry.
    pub misses: u64,
    /// Failed requests, refused entries, and entries whose artifact could not be fetched.
    pub errors: u64,
    /// Artifact bytes received.
    pub bytes_fetched: u64,
    /// Artifact and action entry bytes uploaded.
    pub bytes_stored: u64,
}

impl RemoteTierCounts {
    /// The counts of `tier` as the runtime keeps them.
    pub fn new(tier: String, counts: &TierCounts) -> Self {
        Self {
            tier,
            hits: counts.hits,
            misses: counts.misses,
            errors: counts.errors,
            bytes_fetched: counts.bytes_fetched,
            bytes_stored: counts.bytes_stored,
        }
    }

    /// Adds `other`'s counts (of the same tier) to these.
    pub fn add(&mut self, other: &RemoteTierCounts) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.errors += other.errors;
        self.bytes_fetched += other.bytes_fetched;
        self.bytes_stored += other.bytes_stored;
    }

    /// Per-tier sums of several processes' counts, in the order the tiers first appear.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a RemoteTierCounts>) -> Vec<RemoteTierCounts> {
        let mut sums: Vec<RemoteTierCounts> = Vec::new();
        for counts in all {
            match sums.iter_mut().find(|s| s.tier == counts.tier) {
                Some(sum) => sum.add(counts),
                None => sums.push(counts.clone()),
            }
        }
        sums
    }
}

/// How a program ended in one sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSample {
    /// Its exit code (0 when `_start` returned, else `proc_exit`'s code).
    pub exit_code: i32,
    /// SHA-256 of everything it wrote to stdout, lower-case hex.
    pub stdout_sha256: String,
    /// Bytes it wrote to stdout.
    pub stdout_bytes: u64,
    /// Bytes it wrote to stderr.
    pub stderr_bytes: u64,
    /// For a server, SHA-256 over the status codes and bodies of the responses the harness
    /// received, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses_sha256: Option<String>,
}

/// The program a run's samples ran, and how each ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramRun {
    /// The workload of `corpora/workloads.toml` it ran as, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// Its arguments after `argv[0]`.
    #[serde(default)]
    pub args: Vec<String>,
    /// For a server, the URL paths the harness requested in each sample, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<String>,
    /// The exit code every sample had to end with: a number or `"any"`.
    pub expect_exit: ExpectExit,
    /// One per timed sample, in the order of the phase samples.
    pub samples: Vec<ProgramSample>,
}

/// A sample whose stdout differed from the first sample of the same module: a cache path
/// that changes a program's output is a bug, and a program whose output changes from run to
/// run (a clock, random bytes) cannot be checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutMismatch {
    /// The module's (or workload's) name, as in its runs.
    pub module: String,
    /// The path of the differing sample.
    pub path: PathKind,
    /// Its hash algorithm, or `none`.
    pub hash: String,
    /// Its engine.
    pub engine: String,
    /// Which sample: `sample N` for the timed ones, `warmup N`, `priming sample` (the cold
    /// sample that fills the cached path's cache) or `first hit` (the hit before the timed
    /// ones).
    pub sample: String,
    /// The stdout digest of the module's first sample.
    pub expected_sha256: String,
    /// Where that first sample was taken (`cold sample 1`, ...).
    pub expected_from: String,
    /// The differing digest.
    pub actual_sha256: String,
}

impl Run {
    /// The label that identifies this run in tables and charts (a peer engine's runs name it).
    pub fn label(&self) -> String {
        if self.engine == WASM_PROF_ENGINE {
            format!("{} · {} · {}", self.module.name, self.path, self.hash)
        } else {
            format!(
                "{} · {} · {} · {}",
                self.module.name, self.engine, self.path, self.hash
            )
        }
    }
}

/// A phases report: where start-up time goes, per module, path and hash algorithm.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhasesReport {
    /// [`PHASES_SCHEMA`] (or [`PHASES_SCHEMA_V1`] for a report read from an older file).
    pub schema: String,
    /// The machine.
    pub host: Host,
    /// The engine configuration.
    pub engine: EngineInfo,
    /// One entry per (module, path, hash, engine).
    pub runs: Vec<Run>,
    /// Samples whose stdout differed from their module's first sample. Since v2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stdout_mismatches: Vec<StdoutMismatch>,
}

/// The throughput of one hash algorithm on one buffer size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashResult {
    /// Algorithm name.
    pub algo: String,
    /// Whether collisions are believed infeasible to craft.
    pub cryptographic: bool,
    /// Bytes hashed per sample.
    pub size_bytes: u64,
    /// Median time per sample.
    pub median_ns: f64,
    /// Fastest sample.
    pub min_ns: u64,
    /// Slowest sample.
    pub max_ns: u64,
    /// Median absolute deviation of the samples.
    pub mad_ns: f64,
    /// Every sample.
    pub samples_ns: Vec<u64>,
    /// Throughput at the median, in bytes per second.
    pub bytes_per_s: f64,
}

/// An algorithm that could not run on this machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkippedAlgo {
    /// Algorithm name.
    pub algo: String,
    /// Why it was skipped.
    pub reason: String,
}

/// One algorithm picked by the recommendation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pick {
    /// Algorithm name.
    pub algo: String,
    /// Median throughput in bytes per second.
    pub bytes_per_s: f64,
    /// Whether it is cryptographic.
    pub cryptographic: bool,
}

/// Which algorithm to key the cache with on this CPU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    /// The buffer size the choice was made on (the largest measured).
    pub size_bytes: u64,
    /// The fastest cryptographic algorithm, if any ran.
    pub cryptographic: Option<Pick>,
    /// The fastest algorithm overall.
    pub fastest: Pick,
    /// What choosing `fastest` costs when it is not cryptographic.
    pub caveat: Option<String>,
}

/// A hashes report: throughput of every hash algorithm on this CPU.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashesReport {
    /// Always [`HASHES_SCHEMA`].
    pub schema: String,
    /// The machine.
    pub host: Host,
    /// One entry per (size, algorithm) that ran.
    pub results: Vec<HashResult>,
    /// Algorithms that could not run here.
    #[serde(default)]
    pub skipped: Vec<SkippedAlgo>,
    /// The suggested cache-key algorithm, when anything ran.
    pub recommendation: Option<Recommendation>,
}

/// What a gate compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateKind {
    /// Byte sizes and callgrind instruction counts, which repeat from run to run.
    Deterministic,
    /// Phase medians of two phases reports, with bootstrap confidence intervals.
    WallClock,
}

/// What the gate concluded about one measure. Every measure is smaller-is-better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateVerdict {
    /// Within the tolerance (or not significant).
    Ok,
    /// Grew beyond the tolerance.
    Regressed,
    /// Shrank beyond the tolerance.
    Improved,
}

/// One measure of one benchmark, in the baseline and now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRow {
    /// What was measured (`workload.wasm · cold · blake3`, a run label, ...).
    pub benchmark: String,
    /// The measure (`instructions`, `artifact-bytes`, a phase name, ...).
    pub measure: String,
    /// Its unit (`instructions`, `bytes`, `ns`).
    pub unit: String,
    /// The baseline's value.
    pub baseline: f64,
    /// The current value.
    pub current: f64,
    /// Lower bound of the current value's 95% confidence interval, for noisy measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_low: Option<f64>,
    /// Upper bound of that interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_high: Option<f64>,
    /// `current / baseline - 1` (0.10 = 10% more).
    pub change: f64,
    /// The growth tolerated before it counts as a regression (0.02 = 2%).
    pub tolerance: f64,
    /// The conclusion.
    pub verdict: GateVerdict,
}

/// A gate report: every measure of the current build next to the baseline's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateReport {
    /// Always [`GATE_SCHEMA`].
    pub schema: String,
    /// What kind of measures were compared.
    pub kind: GateKind,
    /// Where the baseline came from (a file, or a build of a revision).
    pub baseline: String,
    /// Where the current measures came from.
    pub current: String,
    /// One row per compared measure.
    pub rows: Vec<GateRow>,
    /// Anything the reader should know (measures only one side has, improvements to record).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl GateVerdict {
    /// The verdict as tables print it (`REGRESSED` stands out).
    pub fn name(self) -> &'static str {
        match self {
            GateVerdict::Ok => "ok",
            GateVerdict::Regressed => "REGRESSED",
            GateVerdict::Improved => "improved",
        }
    }
}

impl GateReport {
    /// Whether any measure regressed.
    pub fn regressed(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.verdict == GateVerdict::Regressed)
    }
}

/// Any report wasm-prof writes.
#[derive(Clone, Debug)]
pub enum Report {
    /// A phases report.
    Phases(PhasesReport),
    /// A hashes report.
    Hashes(HashesReport),
    /// A gate report.
    Gate(GateReport),
}

impl Report {
    /// Parses a report, telling the kind apart by its `schema` field.
    ///
    /// # Errors
    /// When the bytes are not JSON, the schema is unknown, or the document does not match it.
    pub fn from_json(bytes: &[u8]) -> anyhow::Result<Report> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).context("the file is not valid JSON")?;
        let schema = value
            .get("schema")
            .and_then(|s| s.as_str())
            .context("the file has no `schema` field, so it is not a wasm-prof report")?
            .to_string();
        match schema.as_str() {
            PHASES_SCHEMA | PHASES_SCHEMA_V1 => {
                let report: PhasesReport = serde_json::from_value(value)
                    .context("the phases report does not match its schema")?;
                if schema == PHASES_SCHEMA_V1
                    && (!report.stdout_mismatches.is_empty()
                        || report.runs.iter().any(|r| r.program.is_some()))
                {
                    bail!("a {PHASES_SCHEMA_V1} report cannot record programs (that is v2)");
                }
                Ok(Report::Phases(report))
            }
            HASHES_SCHEMA => Ok(Report::Hashes(
                serde_json::from_value(value)
                    .context("the hashes report does not match its schema")?,
            )),
            GATE_SCHEMA => Ok(Report::Gate(
                serde_json::from_value(value)
                    .context("the gate report does not match its schema")?,
            )),
            other => bail!(
                "unknown report schema `{other}` (expected {PHASES_SCHEMA}, {HASHES_SCHEMA} or \
                 {GATE_SCHEMA})"
            ),
        }
    }

    /// Serializes the report as pretty-printed JSON.
    ///
    /// # Errors
    /// Only if serialization itself fails.
    pub fn to_json(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = match self {
            Report::Phases(r) => serde_json::to_vec_pretty(r)?,
            Report::Hashes(r) => serde_json::to_vec_pretty(r)?,
            Report::Gate(r) => serde_json::to_vec_pretty(r)?,
        };
        out.push(b'\n');
        Ok(out)
    }
}
