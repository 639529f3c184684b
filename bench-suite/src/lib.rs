//! wasm-prof, the harness: measures where the start-up time of a WebAssembly program goes and
//! what a compiled-module cache saves, and fails a CI build when a phase gets slower.
//!
//! The binary is a thin shell over [`commands`]; the modules are public so that integration
//! tests can build reports with the same types the tool writes.

#![warn(missing_docs)]

pub mod analysis;
pub mod commands;
pub mod corpus;
pub mod deterministic;
pub mod engines;
pub mod export;
pub mod guest;
pub mod machine;
pub mod model;
pub mod module_file;
pub mod render;
pub mod sampling;
pub mod units;
pub mod warnings;
pub mod wast;
pub mod workloads;
