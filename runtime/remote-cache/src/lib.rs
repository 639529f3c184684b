//! Remote tiers of the compiled-module cache, shared by a fleet: Redis and S3-compatible
//! object stores behind the local cache directory.
//!
//! The layout follows build caches' split of an action cache from content-addressed storage:
//! an **action entry** maps a cache key (module digest and engine fingerprint) to the MAC of
//! the artifact compiled for it, and the artifact is stored under that MAC, so identical
//! artifacts are stored once. The MAC is the artifact's own keyed BLAKE3 (see
//! [`wasm_prof_cache::mac`]); the action entry carries a MAC of its own, made with the same
//! secret under another derived key. Remote bytes are never trusted: a fetched artifact is
//! written, piece by piece as it arrives, into a [`wasm_prof_cache::Backfill`], which passes it
//! through every check a local entry passes, its MAC over all its bytes included, before it is
//! renamed into the local cache and mapped from there.
//!
//! Every remote failure is a warning and a local compile, never an error: connections and
//! requests time out ([`RemoteOptions`]), and a tier that keeps failing is skipped for a while.
//! Uploads run in the background on the cache's own I/O thread, so they never delay a start.
//!
//! This is a crate of its own, not a module of `wasm-prof-cache`, because the clients it uses
//! (`redis`, `object_store`) bring an async runtime and an HTTP/TLS stack that programs using
//! only the local cache should not have to build.

#![deny(missing_docs)]

mod action;
mod breaker;
mod counters;
pub mod error;
mod freed_memory;
mod parts;
mod redis_tier;
mod remote;
mod s3_tier;
mod tier;
mod url;

pub use action::ActionEntry;
pub use counters::TierCounts;
pub use error::RemoteError;
pub use remote::{Claim, Found, Lookup, RemoteCache, RemoteOptions, TierStats};
pub use url::TierUrl;
