//! What identifies one version of a file, and when that identity can be trusted to change
//! with the file's contents — the rules verification records and the digest index share.
//!
//! Writing or truncating a file, or renaming another over its name, gives the name a new inode
//! or a new status-change time (ctime), which no unprivileged process can set back. Two gaps
//! remain, and both users close them the same way: a change within the timestamp granularity
//! of an earlier look keeps the ctime, so only a file whose ctime was at least [`SETTLE`] old
//! is vouched for (git's "racy" case); a crash can lose written blocks without touching the
//! inode, so what is vouched for names the boot it was made in (Linux's `boot_id`).

use std::{
    fs::{self, Metadata},
    os::unix::fs::MetadataExt,
    sync::OnceLock,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// How old a file's ctime must be before anything vouches for its contents: more than the
/// coarsest timestamp granularity of common file systems (FAT's two seconds).
pub const SETTLE: Duration = Duration::from_secs(2);

/// What identifies one version of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileIdentity {
    /// The identity of the file `metadata` describes.
    pub fn of(metadata: &Metadata) -> Self {
        Self {
            dev: metadata.dev(),
            ino: metadata.ino(),
            size: metadata.size(),
            mtime: (metadata.mtime(), metadata.mtime_nsec()),
            ctime: (metadata.ctime(), metadata.ctime_nsec()),
        }
    }

    /// Whether the file's last status change is at least [`SETTLE`] before `now`.
    pub fn settled(&self, now: SystemTime) -> bool {
        let Ok(since_epoch) = now.duration_since(UNIX_EPOCH) else {
            return false;
        };
        let now_ns = i128::from(since_epoch.as_secs()) * 1_000_000_000
            + i128::from(since_epoch.subsec_nanos());
        let ctime_ns = i128::from(self.ctime.0) * 1_000_000_000 + i128::from(self.ctime.1);
        ctime_ns + SETTLE.as_nanos() as i128 <= now_ns
    }

    /// The identity as 56 bytes: device, inode, size, modification and status-change times
    /// (seconds, nanoseconds), little-endian.
    pub fn to_bytes(&self) -> [u8; 56] {
        let fields = [
            self.dev,
            self.ino,
            self.size,
            self.mtime.0 as u64,
            self.mtime.1 as u64,
            self.ctime.0 as u64,
            self.ctime.1 as u64,
        ];
        let mut bytes = [0; 56];
        for (chunk, field) in bytes.chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&field.to_le_bytes());
        }
        bytes
    }
}

/// The 16 bytes of this boot's id, or `None` where the kernel does not say (then no record
/// vouches for anything).
pub(crate) fn boot_id() -> Option<[u8; 16]> {
    static BOOT_ID: OnceLock<Option<[u8; 16]>> = OnceLock::new();
    *BOOT_ID.get_or_init(|| {
        let text = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let hex: Vec<u8> = text.trim().bytes().filter(|b| *b != b'-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut id = [0; 16];
        for (byte, pair) in id.iter_mut().zip(hex.chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(id)
    })
}
