//! The process-wide registry of code ranges the trap handler consults: which module's code
//! holds a faulting or returning program counter.

use std::{
    collections::BTreeMap,
    ops::Range,
    sync::{Arc, RwLock, Weak},
};

use crate::compiled_module::CompiledModule;

struct Registered {
    end: usize,
    module: Weak<CompiledModule>,
}

static REGISTRY: RwLock<BTreeMap<usize, Registered>> = RwLock::new(BTreeMap::new());

/// Records that `range` holds `module`'s code, for trap attribution.
pub(crate) fn register(range: Range<usize>, module: Weak<CompiledModule>) {
    if range.is_empty() {
        return;
    }
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    registry.insert(
        range.start,
        Registered {
            end: range.end,
            module,
        },
    );
}

/// Forgets the code starting at `start`.
pub(crate) fn unregister(start: usize) {
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    registry.remove(&start);
}

/// Whether `pc` lies in registered guest code. Called from the signal handler: it never
/// blocks, and answers `true` when another thread holds the registry lock (the caller has
/// already checked that this thread is running guest code).
pub(crate) fn is_guest_pc(pc: usize) -> bool {
    match REGISTRY.try_read() {
        Ok(registry) => registry
            .range(..=pc)
            .next_back()
            .is_some_and(|(_, r)| pc < r.end),
        Err(_) => true,
    }
}

/// The module whose code contains `pc`.
pub(crate) fn module_at(pc: usize) -> Option<Arc<CompiledModule>> {
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (_, r) = registry.range(..=pc).next_back()?;
    if pc < r.end { r.module.upgrade() } else { None }
}
