//! A runner for `.wast` spec scripts: executes each directive against the runtime and reports
//! what passed, what failed (with file, line and column, expected versus got) and what was
//! skipped.

mod expect;
mod report;
mod runner;
mod script;
mod spectest;
mod values;

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context as _;

pub use report::{WastFailure, WastReport};
pub use runner::WastRunner;

/// The `.wast` files in `paths`: files as given, directories walked recursively; each
/// directory's files in sorted order.
///
/// # Errors
/// When a path or directory cannot be read.
pub fn collect_scripts(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut scripts = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut scripts)?;
        } else if path.exists() {
            scripts.push(path.clone());
        } else {
            anyhow::bail!("{} does not exist", path.display());
        }
    }
    Ok(scripts)
}

fn walk(dir: &Path, scripts: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, scripts)?;
        } else if path.extension().is_some_and(|e| e == "wast") {
            scripts.push(path);
        }
    }
    Ok(())
}

/// Runs every `.wast` script in `paths` (see [`collect_scripts`]) on all cores.
///
/// # Errors
/// When a path cannot be read or the runtime cannot target this machine.
pub fn run_paths(paths: &[PathBuf]) -> anyhow::Result<WastReport> {
    let mut scripts = Vec::new();
    for path in collect_scripts(paths)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the script {}", path.display()))?;
        scripts.push((path.display().to_string(), text));
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(WastRunner::new()?.run_all(&scripts, threads))
}

/// The `wasm-prof wast FILE_OR_DIR...` command: runs the scripts, writes one line per failure
/// and per skip, then `wast: N passed, M failed, K skipped`, to `out`.
///
/// # Errors
/// When the scripts cannot be read or `out` cannot be written, and when any directive failed.
pub fn command(paths: &[PathBuf], out: &mut dyn Write) -> anyhow::Result<()> {
    let report = run_paths(paths)?;
    for failure in &report.failures {
        writeln!(out, "{failure}")?;
    }
    for skip in &report.skips {
        writeln!(out, "{skip} (skipped)")?;
    }
    writeln!(out, "{report}")?;
    anyhow::ensure!(
        report.failures.is_empty(),
        "{} wast directive(s) failed",
        report.failed()
    );
    Ok(())
}
