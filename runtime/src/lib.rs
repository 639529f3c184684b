//! wasm-prof's runtime: an instrumented WebAssembly runtime on Cranelift with an on-disk
//! compiled-module cache. Every step of a module's life is timed by the [`phases`] clock.

#![deny(missing_docs)]

pub mod cache;
pub mod phases;
