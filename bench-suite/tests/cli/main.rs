//! Command-line tests of `wasm-prof`, one binary; each test gets its own temporary directory.

mod cache_trust;
mod engines;
mod gate;
mod gate_deterministic;
mod gate_wall_clock;
mod hashes;
mod perf;
mod phases;
mod programs;
mod remote;
mod report;
mod run;
mod sample;
mod servers;
mod util;
mod workloads;
