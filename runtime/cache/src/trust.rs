//! Whether a cache directory may be trusted with machine code the runtime will execute.
//!
//! As OpenSSH's StrictModes does for keys: the directory and every directory above it must be
//! owned by root or by the current user, and none may be writable by group or others — except
//! a root-owned directory with the sticky bit (like `/tmp`) above the cache, where others can
//! add names but not replace ours. Otherwise whoever else can write there could swap in an
//! entry of their choosing, and the victim would run it outside the WebAssembly sandbox.
//! A deliberately shared cache is the caller's explicit opt-in (it then needs authenticated
//! entries to be safe).

use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use crate::error::CacheError;

/// Checks `dir` and its existing ancestors (directories not yet created will be made 0700 by
/// the store).
///
/// # Errors
/// [`CacheError::Untrusted`] naming the first directory that fails, and why.
pub fn check_trusted(dir: &Path) -> Result<(), CacheError> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    match first_untrusted(dir.ancestors().enumerate()) {
        Some((path, reason)) => Err(CacheError::Untrusted { dir, path, reason }),
        None => Ok(()),
    }
}

/// The first directory above the file at `path` that others could use to replace the file, and
/// why: as for a cache directory, except that the file's own directory may be a root-owned
/// sticky one, where others can add names but not replace this one.
pub fn untrusted_parent(path: &Path) -> Option<(PathBuf, String)> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    first_untrusted(path.ancestors().enumerate().skip(1))
}

/// The first of `dirs` (each with its depth below the directory that must hold no foreign
/// names; depth 0 is that directory) that fails the check, and why.
fn first_untrusted<'a>(dirs: impl Iterator<Item = (usize, &'a Path)>) -> Option<(PathBuf, String)> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    for (depth, path) in dirs {
        let Ok(metadata) = path.metadata() else {
            continue;
        };
        let (owner, mode) = (metadata.uid(), metadata.mode());
        if owner != me && owner != 0 {
            return Some((
                path.to_path_buf(),
                format!("is owned by another user (uid {owner})"),
            ));
        }
        let shared_write = mode & 0o022 != 0;
        let sticky_root_parent = depth > 0 && owner == 0 && mode & 0o1000 != 0;
        if shared_write && !sticky_root_parent {
            return Some((
                path.to_path_buf(),
                format!("is writable by group or others (mode {:o})", mode & 0o7777),
            ));
        }
    }
    None
}
