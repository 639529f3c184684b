//! `phase_clock`: what timing every phase costs. The same loads with an enabled clock (`on`:
//! a timestamp per span, per function and per Cranelift pass) and a disabled one (`off`: one
//! branch per span, nothing allocated) — a compile with the cache off, and a cache hit.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion};
use tempfile::TempDir;
use wasm_prof_runtime::{Config, Engine, Module, phases::PhaseClock};

use crate::inputs::{modules, uncached_engine};

/// Benchmarks both clocks on each module, compiling and hitting the cache.
pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("phase_clock");
    let uncached = uncached_engine();
    let cache = TempDir::new().expect("a temporary cache directory");
    let mut config = Config::new();
    config.cache_dir(cache.path());
    let cached = Engine::new(config).expect("an engine for this CPU");
    for input in modules() {
        Module::new(&cached, &input.bytes).expect("compiles");
        group.sample_size(if input.large { 10 } else { 20 });
        for (clock_name, enabled) in [("on", true), ("off", false)] {
            let clock = || {
                if enabled {
                    PhaseClock::enabled()
                } else {
                    PhaseClock::disabled()
                }
            };
            let id = format!("compile-{clock_name}");
            group.bench_function(BenchmarkId::new(id, input.name), |b| {
                b.iter(|| {
                    Module::from_bytes_with_clock(&uncached, black_box(&input.bytes), &mut clock())
                        .expect("compiles")
                })
            });
            let id = format!("cache_hit-{clock_name}");
            group.bench_function(BenchmarkId::new(id, input.name), |b| {
                b.iter(|| {
                    Module::from_bytes_with_clock(&cached, black_box(&input.bytes), &mut clock())
                        .expect("loads")
                })
            });
        }
    }
    group.finish();
}
