//! What one process did with each remote tier: counted as it happens, read for reports.

use std::sync::{
    Mutex,
    atomic::{AtomicU64, Ordering::Relaxed},
};

/// What one process did with one remote tier so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierCounts {
    /// Artifacts fetched: a usable entry found, and the artifact it names received.
    pub hits: u64,
    /// Lookups that found no entry.
    pub misses: u64,
    /// Failed requests, refused entries, and entries whose artifact could not be fetched.
    pub errors: u64,
    /// Artifact bytes received.
    pub bytes_fetched: u64,
    /// Artifact and action entry bytes uploaded.
    pub bytes_stored: u64,
}

impl TierCounts {
    /// The counts by name, as reports and the tiers' own counters name them.
    pub fn fields(&self) -> [(&'static str, u64); 5] {
        [
            ("hits", self.hits),
            ("misses", self.misses),
            ("errors", self.errors),
            ("bytes_fetched", self.bytes_fetched),
            ("bytes_stored", self.bytes_stored),
        ]
    }
}

/// The counters behind [`TierCounts`], updated from the I/O thread.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
    bytes_fetched: AtomicU64,
    bytes_stored: AtomicU64,
    /// What was already added to the tier's own counters.
    published: Mutex<TierCounts>,
}

impl Counters {
    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Relaxed);
    }

    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Relaxed);
    }

    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }

    pub(crate) fn fetched(&self, bytes: u64) {
        self.bytes_fetched.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn stored(&self, bytes: u64) {
        self.bytes_stored.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> TierCounts {
        TierCounts {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            errors: self.errors.load(Relaxed),
            bytes_fetched: self.bytes_fetched.load(Relaxed),
            bytes_stored: self.bytes_stored.load(Relaxed),
        }
    }

    /// What was counted since the last call (to add to the tier's own counters); `None` when
    /// nothing was.
    pub(crate) fn unpublished(&self) -> Option<TierCounts> {
        let now = self.snapshot();
        let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        let delta = TierCounts {
            hits: now.hits - published.hits,
            misses: now.misses - published.misses,
            errors: now.errors - published.errors,
            bytes_fetched: now.bytes_fetched - published.bytes_fetched,
            bytes_stored: now.bytes_stored - published.bytes_stored,
        };
        *published = now;
        (delta != TierCounts::default()).then_some(delta)
    }
}
