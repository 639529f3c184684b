//! One sample: a module's whole life in this process, timed by the runtime's phase clock.
//!
//! `wasm-prof phases` runs every sample in a fresh child process (`wasm-prof sample ...`) so
//! that no sample benefits from another's warm caches, allocator state or loaded pages. The
//! child calls [`run_sample`] (or a peer engine's sample) and prints a [`SampleOutput`] as JSON.

use std::{
    fs,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use wasm_prof_runtime::{
    CacheOutcome, Config, Engine, Error, Linker, Module, Store, TrapKind,
    cache::HashAlgo,
    phases::{Phase, PhaseClock, PhaseRecord},
};
use wasm_prof_wasi::{
    self as wasi, InputStream, OutputPipe, OutputStream, ServerControl, WasiError,
};

use crate::{
    guest::{Guest, program_name},
    model::{PathKind, ProgramSample, RemoteTierCounts},
    module_file::sha256_hex,
    sampling::server_probe,
};

/// Where the compiled-module cache lives for a sample, if anywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Use the cache in this directory (empty for the cold path, primed for the cached path).
    Dir(PathBuf),
    /// `--disable-cache`: touch nothing on disk.
    Disabled,
}

/// What one sample must do.
#[derive(Clone, Debug)]
pub struct SampleRequest {
    /// The module file.
    pub module: PathBuf,
    /// The path the parent prepared the cache for; the sample should find the cache in the
    /// corresponding state (empty, primed, or disabled).
    pub path: PathKind,
    /// The cache-key hash algorithm.
    pub hash: HashAlgo,
    /// The cache.
    pub cache: CacheMode,
    /// The remote tiers behind it (only these: the environment's are ignored).
    pub remote: Vec<String>,
    /// Compile functions on all cores (the runtime's default) or on this thread only.
    pub parallel_compile: bool,
    /// Take an unchanged module file's digest from the cache's stat index.
    pub stat_index: bool,
    /// Run a WASI program to completion (measuring `execute`); otherwise only instantiate.
    pub execute: bool,
    /// The program's arguments, environment, directories, stdin and entry point.
    pub guest: Guest,
    /// Where to write the program's stdout and stderr ([`CAPTURED_STDOUT`] and
    /// [`CAPTURED_STDERR`] in this directory); they are discarded without it.
    pub capture: Option<PathBuf>,
    /// How long a server may take to answer every request before the sample fails.
    pub server_timeout: Duration,
}

/// The file in the capture directory that receives a sample's guest stdout.
pub const CAPTURED_STDOUT: &str = "stdout";
/// The file in the capture directory that receives a sample's guest stderr.
pub const CAPTURED_STDERR: &str = "stderr";

/// What a sampling process prints: its phase record, after a cold sample the size of the
/// compiled artifact it stored, and when it ran a program how the program ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SampleOutput {
    /// The phases the sample recorded.
    #[serde(flatten)]
    pub record: PhaseRecord,
    /// Bytes of the compiled artifact on disk after a cold sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_bytes: Option<u64>,
    /// The program's exit code and stdout digest; absent when the module was only
    /// instantiated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramSample>,
    /// What the sample did with each remote cache tier; absent without remote tiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_tiers: Vec<RemoteTierCounts>,
}

