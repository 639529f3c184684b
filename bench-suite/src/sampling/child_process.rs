//! The parent side of sampling: prepares the cache state for a path and runs one sample in a
//! fresh child process of this same executable.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, bail};
use wasm_prof_runtime::{
    cache::{CacheKey, HashAlgo, MacKey, key_file::key_from_env, verified::SETTLE},
    remote_cache::{RemoteCache, RemoteOptions},
};

use crate::{
    engines::EngineName,
    guest::Guest,
    model::PathKind,
    sampling::in_process::{
        CAPTURED_STDERR, CAPTURED_STDOUT, CacheMode, SampleOutput, engine_fingerprint,
    },
};

/// How many lines of a guest's stderr an error message quotes.
pub const STDERR_TAIL_LINES: usize = 5;

/// What every sample of a series runs: a module, and the program in it.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    /// The module file.
    pub module: &'a Path,
    /// The program's arguments, environment, directories, stdin and entry point.
    pub guest: &'a Guest,
    /// Whether a WASI program runs (`execute`); otherwise the module is only instantiated.
    pub execute: bool,
}

/// One sample as the parent sees it: what the child printed, and the program's output.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The child's phase record, artifact size and program result.
    pub output: SampleOutput,
    /// The program's stdout (empty when no program ran).
    pub stdout: Vec<u8>,
    /// The program's stderr (empty when no program ran).
    pub stderr: Vec<u8>,
}

/// The last `n` non-empty lines of a guest's output, for error messages.
pub fn tail_lines(bytes: &[u8], n: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// `text`, followed by the last lines of the guest's stderr when it wrote any, indented.
pub fn with_stderr_tail(text: String, stderr: &[u8]) -> String {
    let tail = tail_lines(stderr, STDERR_TAIL_LINES);
    if tail.is_empty() {
        return text;
    }
    let mut out = format!("{text}; the guest's stderr ended:");
    for line in tail {
        out.push_str("\n  | ");
        out.push_str(&line);
    }
    out
}

/// Which engine a series of samples runs on, and the `hash` it passes: a hash algorithm's name
/// for wasm-prof, a caching mechanism for a peer (see [`EngineName::peer_hashes`]).
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The engine.
    pub engine: EngineName,
    /// The `--hash` value of its samples.
    pub hash: &'a str,
}

/// Runs samples of one module in child processes, managing the cache directories under a root.
pub struct Sampler {
    exe: PathBuf,
    cache_root: PathBuf,
    capture: PathBuf,
    server_timeout: Duration,
    stat_index: bool,
    remote: Option<RemoteTiers>,
    /// Set for one of several builds sampled side by side: the prefix of its primed cache
    /// directories (the emptied ones are shared, so both builds write into the same place).
    build: Option<String>,
}

/// The remote tiers the samples use, and what the parent needs to clear a module's entry from
/// them (the cache key the children compute, and the secret they sign with).
struct RemoteTiers {
    urls: Vec<String>,
    cache: RemoteCache,
    mac_key: MacKey,
    fingerprint: String,
}

impl Sampler {
    /// A sampler whose cache directories live under `cache_root` and whose children write
    /// the guest's output into `capture` (created here).
    ///
    /// # Errors
    /// When this executable's path cannot be found or `capture` cannot be created.
    pub fn new(cache_root: &Path, capture: &Path) -> anyhow::Result<Self> {
        fs::create_dir_all(capture)
            .with_context(|| format!("cannot create the directory {}", capture.display()))?;
        Ok(Self {
            exe: std::env::current_exe()
                .context("cannot find the wasm-prof executable to re-run")?,
            cache_root: cache_root.to_path_buf(),
            capture: capture.to_path_buf(),
            server_timeout: Duration::from_secs(60),
            stat_index: true,
            remote: None,
            build: None,
        })
    }

    /// Runs the samples in `exe`, one of several wasm-prof builds sampled side by side and
    /// named `build`, instead of the running one: the cached path gets a directory of this
    /// build's own, the cold path empties the directory all builds share.
    pub fn for_build(mut self, exe: &Path, build: &str) -> Self {
        self.exe = exe.to_path_buf();
        self.build = Some(build.to_string());
        self
    }

