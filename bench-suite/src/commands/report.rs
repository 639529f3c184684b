//! `wasm-prof report`: re-renders a saved report as tables and exports.

use std::path::PathBuf;

use clap::Args;

use crate::{
    commands::{Command, Outcome, load_report, print_tables},
    export::{ExportArgs, ExportManager},
    render,
};

/// Re-renders a saved phases or hashes JSON report.
#[derive(Debug, Args)]
pub struct ReportCommand {
    /// The saved report (its `schema` field tells phases from hashes).
    #[arg(value_name = "FILE.json")]
    file: PathBuf,
    #[command(flatten)]
    exports: ExportArgs,
}

impl Command for ReportCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        let exports = ExportManager::new(&self.exports)?;
        let report = load_report(&self.file)?;
        print_tables(&render::tables(&report), exports.uses_stdout())?;
        exports.finish(&report)?;
        Ok(Outcome::Success)
    }
}
