//! `wasm-prof run`: runs a WASI program from file to exit, timed by phase, with stdio
//! inherited; the process exits with the guest's exit code.

use std::{path::PathBuf, thread, time::Duration};

use anyhow::Context;
use clap::Args;
use wasm_prof_runtime::{
    CacheOutcome, Config, Engine, Error, Module, PerfProfiling, Store, TrapKind, cache::HashAlgo,
    phases::PhaseClock,
};
use wasm_prof_wasi::{self as wasi, InputStream, OutputStream, WasiConfig, WasiError};

use crate::{
    analysis::runs::{RunKey, run_from_records},
    commands::{Command, Outcome},
    export::write_file,
    guest::{GuestArgs, parse_seconds, program_name},
    machine,
    model::{EngineInfo, PHASES_SCHEMA, PathKind, PhasesReport, Run},
    module_file::ModuleFile,
    sampling::in_process::remote_tier_counts,
};

/// Exit code for a guest that trapped (as a process killed by SIGABRT would report).
const TRAP_EXIT: u8 = 134;
/// Exit code for a guest stopped by `--timeout` (as timeout(1) reports).
const TIMEOUT_EXIT: u8 = 124;
/// How long after `--timeout` a guest that has not reached an epoch check (it is blocked in a
/// host call) is given before the process exits.
const HARD_STOP_GRACE: Duration = Duration::from_millis(500);

/// Runs a WASI program (`_start`, or `--invoke NAME` of a reactor) with stdio inherited
/// (stdin from `--stdin FILE` when given).
#[derive(Debug, Args)]
pub struct RunCommand {
    /// The module to run.
    #[arg(value_name = "FILE")]
    module: PathBuf,
    /// Cache directory (default: $WASM_PROF_CACHE_DIR or the user's cache directory).
    #[arg(long, value_name = "DIR", conflicts_with = "disable_cache")]
    cache_dir: Option<PathBuf>,
    /// Compile without reading or writing the cache.
    #[arg(long)]
    disable_cache: bool,
    /// Hash the module instead of taking its digest from the cache's stat index.
    #[arg(long)]
    no_stat_index: bool,
    /// Cache-key hash algorithm (sha256, blake2b, blake2bp, blake3, xxh3, meowhash).
    #[arg(long, default_value = "blake3")]
    hash: HashAlgo,
    /// A remote cache tier behind the local one, `redis://HOST[:PORT]` or `s3://BUCKET[/PREFIX]`
    /// (repeatable, asked in order; default: $WASM_PROF_CACHE_REMOTE).
    #[arg(
        long = "cache-remote",
        value_name = "URL",
        conflicts_with = "disable_cache"
    )]
    cache_remote: Vec<String>,
    /// Abandon fetching (or uploading) one module from a remote tier after this many seconds,
    /// and compile it here instead (default 30).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    cache_remote_transfer_timeout: Option<f64>,
    /// Write this run's phase report (the `phases` JSON schema) to OUT.json.
    #[arg(long, value_name = "OUT.json")]
    profile: Option<PathBuf>,
    /// Name every guest function and trampoline for `perf report` in /tmp/perf-PID.map
    /// (default: $WASM_PROF_PERF=perfmap).
    #[arg(long, conflicts_with = "jitdump")]
    perfmap: bool,
    /// Write every guest function and trampoline, with its code, to jit-PID.dump in the
    /// temporary directory, for `perf record -k 1` and `perf inject --jit`
    /// (default: $WASM_PROF_PERF=jitdump).
    #[arg(long)]
    jitdump: bool,
    /// Stop the guest after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// The program's arguments, environment, directories, stdin and entry point.
    #[command(flatten)]
    guest: GuestArgs,
}

impl RunCommand {
    /// The guest's WASI configuration; its listening sockets are bound here, and each one's
    /// address is printed (so a port 0 is learnt).
    fn wasi_config(&self) -> anyhow::Result<WasiConfig> {
        let guest = self.guest.guest()?;
        anyhow::ensure!(
            guest.requests.is_empty(),
            "--request is for `phases`, which probes a server; `run` serves until it is stopped"
        );
        let listeners = guest.listen()?;
        for listener in &listeners {
            let addr = listener
                .local_addr()
                .context("cannot read a listener's address")?;
            eprintln!("wasm-prof: listening on {addr}");
        }
        guest.wasi_config(
            &program_name(&self.module),
            InputStream::Inherit,
            OutputStream::Inherit,
            OutputStream::Inherit,
            listeners,
        )
    }

    /// `--timeout` as a duration, checked before anything runs.
    fn timeout(&self) -> anyhow::Result<Option<Duration>> {
        self.timeout
            .map(|seconds| {
                Duration::try_from_secs_f64(seconds)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .with_context(|| {
                        format!(
                            "--timeout {seconds}: expected a positive, finite number of seconds"
                        )
                    })
            })
            .transpose()
    }

