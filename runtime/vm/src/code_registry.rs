//! The process-wide registry of code ranges the trap handler consults: which module's code
//! holds a faulting or returning program counter.

use std::{
    cell::Cell,
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

thread_local! {
    /// Whether this thread is inside a registry access (holding, or waiting for, its lock).
    static IN_REGISTRY: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread marked as inside the registry, so that a fault in it is never
/// taken for guest code and the signal handler never waits for a lock this thread holds.
fn inside<R>(f: impl FnOnce() -> R) -> R {
    IN_REGISTRY.with(|flag| flag.set(true));
    let result = f();
    IN_REGISTRY.with(|flag| flag.set(false));
    result
}

/// Records that `range` holds `module`'s code, for trap attribution.
pub(crate) fn register(range: Range<usize>, module: Weak<CompiledModule>) {
    if range.is_empty() {
        return;
    }
    inside(|| {
        let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        registry.insert(
            range.start,
            Registered {
                end: range.end,
                module,
            },
        );
    });
}

/// Forgets the code starting at `start`.
pub(crate) fn unregister(start: usize) {
    inside(|| {
        let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        registry.remove(&start);
    });
}

/// Whether `pc` lies in registered guest code. Called from the signal handler (after it checked
/// that this thread is in a guest call), so it must never be wrong in the unsafe direction:
/// a fault in this thread's own registry access is host code, and otherwise it waits for a
/// writer on another thread, which holds the lock only for one map update, rather than guess.
pub(crate) fn is_guest_pc(pc: usize) -> bool {
    if IN_REGISTRY.with(Cell::get) {
        return false;
    }
    inside(|| {
        let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
        registry
            .range(..=pc)
            .next_back()
            .is_some_and(|(_, r)| pc < r.end)
    })
}

/// The module whose code contains `pc`.
pub(crate) fn module_at(pc: usize) -> Option<Arc<CompiledModule>> {
    inside(|| {
        let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
        let (_, r) = registry.range(..=pc).next_back()?;
        if pc < r.end { r.module.upgrade() } else { None }
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A host address: the code of this very function.
    fn host_pc() -> usize {
        host_pc as *const () as usize
    }

    /// While another thread holds the registry lock (registering a module), a fault at a host
    /// address is still host code: the answer waits for the lock instead of guessing "guest".
    #[test]
    fn a_contended_registry_never_turns_host_code_into_guest_code() {
        let held = REGISTRY.write().unwrap();
        let asker = std::thread::spawn(|| {
            let asked = Instant::now();
            (is_guest_pc(host_pc()), asked.elapsed())
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        let (guest, waited) = asker.join().unwrap();
        assert!(!guest, "a host pc was taken for guest code");
        assert!(
            waited >= Duration::from_millis(40),
            "answered without the lock"
        );
    }

    /// Inside its own registry access a thread answers "host" at once, without waiting for
    /// the lock it holds.
    #[test]
    fn a_fault_inside_a_registry_access_is_host_code() {
        inside(|| {
            let _held = REGISTRY.read().unwrap();
            assert!(!is_guest_pc(host_pc()));
        });
    }
}
