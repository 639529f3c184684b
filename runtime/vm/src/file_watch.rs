//! Mapped files that another process may truncate while they are read.
//!
//! Reading a page of a file mapping past the file's (new) end raises SIGBUS. A module file is
//! read through a mapping (hashing a mapped file costs no copy), so a truncation by another
//! process during hashing or compiling would kill the process in host code. A [`FileWatch`]
//! registers such a mapping: a SIGBUS inside it makes the signal handler put a page of zeros
//! over the vanished page, mark the watch damaged and let the read go on. The reader checks
//! [`FileWatch::damaged`] after it is done and turns a damaged read into an error, so garbage
//! read from the zero pages is never used.
//!
//! The table is a fixed array of atomics, read lock-free from the signal handler.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How many mappings can be watched at once; a reader that finds none free does without
/// (see [`FileWatch::new`]).
const SLOTS: usize = 64;

struct Slot {
    /// Whether a watch owns this slot.
    claimed: AtomicBool,
    /// The watched range; `end == 0` while it is being set up or torn down.
    start: AtomicUsize,
    end: AtomicUsize,
    /// A page in the range vanished and was replaced by zeros.
    damaged: AtomicBool,
}

impl Slot {
    const fn new() -> Self {
        Self {
            claimed: AtomicBool::new(false),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            damaged: AtomicBool::new(false),
        }
    }
}

static WATCHED: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
/// This system's page size, recorded before any watch exists so the handler need not ask.
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// A registered file mapping; unregistered when dropped.
#[derive(Debug)]
pub struct FileWatch {
    slot: usize,
}

impl FileWatch {
    /// Watches `bytes`, a read-only private mapping of a file, until the watch is dropped;
    /// `None` when every slot is taken (the caller should then read the file instead of
    /// mapping it). Installs the signal handler if it is not yet installed.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        crate::signals::install_handlers();
        PAGE_SIZE.store(region::page::size(), Ordering::Relaxed);
        let slot = WATCHED.iter().position(|slot| {
            slot.claimed
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        let range = bytes.as_ptr_range();
        let entry = &WATCHED[slot];
        entry.damaged.store(false, Ordering::Relaxed);
        entry.start.store(range.start as usize, Ordering::Relaxed);
        entry.end.store(range.end as usize, Ordering::Release);
        Some(Self { slot })
    }

    /// Whether a page of the mapping vanished (the file shrank) while it was watched: what was
    /// read from it since is zeros, not the file's bytes.
    pub fn damaged(&self) -> bool {
        WATCHED[self.slot].damaged.load(Ordering::Acquire)
    }
}

impl Drop for FileWatch {
    fn drop(&mut self) {
        let entry = &WATCHED[self.slot];
        entry.end.store(0, Ordering::Release);
        entry.start.store(0, Ordering::Relaxed);
        entry.claimed.store(false, Ordering::Release);
    }
}

/// Called by the signal handler for a SIGBUS at `addr`: when `addr` lies in a watched mapping,
/// maps a zero page over its page, marks the watch damaged and returns `true` (the faulting
/// read can be retried). Async-signal-safe: atomics and one `mmap` system call.
pub(crate) fn replace_vanished_page(addr: usize) -> bool {
    let page = PAGE_SIZE.load(Ordering::Relaxed);
    if page == 0 {
        return false;
    }
    for entry in &WATCHED {
        let end = entry.end.load(Ordering::Acquire);
        let start = entry.start.load(Ordering::Relaxed);
        if end == 0 || !(start..end).contains(&addr) {
            continue;
        }
        let page_start = addr & !(page - 1);
        // SAFETY: the page lies in a mapping the watch's owner made read-only and private and
        // keeps until it drops the watch; replacing it with zeros changes only what that
        // owner reads, and the owner discards what it read once it sees `damaged`.
        let mapped = unsafe {
            libc::mmap(
                page_start as *mut libc::c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if mapped == libc::MAP_FAILED {
            return false;
        }
        entry.damaged.store(true, Ordering::Release);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use std::{fs::File, io::Write};

    use super::*;

    /// A file truncated while its mapping is read: the read goes on over zeros, the watch says
    /// it is damaged, and the process lives.
    #[test]
    fn a_truncated_mapping_reads_zeros_and_reports_damage() {
        let page = region::page::size();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![7u8; 4 * page]).unwrap();
        // SAFETY: the file is ours alone; its truncation below is the point of the test.
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        let watch = FileWatch::new(&map).unwrap();
        assert_eq!(map[3 * page], 7);
        assert!(!watch.damaged());
        truncate(&file, page);
        let sum: u64 = map.iter().map(|b| u64::from(*b)).sum();
        assert_eq!(
            sum,
            7 * page as u64,
            "the first page is intact, the rest zeros"
        );
        assert!(watch.damaged());
        drop(watch);
    }

    /// Watches release their slots: more watches than slots, one after another, all work.
    #[test]
    fn slots_are_reused() {
        let bytes = [1u8; 16];
        for _ in 0..SLOTS * 2 {
            let watch = FileWatch::new(&bytes).unwrap();
            assert!(!watch.damaged());
        }
    }

    fn truncate(file: &File, len: usize) {
        file.set_len(len as u64).unwrap();
    }
}
