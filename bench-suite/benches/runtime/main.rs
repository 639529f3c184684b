//! Criterion benchmarks of the runtime's steps: `compile` (cache off), `cache_hit` (load from a
//! primed cache directory), `instantiate`, `hash` and `phase_clock` (what timing costs).
//!
//! The embedded workload is always measured; the corpus modules are measured when
//! `scripts/fetch-corpus.sh` has fetched them, and skipped with a note otherwise. The whole
//! run is kept to a few minutes on a 2-core machine; `cargo bench -- --quick` is a smoke test.

mod bare_hash;
mod cache_hit;
mod compile;
mod hash;
mod inputs;
mod instantiate;
mod phase_clock;

use criterion::{criterion_group, criterion_main};

criterion_group!(
    benches,
    compile::bench,
    cache_hit::bench,
    instantiate::bench,
    hash::bench,
    phase_clock::bench
);
criterion_main!(benches);
