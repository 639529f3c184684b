//! `wasm-prof sample` (hidden): one sample in this process, printed as a JSON phase record.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use wasm_prof_runtime::cache::HashAlgo;

use crate::{
    commands::{Command, Outcome},
    model::PathKind,
    sample::{CacheMode, SampleRequest, run_sample},
};

/// Runs one sample and prints its phase record as JSON on stdout.
#[derive(Debug, Args)]
pub struct SampleCommand {
    /// The cache path the parent prepared.
    #[arg(long, value_enum)]
    path: PathKind,
    /// The cache-key hash algorithm.
    #[arg(long)]
    hash: HashAlgo,
    /// The cache directory.
    #[arg(long, value_name = "DIR", required_unless_present = "disable_cache")]
    cache_dir: Option<PathBuf>,
    /// Run without the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    disable_cache: bool,
    /// The module file.
    #[arg(long, value_name = "FILE")]
    module: PathBuf,
    /// Compile every function on this thread, so that instruction counts (as under callgrind)
    /// repeat from run to run; by default functions compile in parallel.
    #[arg(long)]
    sequential: bool,
    /// Only instantiate (with stubbed imports), even a WASI command: the sample then measures
    /// loading alone, as the CI gate wants.
    #[arg(long)]
    no_execute: bool,
}

impl Command for SampleCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        let cache = match self.cache_dir {
            Some(dir) if !self.disable_cache => CacheMode::Dir(dir),
            _ => CacheMode::Disabled,
        };
        let request = SampleRequest {
            module: self.module,
            path: self.path,
            hash: self.hash,
            cache,
            parallel_compile: !self.sequential,
            execute: !self.no_execute,
        };
        let record = run_sample(&request)?;
        let json = serde_json::to_string(&record).context("cannot serialize the phase record")?;
        println!("{json}");
        Ok(Outcome::Success)
    }
}
