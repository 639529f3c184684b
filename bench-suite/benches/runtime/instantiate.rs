//! `instantiate`: a fresh store, a linker with every import stubbed, and instantiation of an
//! already compiled module (its start function included).

use criterion::{BenchmarkId, Criterion};
use wasm_prof_runtime::{Linker, Module, Store};

use crate::inputs::{modules, uncached_engine};

/// Benchmarks instantiating each module.
pub fn bench(c: &mut Criterion) {
    let engine = uncached_engine();
    let mut group = c.benchmark_group("instantiate");
    for input in modules() {
        let module = Module::new(&engine, &input.bytes).expect("compiles");
        group.bench_function(BenchmarkId::from_parameter(input.name), |b| {
            b.iter(|| {
                let mut store = Store::new(&engine);
                let mut linker = Linker::new();
                linker
                    .define_unknown_imports_as_traps(&mut store, &module)
                    .expect("stubs");
                linker
                    .instantiate(&mut store, &module)
                    .expect("instantiates");
                store
            })
        });
    }
    group.finish();
}
