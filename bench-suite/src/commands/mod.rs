//! The command line: one file per subcommand, all sharing the [`Command`] trait.

pub mod cache;
pub mod gate;
pub mod hashes;
pub mod phases;
pub mod report;
pub mod run;
pub mod sample;
pub mod wall_clock_gate;
pub mod wast;

use std::{
    io::{ErrorKind, Write as _},
    path::Path,
    process::ExitCode,
};

use anyhow::Context;

use clap::{Parser, Subcommand};

use crate::{model::Report, render::table::Table};

/// Measures where WebAssembly start-up time goes and what a compiled-module cache saves.
#[derive(Debug, Parser)]
#[command(name = "wasm-prof", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: CommandKind,
}

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything went as expected.
    Success,
    /// A comparison against a baseline found a significant regression.
    Regressed,
    /// Exit with this code (a guest program's own exit code).
    Exit(u8),
}

impl Outcome {
    /// The process exit code: 0 for success, 3 for a regression.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Regressed => ExitCode::from(3),
            Outcome::Exit(code) => ExitCode::from(code),
        }
    }
}

/// A subcommand of `wasm-prof`.
pub trait Command {
    /// Runs the command to completion.
    fn execute(self) -> anyhow::Result<Outcome>;
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum CommandKind {
    /// Time every phase of a module's life on the cold, cached and no-cache paths.
    Phases(Box<phases::PhasesCommand>),
    /// Measure the throughput of the cache-key hash algorithms on this CPU.
    Hashes(hashes::HashesCommand),
    /// Re-render a saved phases or hashes JSON report as a table and any export.
    Report(report::ReportCommand),
    /// Compare two phases reports and exit with 3 when a phase regressed significantly.
    Gate(gate::GateCommand),
    /// Run a WASI program, timed from file to exit; exits with the guest's exit code.
    Run(run::RunCommand),
    /// Show or clear the compiled-module cache.
    Cache(cache::CacheCommand),
    /// Run .wast spec scripts against the runtime; exits 1 when any directive failed.
    Wast(wast::WastCommand),
    /// Run one sample in this process and print its phase record as JSON (used by `phases`).
    #[command(hide = true)]
    Sample(sample::SampleCommand),
}

impl Command for CommandKind {
    fn execute(self) -> anyhow::Result<Outcome> {
        match self {
            CommandKind::Phases(c) => (*c).execute(),
            CommandKind::Hashes(c) => c.execute(),
            CommandKind::Report(c) => c.execute(),
            CommandKind::Gate(c) => c.execute(),
            CommandKind::Run(c) => c.execute(),
            CommandKind::Cache(c) => c.execute(),
            CommandKind::Wast(c) => c.execute(),
            CommandKind::Sample(c) => c.execute(),
        }
    }
}

/// Reads and parses a saved report.
///
/// # Errors
/// When the file cannot be read or is not a wasm-prof report.
pub fn load_report(path: &Path) -> anyhow::Result<Report> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    Report::from_json(&bytes)
        .with_context(|| format!("{} is not a usable wasm-prof report", path.display()))
}

/// Prints tables to stdout, or to stderr when stdout carries an export. A closed stdout (as
/// with `| head`) is not an error.
///
/// # Errors
/// When writing fails for another reason.
pub fn print_tables(tables: &[Table], to_stderr: bool) -> anyhow::Result<()> {
    let text: String = tables
        .iter()
        .map(|t| format!("{}\n", t.to_text()))
        .collect();
    let written = if to_stderr {
        std::io::stderr().lock().write_all(text.as_bytes())
    } else {
        std::io::stdout().lock().write_all(text.as_bytes())
    };
    match written {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(e).context("cannot print the results"),
        _ => Ok(()),
    }
}