/// Total size of the files under `dir` (recursively) whose paths `keep` accepts.
///
/// # Errors
/// When the directory cannot be listed.
pub fn dir_bytes(dir: &Path, keep: impl Fn(&Path) -> bool + Copy) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let (path, kind) = (entry.path(), entry.file_type()?);
        if kind.is_dir() {
            total += dir_bytes(&path, keep)?;
        } else if kind.is_file() && keep(&path) {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// The bytes of wasm-prof's artifacts (`.wpa` files) in a cache directory.
///
/// # Errors
/// When the directory cannot be listed.
pub fn artifact_bytes(dir: &Path) -> anyhow::Result<u64> {
    dir_bytes(dir, |p| p.extension().is_some_and(|e| e == "wpa"))
}

/// The runtime configuration a sample runs with.
fn config(request: &SampleRequest) -> Config {
    let mut config = Config::new();
    config
        .hash_algo(request.hash)
        .parallel_compile(request.parallel_compile)
        .stat_index(request.stat_index);
    match &request.cache {
        CacheMode::Dir(dir) => config.cache_dir(dir),
        CacheMode::Disabled => config.cache(false),
    };
    config.cache_remote(request.remote.clone());
    config
}

/// The engine fingerprint written into phases reports: everything that changes generated code.
///
/// # Errors
/// When no engine can be built for this CPU.
pub fn engine_fingerprint() -> anyhow::Result<String> {
    let engine = Engine::new(Config::new()).context("cannot create the engine")?;
    Ok(engine.fingerprint().to_string())
}

/// Reads, hashes, looks up, compiles or loads, stores and instantiates the module with an
/// enabled phase clock, and returns what the clock recorded. A WASI program (a command, or a
/// reactor given `invoke`) also runs to completion with the request's guest options and its
/// stdout and stderr captured, so the `execute` phase is measured and the program's exit code
/// and stdout digest are returned; other modules get stubbed imports so that every module
/// instantiates.
///
/// # Errors
/// Any failure of the runtime, with the module's path in the message (a trap included: the
/// captured output is written first); a cached-path sample that did not hit the cache (or a
/// cold one that did), since its numbers would be mislabelled.
// Never inlined: the deterministic gate counts instructions inside this function by its name.
#[inline(never)]
pub fn run_sample(
    request: &SampleRequest,
) -> anyhow::Result<(PhaseRecord, Option<ProgramSample>, Vec<RemoteTierCounts>)> {
    let module_path = request.module.display();
    let engine = Engine::new(config(request))
        .with_context(|| format!("cannot create an engine for {module_path}"))?;
    let mut clock = PhaseClock::enabled();
    let module = Module::from_file_with_clock(&engine, &request.module, &mut clock)
        .with_context(|| format!("cannot load {module_path}"))?;
    for warning in module.cache_warnings() {
        eprintln!("warning: {warning}");
    }
    #[cfg(feature = "experiment-slowdown")]
    crate::sampling::experiment::extra_work(&mut clock)?;
    let expected = match request.path {
        PathKind::Cold => CacheOutcome::Miss,
        PathKind::Cached => CacheOutcome::Hit,
        PathKind::Nocache => CacheOutcome::Disabled,
        PathKind::Remote => CacheOutcome::RemoteHit,
    };
    anyhow::ensure!(
        *module.cache_outcome() == expected,
        "{module_path} on the {} path gave a cache outcome of {:?} instead of {expected:?}",
        request.path,
        module.cache_outcome()
    );
    let mut program = None;
    if request.execute && runs_as_program(&module, &request.guest) {
        let mut store = Store::new(&engine);
        // Captured, never inherited: the guest's output would corrupt the JSON record this
        // process prints, and the parent wants it whole.
        let (stdout, stderr) = (OutputPipe::new(), OutputPipe::new());
        let listeners = request.guest.listen()?;
        let first_addr = listeners.first().map(|l| l.local_addr()).transpose()?;
        let mut wasi_config = request.guest.wasi_config(
            &program_name(&request.module),
            InputStream::Null,
            OutputStream::Pipe(stdout.clone()),
            OutputStream::Pipe(stderr.clone()),
            listeners,
        )?;
        let server = match first_addr {
            Some(addr) => {
                let control = ServerControl::new().context("cannot set up the server probe")?;
                wasi_config.server_control(control.clone());
                let probe = server_probe::start(
                    addr,
                    request.guest.probe_paths(),
                    control.clone(),
                    request.server_timeout,
                );
                Some((control, probe))
            }
            None => None,
        };
        let status = wasi::run_command_with_clock(
            &mut store,
            &module,
            &wasi_config,
            request.guest.invoke.as_deref(),
            &mut clock,
        );
        // Closing the listeners, and with the store the guest's descriptors, ends every
        // connection of a guest that stopped early, so the probe cannot wait on one.
        drop(wasi_config);
        drop(store);
        let (stdout, stderr) = (stdout.contents(), stderr.contents());
        if let Some(dir) = &request.capture {
            for (name, bytes) in [(CAPTURED_STDOUT, &stdout), (CAPTURED_STDERR, &stderr)] {
                let path = dir.join(name);
                fs::write(&path, bytes).with_context(|| {
                    format!("cannot write the guest's output to {}", path.display())
                })?;
            }
        }
        let mut sample = ProgramSample {
            exit_code: 0,
            stdout_sha256: sha256_hex(&stdout),
            stdout_bytes: stdout.len() as u64,
            stderr_bytes: stderr.len() as u64,
            responses_sha256: None,
        };
        match server {
            None => {
                sample.exit_code = status
                    .with_context(|| format!("cannot run {module_path}"))?
                    .code;
            }
            Some((control, probe)) => {
                let probe = probe
                    .join()
                    .map_err(|_| anyhow::anyhow!("the server probe of {module_path} panicked"))?;
                sample.exit_code = match status {
                    // The probe stopped the server: the run ended as it should.
                    Err(WasiError::Runtime(Error::Trap(trap)))
                        if trap.kind == TrapKind::Interrupt && control.is_stopped() =>
                    {
                        0
                    }
                    Ok(status) if probe.error.is_none() => status.code,
                    Ok(status) => anyhow::bail!(
                        "{module_path} exited with code {} before it answered: {}",
                        status.code,
                        probe.error.unwrap_or_default()
                    ),
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot run {module_path}"));
                    }
                };
                if let Some(error) = probe.error {
                    anyhow::bail!("{module_path} did not serve: {error}");
                }
                if let Some(at) = control.first_accept() {
                    clock.milestone(Phase::Ready, at);
                }
                if let Some(at) = probe.first_response {
                    clock.milestone(Phase::FirstResponse, at);
                }
                sample.responses_sha256 = Some(probe.responses_sha256);
            }
        }
        program = Some(sample);
    } else {
        let mut store = Store::new(&engine);
        let mut linker = Linker::new();
        linker
            .define_unknown_imports_as_traps(&mut store, &module)
            .with_context(|| format!("cannot stub the imports of {module_path}"))?;
        linker
            .instantiate_with_clock(&mut store, &module, &mut clock)
            .with_context(|| format!("cannot instantiate {module_path}"))?;
    }
    // After the last phase: the uploads ran while the program started and ran.
    for warning in engine.wait_for_uploads() {
        eprintln!("warning: {warning}");
    }
    Ok((clock.into_record(), program, remote_tier_counts(&engine)))
}

/// What this process did with each of the engine's remote tiers.
pub fn remote_tier_counts(engine: &Engine) -> Vec<RemoteTierCounts> {
    engine.remote_cache().map_or_else(Vec::new, |remote| {
        remote
            .counts()
            .into_iter()
            .map(|(tier, counts)| RemoteTierCounts::new(tier, &counts))
            .collect()
    })
}

/// Whether the module is a WASI program the sample can run to completion: it imports nothing
/// but WASI, and exports `_start` (a command) or is given an export to invoke (a reactor).
fn runs_as_program(module: &Module, guest: &Guest) -> bool {
    let info = module.info();
    (guest.invoke.is_some() || info.export("_start").is_some())
        && info.imports.iter().all(|i| i.module == wasi::MODULE)
}
