//! Keeping freed memory in the process while an artifact is fetched, so that its pieces land
//! in pages already faulted in rather than in fresh ones.
//!
//! The clients copy every piece they receive into a new allocation (redis-rs: each `GETRANGE`
//! reply; its read buffer grows to hold a whole reply), and the loading thread frees it once
//! written. With glibc's defaults a 256 KiB piece is above the 128 KiB mmap threshold (a
//! fresh mapping, unmapped again on free), and once the dynamic threshold rises, freed
//! memory at the top of the I/O thread's arena beyond the trim threshold is handed back to the
//! kernel — so each piece touched fresh pages that the kernel had to fault in and zero (about
//! 2.8 µs a page on this project's VM; a 7zip remote hit took 400–800 such faults on the I/O
//! thread alone). Fixed thresholds above the pieces' sizes keep that memory for the next piece.

use std::sync::Once;

/// Allocations below this size come from the heap (glibc's arenas) rather than from a mapping
/// of their own: above the largest allocation a fetch makes (the client's read buffer, which
/// doubles up to twice a reply's size).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 4 << 20;
/// Free memory at the top of a heap is kept up to this size, not handed back: more than a
/// fetch has in flight at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 32 << 20;

/// Sets glibc's mmap and trim thresholds, once per process, so that the memory of pieces
/// freed during a fetch is reused by the next ones. It fixes the thresholds (glibc stops
/// adjusting them) for the rest of the process, which at most keeps a few MiB that it freed.
/// Elsewhere than on glibc it does nothing.
pub(crate) fn keep_freed_memory() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: `mallopt` only sets two of glibc's tuning integers (under the main arena's
        // lock); any value is valid, and a failure (it returns 0) leaves the defaults.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    });
}