    /// Gives wasm-prof's samples these remote tiers behind their cache directories: the cold
    /// path then uploads (from a remote cleared of the module first) and the remote path
    /// fetches. No URLs, no remote.
    ///
    /// # Errors
    /// When a URL names no usable tier, or the cache key or the engine cannot be set up.
    pub fn with_remote(mut self, urls: &[String]) -> anyhow::Result<Self> {
        if urls.is_empty() {
            return Ok(self);
        }
        self.remote = Some(RemoteTiers {
            urls: urls.to_vec(),
            cache: RemoteCache::new(urls, RemoteOptions::default())?,
            mac_key: key_from_env()
                .context("cannot read the cache key the samples sign with")?
                .0,
            fingerprint: engine_fingerprint()?,
        });
        Ok(self)
    }

    /// Removes the module's entry from the remote tiers, so that a sample starts from a remote
    /// without it.
    fn clear_remote(&self, job: Job, target: Target) -> anyhow::Result<()> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let algo: HashAlgo = target.hash.parse()?;
        let bytes = fs::read(job.module)
            .with_context(|| format!("cannot read {}", job.module.display()))?;
        let key = CacheKey::new(algo, algo.digest(&bytes)?, &remote.fingerprint);
        remote.cache.remove(&key, &remote.mac_key).with_context(|| {
            format!(
                "cannot clear {} from the remote cache {}",
                job.module.display(),
                remote.cache.tier_names().join(", ")
            )
        })
    }

    /// How long a server guest may take to answer all its requests in a sample (default 60 s).
    pub fn with_server_timeout(mut self, timeout: Duration) -> Self {
        self.server_timeout = timeout;
        self
    }

    /// Whether samples may take the module's digest from the cache's stat index (default on).
    pub fn with_stat_index(mut self, on: bool) -> Self {
        self.stat_index = on;
        self
    }

    fn dir(&self, path: PathKind, target: Target) -> PathBuf {
        let Target { engine, hash } = target;
        let name = match engine {
            EngineName::WasmProf => format!("{path}-{hash}"),
            peer => format!("{peer}-{path}-{hash}"),
        };
        match (&self.build, path) {
            (Some(build), PathKind::Cached | PathKind::Remote) => {
                self.cache_root.join(format!("{build}-{name}"))
            }
            _ => self.cache_root.join(name),
        }
    }

    fn reset(dir: &Path) -> anyhow::Result<()> {
        if dir.exists() {
            fs::remove_dir_all(dir)
                .with_context(|| format!("cannot empty the cache directory {}", dir.display()))?;
        }
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the cache directory {}", dir.display()))
    }

    /// Prepares the cache for a series of samples on `path`: the cached path gets an empty
    /// directory primed by one cold sample; the other paths need nothing yet. Returns the
    /// samples it took, labelled `priming sample` and `first hit`, so that their programs' results
    /// can be checked too.
    ///
    /// For wasm-prof the cached path then waits until the entry is [`SETTLE`] old and hits it
    /// once, so that its verification record vouches for it and the timed samples measure the
    /// state of every entry older than that, not the first hits that checksum the whole code.
    ///
    /// # Errors
    /// When the directory cannot be prepared or the priming samples fail.
    pub fn prepare(
        &self,
        job: Job,
        path: PathKind,
        target: Target,
    ) -> anyhow::Result<Vec<(&'static str, Sample)>> {
        let mut taken = Vec::new();
        if path == PathKind::Remote {
            let Some(remote) = &self.remote else {
                bail!("the remote path needs a remote cache tier: pass --cache-remote URL");
            };
            let dir = self.dir(path, target);
            Self::reset(&dir)?;
            self.clear_remote(job, target)?;
            let primed = self
                .spawn(job, PathKind::Cold, target, &CacheMode::Dir(dir))
                .with_context(|| {
                    format!(
                        "the sample that primes the remote cache {} failed",
                        remote.urls.join(", ")
                    )
                })?;
            taken.push(("priming sample", primed));
        }
        if path == PathKind::Cached {
            let dir = self.dir(path, target);
            Self::reset(&dir)?;
            if target.engine == EngineName::WasmProf {
                self.clear_remote(job, target)?;
            }
            let cache = CacheMode::Dir(dir);
            let primed = self
                .spawn(job, PathKind::Cold, target, &cache)
                .context("the sample that primes the cache failed")?;
            taken.push(("priming sample", primed));
            if target.engine == EngineName::WasmProf {
                std::thread::sleep(SETTLE + Duration::from_millis(100));
                let hit = self
                    .spawn(job, PathKind::Cached, target, &cache)
                    .context("the first hit on the primed cache failed")?;
                taken.push(("first hit", hit));
            }
        }
        Ok(taken)
    }

    /// Takes one sample on `path`; the cold path starts from an emptied cache each time.
    ///
    /// # Errors
    /// When the cache cannot be prepared or the child fails.
    pub fn sample(&self, job: Job, path: PathKind, target: Target) -> anyhow::Result<Sample> {
        let cache = match path {
            PathKind::Cold => {
                let dir = self.dir(path, target);
                Self::reset(&dir)?;
                if target.engine == EngineName::WasmProf {
                    self.clear_remote(job, target)?;
                }
                CacheMode::Dir(dir)
            }
            PathKind::Remote => {
                let dir = self.dir(path, target);
                Self::reset(&dir)?;
                CacheMode::Dir(dir)
            }
            PathKind::Cached => CacheMode::Dir(self.dir(path, target)),
            PathKind::Nocache => CacheMode::Disabled,
        };
        self.spawn(job, path, target, &cache)
    }

    /// Reads one captured stream of the last sample (empty when it wrote none).
    fn captured(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.capture.join(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn spawn(
        &self,
        job: Job,
        path: PathKind,
        target: Target,
        cache: &CacheMode,
    ) -> anyhow::Result<Sample> {
        let module = job.module;
        for name in [CAPTURED_STDOUT, CAPTURED_STDERR] {
            let file = self.capture.join(name);
            match fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove {}", file.display()));
                }
                _ => {}
            }
        }
        let mut command = Command::new(&self.exe);
        command
            .arg("sample")
            .args(["--engine", target.engine.name()])
            .args(["--path", path.name(), "--hash", target.hash])
            .arg("--module")
            .arg(module)
            .arg("--capture")
            .arg(&self.capture);
        match cache {
            CacheMode::Dir(dir) => command.arg("--cache-dir").arg(dir),
            CacheMode::Disabled => command.arg("--disable-cache"),
        };
        if let (CacheMode::Dir(_), Some(remote), EngineName::WasmProf) =
            (cache, &self.remote, target.engine)
        {
            for url in &remote.urls {
                command.args(["--cache-remote", url]);
            }
        }
        if !job.execute {
            command.arg("--no-execute");
        }
        if !self.stat_index {
            command.arg("--no-stat-index");
        }
        if job.guest.is_server() {
            command
                .arg("--timeout")
                .arg(self.server_timeout.as_secs_f64().to_string());
        }
        // Last: it may end with `-- ARGS`.
        command.args(job.guest.to_args());
        let output = command
            .output()
            .with_context(|| format!("cannot start the sampling process {}", self.exe.display()))?;
        let stderr = self.captured(CAPTURED_STDERR)?;
        if !output.status.success() {
            let child_stderr = String::from_utf8_lossy(&output.stderr);
            let reason = child_stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("it printed nothing")
                .trim_start_matches("error: ");
            bail!(with_stderr_tail(
                format!(
                    "sampling {} with {} on the {path} path failed ({}): {reason}",
                    module.display(),
                    target.engine,
                    output.status
                ),
                &stderr
            ));
        }
        let output: SampleOutput = serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "the sampling process for {} printed something that is not a phase record",
                module.display()
            )
        })?;
        let stdout = match output.program {
            Some(_) => self.captured(CAPTURED_STDOUT)?,
            None => Vec::new(),
        };
        Ok(Sample {
            output,
            stdout,
            stderr,
        })
    }
}
