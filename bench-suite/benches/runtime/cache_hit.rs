//! `cache_hit`: load a module from a primed cache directory.
//!
//! `full` is what a caller of `Module::new` sees on a hit: hash the bytes, look up, map and
//! validate the artifact, decode its metadata and make the code executable in place.
//! `no_hash` starts from a precomputed key and stops once the artifact is mapped and validated
//! (`CacheStore::lookup`); the public API has no way to skip only the hash, so it also leaves
//! out the metadata decode and the mprotect. `first_in_boot` is `no_hash` without the
//! verification record, as the first hit after a store or a reboot finds it: the artifact's
//! MAC is computed over the whole file.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion};
use tempfile::TempDir;
use wasm_prof_runtime::{
    CacheOutcome, Config, Engine, Module,
    cache::{CacheKey, HashAlgo, verified},
};

use crate::inputs::modules;

/// Benchmarks both variants for each module, each in its own primed temporary cache.
pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("cache_hit");
    group.sample_size(50);
    for input in modules() {
        let dir = TempDir::new().expect("a temporary cache directory");
        let mut config = Config::new();
        config.cache_dir(dir.path()).hash_algo(HashAlgo::Blake3);
        let engine = Engine::new(config).expect("an engine for this CPU");
        let primed = Module::new(&engine, &input.bytes).expect("compiles");
        assert_eq!(*primed.cache_outcome(), CacheOutcome::Miss);
        drop(primed);
        let bytes = &input.bytes;
        let hit = Module::new(&engine, bytes).expect("loads");
        assert_eq!(*hit.cache_outcome(), CacheOutcome::Hit);
        drop(hit);
        group.bench_function(BenchmarkId::new("full", input.name), |b| {
            b.iter(|| Module::new(&engine, black_box(bytes)).expect("loads"))
        });
        let digest = HashAlgo::Blake3
            .digest(bytes)
            .expect("blake3 runs anywhere");
        let key = CacheKey::new(HashAlgo::Blake3, digest, engine.fingerprint());
        let store = engine.cache_store().expect("the cache is on");
        let mac_key = engine.cache_mac_key().expect("the cache is on");
        let lookup = || {
            store
                .lookup(black_box(&key), engine.fingerprint(), mac_key)
                .expect("readable")
                .expect("primed")
        };
        group.bench_function(BenchmarkId::new("no_hash", input.name), |b| b.iter(lookup));
        let record = verified::record_path(&store.path_for(&key));
        group.bench_function(BenchmarkId::new("first_in_boot", input.name), |b| {
            b.iter_batched(
                || std::fs::remove_file(&record).expect("the hit wrote a record"),
                |()| lookup(),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}
