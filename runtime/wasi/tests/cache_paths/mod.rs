//! The three paths the end-to-end program tests load a module on: compiled into an empty
//! cache, loaded back from it, and compiled with the cache off.

use wasm_prof_runtime::{CacheOutcome, Config, Engine};

/// An engine with a private cache directory and one with the cache off.
pub struct CachePaths {
    cached: Engine,
    uncached: Engine,
    _dir: tempfile::TempDir,
}

impl CachePaths {
    /// Engines over a new, empty cache directory.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cached = Config::new();
        cached.cache_dir(dir.path());
        let mut uncached = Config::new();
        uncached.cache(false);
        Self {
            cached: Engine::new(cached).unwrap(),
            uncached: Engine::new(uncached).unwrap(),
            _dir: dir,
        }
    }

    /// The engine of each path and the cache outcome a module loaded on it must have: cold
    /// (a miss), cached (a hit), no cache — in that order.
    pub fn each(&self) -> [(&Engine, CacheOutcome); 3] {
        [
            (&self.cached, CacheOutcome::Miss),
            (&self.cached, CacheOutcome::Hit),
            (&self.uncached, CacheOutcome::Disabled),
        ]
    }
}
