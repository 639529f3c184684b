//! `wasm-prof cache`: what the compiled-module cache holds, and clearing it.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use wasm_prof_runtime::{
    Config, Engine,
    artifact_breakdown::artifact_breakdown,
    cache::{
        CacheStore, HashAlgo,
        key_file::{KEY_VAR, KeySource, key_from_env},
    },
    config::REMOTE_VAR,
    remote_cache::{RemoteCache, RemoteOptions, TierUrl},
};

use crate::{
    commands::{Command, Outcome},
    units::format_bytes,
};

/// Inspects or clears the compiled-module cache.
#[derive(Debug, Args)]
pub struct CacheCommand {
    /// What to do.
    #[command(subcommand)]
    action: CacheAction,
    /// Cache directory (default: $WASM_PROF_CACHE_DIR or the user's cache directory).
    #[arg(long, value_name = "DIR", global = true)]
    cache_dir: Option<PathBuf>,
    /// A remote tier to report on as well (repeatable; default: $WASM_PROF_CACHE_REMOTE).
    #[arg(long = "cache-remote", value_name = "URL", global = true)]
    cache_remote: Vec<String>,
}

/// A cache operation.
#[derive(Debug, Subcommand)]
enum CacheAction {
    /// Print the directory, the number of entries and their total size, and what each remote
    /// tier holds.
    Stats,
    /// Remove every entry.
    Clear,
    /// Say where the key that signs entries comes from (creating the user's key file if it is
    /// the one chosen and missing); the secret itself is never printed.
    Key,
    /// Show where the bytes of a module's entry go (compiling it into the cache first if it is
    /// not there).
    Inspect {
        /// The module.
        #[arg(value_name = "FILE")]
        module: PathBuf,
        /// Cache-key hash algorithm.
        #[arg(long, default_value = "blake3")]
        hash: HashAlgo,
    },
}

impl CacheCommand {
    /// Per remote tier: its modules, artifacts and bytes, and what every process counted
    /// there (hits, misses, errors, bytes fetched and stored) where the tier keeps counters —
    /// or why it cannot say.
    fn remote_stats(&self) -> anyhow::Result<()> {
        let urls = if self.cache_remote.is_empty() {
            std::env::var(REMOTE_VAR)
                .map(|list| TierUrl::split_list(&list))
                .unwrap_or_default()
        } else {
            self.cache_remote.clone()
        };
        if urls.is_empty() {
            return Ok(());
        }
        let remote = RemoteCache::new(&urls, RemoteOptions::default())?;
        for (tier, stats) in remote.stats() {
            match stats {
                Ok(stats) => {
                    println!(
                        "remote     {tier}: {} modules, {} artifacts, {}",
                        stats.actions,
                        stats.artifacts,
                        format_bytes(stats.artifact_bytes)
                    );
                    match stats.counted {
                        Some(c) => println!(
                            "           every process so far: {} hits, {} misses, {} errors, \
                             {} fetched, {} stored",
                            c.hits,
                            c.misses,
                            c.errors,
                            format_bytes(c.bytes_fetched),
                            format_bytes(c.bytes_stored)
                        ),
                        None => println!(
                            "           (an object store keeps no counters: see the `remote_tiers` \
                             of a run's JSON report)"
                        ),
                    }
                }
                Err(e) => println!("remote     {tier}: cannot say ({e})"),
            }
        }
        Ok(())
    }
}

impl Command for CacheCommand {
    fn execute(self) -> anyhow::Result<Outcome> {
        let store = || match &self.cache_dir {
            Some(dir) => Ok(CacheStore::new(dir)),
            None => CacheStore::from_env().context("cannot find a cache directory"),
        };
        match self.action {
            CacheAction::Stats => {
                let stats = store()?.stats().context("cannot read the cache")?;
                println!("directory  {}", stats.dir.display());
                println!("entries    {}", stats.entries);
                println!(
                    "size       {} of {} allowed",
                    format_bytes(stats.total_bytes),
                    format_bytes(stats.limit)
                );
                self.remote_stats()?;
            }
            CacheAction::Clear => {
                let store = store()?;
                let removed = store.clear().context("cannot clear the cache")?;
                println!(
                    "removed {} entries ({}) from {}",
                    removed.entries,
                    format_bytes(removed.bytes),
                    store.dir().display()
                );
            }
            CacheAction::Inspect { module, hash } => {
                let mut config = Config::new();
                config.hash_algo(hash);
                if let Some(dir) = &self.cache_dir {
                    config.cache_dir(dir);
                }
                let engine = Engine::new(config).context("cannot create the engine")?;
                if let Some(why) = engine.cache_unavailable() {
                    anyhow::bail!("{why}");
                }
                let bytes = std::fs::read(&module)
                    .with_context(|| format!("cannot read {}", module.display()))?;
                let parts = artifact_breakdown(&engine, &bytes)
                    .with_context(|| format!("cannot inspect the entry of {}", module.display()))?;
                let total: u64 = parts.iter().map(|p| p.bytes).sum();
                for part in parts.iter().filter(|p| p.bytes > 0) {
                    println!(
                        "{:<46} {:>12}  {:>5.1}%",
                        part.name,
                        format_bytes(part.bytes),
                        part.bytes as f64 * 100.0 / total as f64
                    );
                }
                println!("{:<46} {:>12}", "total", format_bytes(total));
            }
            CacheAction::Key => match key_from_env()?.1 {
                KeySource::Environment => println!("key  the environment variable {KEY_VAR}"),
                KeySource::File(path) => println!("key  {}", path.display()),
                KeySource::Created(path) => println!("key  {} (created now)", path.display()),
            },
        }
        Ok(Outcome::Success)
    }
}
