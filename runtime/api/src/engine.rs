//! The engine: configuration, the Cranelift target, the fingerprint and the epoch counter
//! shared by every module and store made from it.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use wasm_prof_compile::{OwnedTargetIsa, TargetIsa};
use wasm_prof_vm::{
    profiling::{self, PerfProfiling},
    signals,
};

use crate::{
    cache::{CacheError, CacheStore, MacKey, key_file, trust},
    config::{self, Config},
    error::{Error, Result},
    remote_cache::RemoteCache,
};

struct EngineInner {
    config: Config,
    isa: OwnedTargetIsa,
    fingerprint: String,
    perf: PerfProfiling,
    cache: CacheSetup,
    epoch: AtomicU64,
}

/// The engine's cache: off, on (a store, the key its entries are signed with, and the remote
/// tiers behind it if any), or wanted but without a usable directory or key.
enum CacheSetup {
    Off,
    On(CacheStore, MacKey, Option<Box<RemoteCache>>),
    Unavailable(String),
}

/// Compiles modules for this machine; cheap to clone and shareable across threads.
#[derive(Clone)]
pub struct Engine(Arc<EngineInner>);

impl Engine {
    /// An engine with `config`.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when Cranelift does not support this CPU, the hash
    /// algorithm cannot run here, a remote cache URL names no usable tier, `WASM_PROF_PERF`
    /// names no profiling strategy, or the perf map or jitdump file cannot be created.
    pub fn new(config: Config) -> Result<Self> {
        config.hash.check_supported()?;
        let isa = config.build_isa()?;
        let fingerprint = config::fingerprint(&config, &*isa);
        let perf = match config.perf {
            Some(strategy) => strategy,
            None => PerfProfiling::from_env().map_err(|e| Error::Config(e.to_string()))?,
        };
        profiling::prepare(perf).map_err(|e| Error::Config(e.to_string()))?;
        signals::install_handlers();
        let cache = if config.cache_enabled {
            match cache_setup(&config) {
                Ok((store, mac_key)) => {
                    let remote = (!config.cache_remote.is_empty())
                        .then(|| {
                            RemoteCache::new(
                                &config.cache_remote,
                                config.cache_remote_options.clone(),
                            )
                            .map(Box::new)
                        })
                        .transpose()
                        .map_err(|e| Error::Config(e.to_string()))?;
                    CacheSetup::On(store, mac_key, remote)
                }
                Err(e) => CacheSetup::Unavailable(e.to_string()),
            }
        } else {
            CacheSetup::Off
        };
        Ok(Self(Arc::new(EngineInner {
            config,
            isa,
            fingerprint,
            perf,
            cache,
            epoch: AtomicU64::new(0),
        })))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Everything that changes generated code, as one string (part of every cache key).
    pub fn fingerprint(&self) -> &str {
        &self.0.fingerprint
    }

    /// What this engine tells Linux `perf` about the guest code it loads.
    pub fn perf_profiling(&self) -> PerfProfiling {
        self.0.perf
    }

    /// The cache store, when the cache is on and has a directory and a key.
    pub fn cache_store(&self) -> Option<&CacheStore> {
        self.cache().map(|(store, _)| store)
    }

    /// The key cache entries are signed and authenticated with, when the cache is on.
    pub fn cache_mac_key(&self) -> Option<&MacKey> {
        self.cache().map(|(_, mac_key)| mac_key)
    }

    pub(crate) fn cache(&self) -> Option<(&CacheStore, &MacKey)> {
        match &self.0.cache {
            CacheSetup::On(store, mac_key, _) => Some((store, mac_key)),
            _ => None,
        }
    }

    /// The remote tiers behind the local cache, when the cache is on and some are configured.
    pub fn remote_cache(&self) -> Option<&RemoteCache> {
        match &self.0.cache {
            CacheSetup::On(_, _, remote) => remote.as_deref(),
            _ => None,
        }
    }

    /// Waits for the background uploads to the remote tiers (at most 10 s) and returns what
    /// went wrong with the remote tiers since the last module load, as warnings. A program
    /// calls this before it exits; dropping the last clone of the engine does the same
    /// without the warnings.
    pub fn wait_for_uploads(&self) -> Vec<String> {
        self.remote_cache()
            .map(RemoteCache::wait_for_uploads)
            .unwrap_or_default()
    }

    /// Why the cache is off although the configuration asked for it.
    pub fn cache_unavailable(&self) -> Option<&str> {
        match &self.0.cache {
            CacheSetup::Unavailable(why) => Some(why),
            _ => None,
        }
    }

    pub(crate) fn isa(&self) -> &dyn TargetIsa {
        &*self.0.isa
    }

    /// Advances the epoch; guest code in stores whose deadline is reached traps with
    /// `Interrupt` (with [`Config::epoch_interruption`] on). Callable from any thread.
    pub fn increment_epoch(&self) {
        self.0.epoch.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn current_epoch(&self) -> u64 {
        self.0.epoch.load(Ordering::Relaxed)
    }

    pub(crate) fn epoch_ptr(&self) -> *const AtomicU64 {
        &self.0.epoch
    }
}

/// The store and key `config` asks for: a directory that passes the trust check (unless the
/// cache is deliberately shared) and the configured key or the one the environment names.
fn cache_setup(config: &Config) -> std::result::Result<(CacheStore, MacKey), CacheError> {
    let dir = match &config.cache_dir {
        Some(dir) => dir.clone(),
        None => CacheStore::default_dir()?,
    };
    if !config.cache_shared {
        trust::check_trusted(&dir)?;
    }
    let mac_key = match &config.cache_mac_key {
        Some(key) => key.clone(),
        None => key_file::key_from_env()?.0,
    };
    let store = CacheStore::new(dir)
        .with_limit(config.cache_limit_bytes)
        .shared(config.cache_shared);
    Ok((store, mac_key))
}
