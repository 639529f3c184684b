//! `compile`: validate and compile a module with the cache off, functions in parallel.

use std::{hint::black_box, time::Duration};

use criterion::{BenchmarkId, Criterion, SamplingMode};
use wasm_prof_runtime::Module;

use crate::inputs::{modules, uncached_engine};

/// Benchmarks a cold compile of each module.
pub fn bench(c: &mut Criterion) {
    let engine = uncached_engine();
    let mut group = c.benchmark_group("compile");
    group.sampling_mode(SamplingMode::Flat);
    for input in modules() {
        let (samples, seconds) = if input.large { (10, 30) } else { (20, 10) };
        group
            .sample_size(samples)
            .measurement_time(Duration::from_secs(seconds));
        group.bench_with_input(
            BenchmarkId::from_parameter(input.name),
            &input.bytes,
            |b, bytes| b.iter(|| Module::new(&engine, black_box(bytes)).expect("compiles")),
        );
    }
    group.finish();
}
