//! `hash`: every cache-key algorithm this CPU supports, at 1 KiB, 1 MiB and 32 MiB — through
//! the cache's `HashAlgo::digest` (`hash/ALGO/SIZE`) and as a bare call into the algorithm's
//! crate with nothing around it (`hash/ALGO-bare/SIZE`), so the difference is what the cache
//! layer adds.

use std::{hint::black_box, time::Duration};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use wasm_prof_runtime::cache::HashAlgo;

use crate::bare_hash::bare_digest;

/// Input sizes with the sample count that keeps each one to a few seconds.
const SIZES: [(&str, usize, usize); 3] = [
    ("1KiB", 1 << 10, 100),
    ("1MiB", 1 << 20, 30),
    ("32MiB", 32 << 20, 10),
];

/// Benchmarks each supported algorithm on pseudo-random bytes of each size.
pub fn bench(c: &mut Criterion) {
    let data = pseudo_random(SIZES[SIZES.len() - 1].1);
    let mut group = c.benchmark_group("hash");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (label, len, samples) in SIZES {
        group.throughput(Throughput::Bytes(len as u64));
        group.sample_size(samples);
        group.sampling_mode(if samples < 20 {
            SamplingMode::Flat
        } else {
            SamplingMode::Auto
        });
        for algo in HashAlgo::ALL {
            if let Err(e) = algo.check_supported() {
                eprintln!("note: skipping {algo}: {e}");
                continue;
            }
            let input = &data[..len];
            group.bench_with_input(BenchmarkId::new(algo.name(), label), input, |b, input| {
                b.iter(|| algo.digest(black_box(input)).expect("supported"))
            });
            let bare = format!("{}-bare", algo.name());
            group.bench_with_input(BenchmarkId::new(bare, label), input, |b, input| {
                b.iter(|| bare_digest(algo, black_box(input)))
            });
        }
    }
    group.finish();
}

/// `len` bytes from a fixed xorshift sequence, so every run hashes the same input.
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}
