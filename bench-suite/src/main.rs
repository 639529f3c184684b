//! `wasm-prof`: parses the command line and runs one command. Exit codes: 0 success, 1 error,
//! 2 usage error (from clap), 3 a significant regression found by a baseline comparison.

use std::process::ExitCode;

use clap::Parser;
use wasm_prof::commands::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.execute() {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
