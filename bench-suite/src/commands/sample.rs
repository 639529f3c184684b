//! `wasm-prof sample` (hidden): one sample in this process, printed as a JSON sample output.
//! `phases` runs it once per sample, handing it the guest options it was given.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use clap::Args;
use wasm_prof_runtime::cache::HashAlgo;

use crate::{
    commands::{Command, Outcome},
    engines::{EngineName, run_peer_sample},
    guest::{GuestArgs, parse_seconds},
    model::PathKind,
    sampling::in_process::{CacheMode, SampleOutput, SampleRequest, artifact_bytes, run_sample},
};

/// Runs one sample and prints its phase record (and artifact size) as JSON on stdout.
#[derive(Debug, Args)]
pub struct SampleCommand {
    /// The engine to sample.
    #[arg(long, default_value = "wasm-prof")]
    engine: EngineName,
    /// The cache path the parent prepared.
    #[arg(long, value_enum)]
    path: PathKind,
    /// The cache-key hash algorithm; for a peer engine, `none` (its own artifact file) or its
    /// built-in cache's hash.
    #[arg(long)]
    hash: String,
    /// The cache directory.
    #[arg(long, value_name = "DIR", required_unless_present = "disable_cache")]
    cache_dir: Option<PathBuf>,
    /// Run without the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    disable_cache: bool,
    /// A remote cache tier behind the cache directory (repeatable).
    #[arg(long = "cache-remote", value_name = "URL")]
    cache_remote: Vec<String>,
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
    /// Hash the module instead of taking its digest from the cache's stat index.
    #[arg(long)]
    no_stat_index: bool,
    /// For a server: seconds it may take to answer every request.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    timeout: f64,
    /// Write the program's stdout and stderr to the files `stdout` and `stderr` in DIR.
    #[arg(long, value_name = "DIR")]
    capture: Option<PathBuf>,
    /// The program's arguments, environment, directories, stdin and entry point.
    #[command(flatten)]
    guest: GuestArgs,
}

impl SampleCommand {
    fn wasm_prof_sample(self, cache: CacheMode) -> anyhow::Result<SampleOutput> {
        let hash: HashAlgo = self.hash.parse()?;
        let request = SampleRequest {
            module: self.module,
            path: self.path,
            hash,
            cache,
            remote: self.cache_remote,
            parallel_compile: !self.sequential,
            stat_index: !self.no_stat_index,
            execute: !self.no_execute,
            guest: self.guest.guest()?,
            capture: self.capture,
            server_timeout: Duration::from_secs_f64(self.timeout),
        };
        let (record, program, remote_tiers) = run_sample(&request)?;
        let artifact_bytes = match (&request.cache, request.path) {
            (CacheMode::Dir(dir), PathKind::Cold) => Some(artifact_bytes(dir)?),
            _ => None,
        };
        Ok(SampleOutput {
            record,
            artifact_bytes,
            program,
            remote_tiers,
        })
    }
}

impl Command for SampleCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        let cache = match &self.cache_dir {
            Some(dir) if !self.disable_cache => CacheMode::Dir(dir.clone()),
            _ => CacheMode::Disabled,
        };
        let output = match self.engine {
            EngineName::WasmProf => self.wasm_prof_sample(cache)?,
            peer => run_peer_sample(peer, &self.module, self.path, &cache, &self.hash)?,
        };
        let json = serde_json::to_string(&output).context("cannot serialize the phase record")?;
        println!("{json}");
        Ok(Outcome::Success)
    }
}