    fn engine(&self) -> anyhow::Result<Engine> {
        let mut config = Config::new();
        config.hash_algo(self.hash);
        config.epoch_interruption(self.timeout.is_some());
        config.stat_index(!self.no_stat_index);
        if self.disable_cache {
            config.cache(false);
        } else if let Some(dir) = &self.cache_dir {
            config.cache_dir(dir);
        }
        if !self.cache_remote.is_empty() {
            config.cache_remote(self.cache_remote.clone());
        }
        if let Some(seconds) = self.cache_remote_transfer_timeout {
            config.cache_remote_transfer_timeout(Duration::from_secs_f64(seconds));
        }
        if self.perfmap {
            config.perf_profiling(PerfProfiling::PerfMap);
        } else if self.jitdump {
            config.perf_profiling(PerfProfiling::JitDump);
        }
        Engine::new(config).context("cannot create the engine")
    }

    fn write_profile(
        &self,
        engine: &Engine,
        module: &Module,
        clock: PhaseClock,
    ) -> anyhow::Result<()> {
        let Some(out) = &self.profile else {
            return Ok(());
        };
        let (path, hash) = match module.cache_outcome() {
            CacheOutcome::Disabled => (PathKind::Nocache, "none".to_string()),
            CacheOutcome::Miss => (PathKind::Cold, self.hash.name().to_string()),
            CacheOutcome::Hit => (PathKind::Cached, self.hash.name().to_string()),
            CacheOutcome::RemoteHit => (PathKind::Remote, self.hash.name().to_string()),
        };
        let key = RunKey {
            module: ModuleFile::from_path(&self.module)?.info,
            path,
            hash,
            engine: "wasm-prof".to_string(),
        };
        let report = PhasesReport {
            schema: PHASES_SCHEMA.to_string(),
            host: machine::detect(),
            engine: EngineInfo {
                fingerprint: engine.fingerprint().to_string(),
            },
            runs: vec![Run {
                remote_tiers: remote_tier_counts(engine),
                ..run_from_records(key, &[clock.into_record()])?
            }],
            stdout_mismatches: Vec::new(),
        };
        let json = serde_json::to_vec_pretty(&report).context("cannot serialize the profile")?;
        write_file(out, &json)
    }
}

impl Command for RunCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        let timeout = self.timeout()?;
        let engine = self.engine()?;
        let wasi_config = self.wasi_config()?;
        let mut clock = PhaseClock::enabled();
        let module = Module::from_file_with_clock(&engine, &self.module, &mut clock)
            .with_context(|| format!("cannot load {}", self.module.display()))?;
        for warning in module.cache_warnings() {
            eprintln!("warning: {warning}");
        }
        if let Some(warning) = module.profiling_warning() {
            eprintln!("warning: {warning}");
        }
        let mut store = Store::new(&engine);
        if let Some(timeout) = timeout {
            let seconds = timeout.as_secs_f64();
            store.set_epoch_deadline(1);
            let watchdog = engine.clone();
            let module_name = self.module.display().to_string();
            thread::spawn(move || {
                thread::sleep(timeout);
                watchdog.increment_epoch();
                // Guest code stops at its next epoch check; a guest blocked in the host (a
                // read from a silent stdin, a long poll_oneoff sleep) has none, so after a
                // grace period the whole process ends, as timeout(1) would end it.
                thread::sleep(HARD_STOP_GRACE);
                eprintln!(
                    "error: {module_name} timed out after {seconds}s while blocked in a host \
                     call; stopped without writing --profile"
                );
                std::process::exit(i32::from(TIMEOUT_EXIT));
            });
        }
        let status = wasi::run_command_with_clock(
            &mut store,
            &module,
            &wasi_config,
            self.guest.invoke.as_deref(),
            &mut clock,
        );
        // The uploads first, so that the profile counts their bytes.
        let warnings = engine.wait_for_uploads();
        self.write_profile(&engine, &module, clock)?;
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
        match status {
            Ok(status) => Ok(Outcome::Exit(status.code as u8)),
            Err(WasiError::Runtime(Error::Trap(trap))) if trap.kind == TrapKind::Interrupt => {
                eprintln!(
                    "error: {} timed out after {}s",
                    self.module.display(),
                    self.timeout.unwrap_or_default()
                );
                Ok(Outcome::Exit(TIMEOUT_EXIT))
            }
            Err(WasiError::Runtime(Error::Trap(trap))) => {
                eprintln!("error: {} trapped: {}", self.module.display(), trap.kind);
                if let Some(message) = &trap.message {
                    eprintln!("  {message}");
                }
                eprintln!("wasm backtrace:");
                for (i, frame) in trap.backtrace.iter().enumerate() {
                    eprintln!("  {i:>2}: {frame}");
                }
                Ok(Outcome::Exit(TRAP_EXIT))
            }
            Err(e) => Err(e).with_context(|| format!("cannot run {}", self.module.display())),
        }
    }
}
