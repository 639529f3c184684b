//! wasm-prof against wasmtime and wasmer: a cold compile (no cache) and a hit in each
//! engine's own on-disk cache (wasm-prof's cache, wasmtime's built-in cache, wasmer's
//! `FileSystemCache`), on the embedded workload and, when fetched, 7zip. Every engine gets the
//! module's bytes (no file read is timed); in-process and warm, where `wasm-prof phases
//! --engine` gives fresh-process figures.

use std::path::{Path, PathBuf};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use tempfile::TempDir;
use wasm_prof::{
    corpus::{self, DEFAULT_WORKLOAD},
    engines::{
        peer::{CacheMode, Peer},
        wasmer::Wasmer,
        wasmtime::Wasmtime,
    },
};
use wasm_prof_runtime::{Config, Engine, Module, phases::PhaseClock};

/// The modules to compare: the embedded workload, then 7zip when it has been fetched.
fn modules(scratch: &Path) -> Vec<(String, PathBuf)> {
    let workload = scratch.join("workload.wasm");
    std::fs::write(&workload, DEFAULT_WORKLOAD).expect("write the workload");
    let mut out = vec![("workload".to_string(), workload)];
    let sevenzip = corpus::project_root().join("corpora/fetched/7zip.wasm");
    if sevenzip.is_file() {
        out.push(("7zip".to_string(), sevenzip));
    }
    out
}

fn wasm_prof_engine(cache_dir: Option<&Path>) -> Engine {
    let mut config = Config::new();
    match cache_dir {
        Some(dir) => config.cache_dir(dir),
        None => config.cache(false),
    };
    Engine::new(config).expect("a wasm-prof engine")
}

/// A compile and a cache hit of one peer on one module. Each iteration gets a fresh engine
/// from `make` (built outside the timing), since wasmer keeps the code of every module it
/// loaded mapped until its engine is dropped, and a long run would run out of mappings.
fn bench_peer<P: Peer>(
    c: &mut Criterion,
    engine: &str,
    name: &str,
    bytes: &[u8],
    make: impl Fn(bool) -> P,
) {
    c.benchmark_group("compile").sample_size(10).bench_function(
        BenchmarkId::new(engine, name),
        |b| {
            b.iter_batched(
                || make(false),
                |peer| peer.compile(bytes).expect("compile"),
                BatchSize::PerIteration,
            )
        },
    );
    let mut clock = PhaseClock::disabled();
    make(true)
        .through_builtin_cache(bytes, false, &mut clock)
        .expect("prime the cache");
    c.benchmark_group("cache_hit")
        .bench_function(BenchmarkId::new(engine, name), |b| {
            b.iter_batched(
                || make(true),
                |peer| {
                    peer.through_builtin_cache(bytes, true, &mut PhaseClock::disabled())
                        .expect("cache hit")
                },
                BatchSize::PerIteration,
            )
        });
}

fn peers(c: &mut Criterion) {
    let scratch = TempDir::new().expect("a temporary directory");
    for (name, path) in modules(scratch.path()) {
        let bytes = std::fs::read(&path).expect("read the module");
        let nocache = wasm_prof_engine(None);
        c.benchmark_group("compile")
            .sample_size(10)
            .bench_function(BenchmarkId::new("wasm-prof", &name), |b| {
                b.iter(|| Module::new(&nocache, &bytes).expect("compile"))
            });
        let dir = TempDir::new().expect("a cache directory");
        let cached = wasm_prof_engine(Some(dir.path()));
        Module::new(&cached, &bytes).expect("prime the cache");
        c.benchmark_group("cache_hit")
            .bench_function(BenchmarkId::new("wasm-prof", &name), |b| {
                b.iter(|| Module::new(&cached, &bytes).expect("cache hit"))
            });
        let wasmtime_dir = TempDir::new().expect("a cache directory");
        let wasmtime_mode = |cached| match cached {
            true => CacheMode::Builtin(wasmtime_dir.path().to_path_buf()),
            false => CacheMode::Off,
        };
        bench_peer(c, "wasmtime", &name, &bytes, |cached| {
            Wasmtime::new(&wasmtime_mode(cached)).expect("a wasmtime engine")
        });
        let wasmer_dir = TempDir::new().expect("a cache directory");
        bench_peer(c, "wasmer", &name, &bytes, |cached| match cached {
            true => Wasmer::new(&CacheMode::Builtin(wasmer_dir.path().to_path_buf())),
            false => Wasmer::new(&CacheMode::Off),
        });
    }
}

criterion_group!(benches, peers);
criterion_main!(benches);
