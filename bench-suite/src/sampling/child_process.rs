//! The parent side of sampling: prepares the cache state for a path and runs one sample in a
//! fresh child process of this same executable.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, bail};
use wasm_prof_runtime::cache::verified::SETTLE;

use crate::{
    engines::EngineName,
    model::PathKind,
    sampling::in_process::{CacheMode, SampleOutput},
};

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
}

impl Sampler {
    /// A sampler whose cache directories live under `cache_root`.
    ///
    /// # Errors
    /// When this executable's path cannot be found.
    pub fn new(cache_root: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            exe: std::env::current_exe()
                .context("cannot find the wasm-prof executable to re-run")?,
            cache_root: cache_root.to_path_buf(),
        })
    }

    fn dir(&self, path: PathKind, target: Target) -> PathBuf {
        let Target { engine, hash } = target;
        match engine {
            EngineName::WasmProf => self.cache_root.join(format!("{path}-{hash}")),
            peer => self.cache_root.join(format!("{peer}-{path}-{hash}")),
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
    /// directory primed by one cold sample; the other paths need nothing yet.
    ///
    /// For wasm-prof the cached path then waits until the entry is [`SETTLE`] old and hits it
    /// once, so that its verification record vouches for it and the timed samples measure the
    /// state of every entry older than that, not the first hits that checksum the whole code.
    ///
    /// # Errors
    /// When the directory cannot be prepared or the priming samples fail.
    pub fn prepare(&self, module: &Path, path: PathKind, target: Target) -> anyhow::Result<()> {
        if path == PathKind::Cached {
            let dir = self.dir(path, target);
            Self::reset(&dir)?;
            let cache = CacheMode::Dir(dir);
            self.spawn(module, PathKind::Cold, target, &cache)
                .context("the sample that primes the cache failed")?;
            if target.engine == EngineName::WasmProf {
                std::thread::sleep(SETTLE + Duration::from_millis(100));
                self.spawn(module, PathKind::Cached, target, &cache)
                    .context("the first hit on the primed cache failed")?;
            }
        }
        Ok(())
    }

    /// Takes one sample on `path`; the cold path starts from an emptied cache each time.
    ///
    /// # Errors
    /// When the cache cannot be prepared or the child fails.
    pub fn sample(
        &self,
        module: &Path,
        path: PathKind,
        target: Target,
    ) -> anyhow::Result<SampleOutput> {
        let cache = match path {
            PathKind::Cold => {
                let dir = self.dir(path, target);
                Self::reset(&dir)?;
                CacheMode::Dir(dir)
            }
            PathKind::Cached => CacheMode::Dir(self.dir(path, target)),
            PathKind::Nocache => CacheMode::Disabled,
        };
        self.spawn(module, path, target, &cache)
    }

    fn spawn(
        &self,
        module: &Path,
        path: PathKind,
        target: Target,
        cache: &CacheMode,
    ) -> anyhow::Result<SampleOutput> {
        let mut command = Command::new(&self.exe);
        command
            .arg("sample")
            .args(["--engine", target.engine.name()])
            .args(["--path", path.name(), "--hash", target.hash])
            .arg("--module")
            .arg(module);
        match cache {
            CacheMode::Dir(dir) => command.arg("--cache-dir").arg(dir),
            CacheMode::Disabled => command.arg("--disable-cache"),
        };
        let output = command
            .output()
            .with_context(|| format!("cannot start the sampling process {}", self.exe.display()))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("it printed nothing")
                .trim_start_matches("error: ");
            bail!(
                "sampling {} with {} on the {path} path failed ({}): {reason}",
                module.display(),
                target.engine,
                output.status
            );
        }
        serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "the sampling process for {} printed something that is not a phase record",
                module.display()
            )
        })
    }
}
