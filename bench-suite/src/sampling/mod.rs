//! Sampling: one measured run of a module's whole life.
//!
//! `wasm-prof phases` never measures in its own process: [`child_process`] prepares the cache
//! state for a path and runs each sample in a fresh child process of this executable (the
//! hidden `wasm-prof sample` command), which calls [`in_process`] and prints a
//! [`in_process::SampleOutput`] as JSON.

pub mod child_process;
#[cfg(feature = "experiment-slowdown")]
pub mod experiment;
pub mod in_process;
pub mod server_probe;
