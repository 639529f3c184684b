//! `wasm-prof wast`: runs `.wast` spec scripts against the runtime.

use std::{io, path::PathBuf};

use clap::Args;

use crate::{
    commands::{Command, Outcome},
    wast,
};

/// Runs `.wast` scripts (files, or directories searched for them) and prints every failure
/// with its file, line and reason, then `wast: N passed, M failed, K skipped`.
#[derive(Debug, Args)]
pub struct WastCommand {
    /// Scripts or directories of scripts.
    #[arg(value_name = "FILE_OR_DIR", required = true)]
    paths: Vec<PathBuf>,
}

impl Command for WastCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        wast::command(&self.paths, &mut io::stdout().lock())?;
        Ok(Outcome::Success)
    }
}
