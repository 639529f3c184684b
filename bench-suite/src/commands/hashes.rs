//! `wasm-prof hashes`: throughput of every cache-key hash algorithm on this CPU.

use std::{hint::black_box, time::Instant};

use anyhow::ensure;
use clap::Args;
use wasm_prof_runtime::cache::HashAlgo;

use crate::{
    analysis::{
        outliers::outliers,
        prng::SplitMix64,
        recommend::recommend,
        summary::{mad, median},
    },
    commands::{Command, Outcome, print_tables},
    export::{ExportArgs, ExportManager},
    machine,
    model::{HASHES_SCHEMA, HashResult, HashesReport, Report, SkippedAlgo},
    render,
    units::{format_bytes, parse_size},
    warnings::{self, Warning},
};

/// Seed of the buffer contents, so every run hashes the same bytes.
const BUFFER_SEED: u64 = 0x4841_5348_4553_0001;

/// A median under this is close to the timer's resolution.
const TOO_FAST_NS: f64 = 10_000.0;

/// Measures hash throughput.
#[derive(Debug, Args)]
#[command(
    after_help = "Sizes are binary: KB = KiB = 1024 bytes, MB = 1024² bytes, GB = 1024³ bytes.\n\
Throughput is decimal: GB/s = 10⁹ bytes per second; cost per size is µs per MiB."
)]
pub struct HashesCommand {
    /// Buffer size to hash, like 64KB, 1MB or 32MB (binary units: 1KB = 1024 bytes). Repeat
    /// for a size-vs-throughput curve.
    #[arg(long = "size", value_name = "SIZE", value_parser = parse_size, default_value = "1MB")]
    sizes: Vec<u64>,
    /// Timed samples per algorithm and size.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Untimed samples before the timed ones.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Algorithms to measure, comma-separated (default: all six).
    #[arg(long = "algo", value_delimiter = ',', value_name = "ALGO,...")]
    algos: Vec<HashAlgo>,
    #[command(flatten)]
    exports: ExportArgs,
}

fn time_one(algo: HashAlgo, buffer: &[u8]) -> anyhow::Result<u64> {
    let start = Instant::now();
    let digest = algo.digest(black_box(buffer))?;
    let elapsed = start.elapsed();
    black_box(digest);
    Ok(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
}

fn measure(algo: HashAlgo, buffer: &[u8], runs: u64, warmup: u64) -> anyhow::Result<HashResult> {
    for _ in 0..warmup {
        time_one(algo, buffer)?;
    }
    let samples_ns = (0..runs)
        .map(|_| time_one(algo, buffer))
        .collect::<anyhow::Result<Vec<u64>>>()?;
    let median_ns = median(&samples_ns);
    Ok(HashResult {
        algo: algo.name().to_string(),
        cryptographic: algo.is_cryptographic(),
        size_bytes: buffer.len() as u64,
        median_ns,
        min_ns: samples_ns.iter().copied().min().unwrap_or(0),
        max_ns: samples_ns.iter().copied().max().unwrap_or(0),
        mad_ns: mad(&samples_ns),
        bytes_per_s: buffer.len() as f64 / (median_ns.max(1.0) / 1e9),
        samples_ns,
    })
}

fn result_warnings(result: &HashResult) -> Vec<Warning> {
    let what = format!("{} on {}", result.algo, format_bytes(result.size_bytes));
    let mut found = Vec::new();
    let flagged = outliers(&result.samples_ns).len();
    if flagged > 0 {
        found.push(Warning::Outliers {
            what: what.clone(),
            count: flagged,
            total: result.samples_ns.len(),
        });
    }
    if result.median_ns < TOO_FAST_NS {
        found.push(Warning::TooFast {
            what,
            median_ns: result.median_ns,
        });
    }
    found
}

impl Command for HashesCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        ensure!(
            self.exports.export_trace.is_none(),
            "--export-trace needs a phases report; the hashes command has no timeline to trace"
        );
        let exports = ExportManager::new(&self.exports)?;
        let algos = if self.algos.is_empty() {
            HashAlgo::ALL.to_vec()
        } else {
            self.algos
        };
        let mut sizes = self.sizes;
        sizes.sort_unstable();
        sizes.dedup();
        let mut notes = warnings::environment(self.runs as usize);
        let mut report = HashesReport {
            schema: HASHES_SCHEMA.to_string(),
            host: machine::detect(),
            results: Vec::new(),
            skipped: Vec::new(),
            recommendation: None,
        };
        let (runnable, skipped): (Vec<HashAlgo>, Vec<HashAlgo>) =
            algos.into_iter().partition(|a| a.check_supported().is_ok());
        for algo in skipped {
            let reason = algo
                .check_supported()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            report.skipped.push(SkippedAlgo {
                algo: algo.name().to_string(),
                reason,
            });
        }
        for &size in &sizes {
            let buffer = test_buffer(size)?;
            for &algo in &runnable {
                let result = measure(algo, &buffer, self.runs, self.warmup)?;
                notes.extend(result_warnings(&result));
                report.results.push(result);
            }
        }
        report.recommendation = recommend(&report.results);
        let report = Report::Hashes(report);
        print_tables(&render::tables(&report), exports.uses_stdout())?;
        warnings::emit(&notes);
        exports.finish(&report)?;
        Ok(Outcome::Success)
    }
}

/// The deterministic buffer of `size` bytes the algorithms hash; an error, not an abort, when
/// the machine cannot hold it.
fn test_buffer(size: u64) -> anyhow::Result<Vec<u8>> {
    let too_big =
        |why: String| anyhow::anyhow!("--size {} cannot be hashed here: {why}", format_bytes(size));
    if let Some(available) = available_memory() {
        ensure!(
            size <= available,
            too_big(format!(
                "only {} of memory is available",
                format_bytes(available)
            ))
        );
    }
    let len = usize::try_from(size).map_err(|_| too_big("it does not fit in memory".into()))?;
    let mut buffer = Vec::new();
    buffer
        .try_reserve_exact(len)
        .map_err(|e| too_big(e.to_string()))?;
    buffer.resize(len, 0);
    SplitMix64::new(BUFFER_SEED).fill(&mut buffer);
    Ok(buffer)
}

/// The memory the kernel says is available for new allocations (Linux's `MemAvailable`).
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
