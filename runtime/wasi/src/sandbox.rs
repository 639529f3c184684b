//! Path resolution confined beneath a directory descriptor: the whole of the WASI sandbox.
//!
//! Every guest path is resolved relative to a directory the guest holds (a preopen or a
//! directory opened from one), and no component — `..`, an absolute path, a symbolic link
//! (absolute or relative) — may leave it. Linux's `openat2` with `RESOLVE_BENEATH` does this
//! in the kernel, race-free; where the kernel lacks it (before 5.6, or a seccomp filter that
//! answers `ENOSYS`), paths are walked one component at a time with `O_NOFOLLOW`, tracking
//! depth and expanding links by hand. An escape is `ENOTCAPABLE`.
//!
//! Calls that have no `openat2` form (`unlinkat`, `mkdirat`, `renameat`, ...) resolve the
//! parent directory here and then act on a single final name relative to it, never following
//! a link in that final name.

use std::{
    collections::VecDeque,
    ffi::CString,
    os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd},
    sync::atomic::{AtomicBool, Ordering},
};

use crate::{
    errno::{Errno, WasiResult},
    os::{c_path, owned},
};

/// Most symbolic links one resolution expands (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Cleared once the kernel answers `openat2` with `ENOSYS`.
static OPENAT2_AVAILABLE: AtomicBool = AtomicBool::new(true);

/// Opens `path` beneath `dir` with open(2) `flags`. A symbolic link in the last component is
/// followed only when `follow` is set.
pub(crate) fn open_beneath(
    dir: BorrowedFd<'_>,
    path: &str,
    flags: libc::c_int,
    mode: libc::mode_t,
    follow: bool,
) -> WasiResult<OwnedFd> {
    if path.is_empty() {
        return Err(Errno::NoEnt);
    }
    if path.starts_with('/') {
        return Err(Errno::NotCapable);
    }
    let flags = flags | libc::O_CLOEXEC | if follow { 0 } else { libc::O_NOFOLLOW };
    if OPENAT2_AVAILABLE.load(Ordering::Relaxed) {
        match openat2_beneath(dir.as_raw_fd(), path, flags, mode) {
            Err(Errno::NoSys) => OPENAT2_AVAILABLE.store(false, Ordering::Relaxed),
            other => return other,
        }
    }
    open_by_components(dir.as_raw_fd(), path, flags, mode)
}

/// One `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` call, retried while the kernel
/// reports a concurrent rename (`EAGAIN`).
fn openat2_beneath(
    dir: RawFd,
    path: &str,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> WasiResult<OwnedFd> {
    let c = c_path(path)?;
    // SAFETY: `open_how` is plain integers, for which all-zero is valid (and means "none").
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    // O_TMPFILE includes O_DIRECTORY's bit, so it must be matched whole.
    if flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE {
        how.mode = u64::from(mode);
    }
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    for _ in 0..16 {
        // SAFETY: `c` is a NUL-terminated path, `how` a valid `open_how` whose size is passed.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir,
                c.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if ret >= 0 {
            // SAFETY: `openat2` just returned this descriptor, and nothing else has it.
            return Ok(unsafe { owned(ret as RawFd) });
        }
        match Errno::last() {
            Errno::Again | Errno::Intr => continue,
            Errno::Xdev => return Err(Errno::NotCapable),
            other => return Err(other),
        }
    }
    Err(Errno::Again)
}

fn openat(dir: RawFd, name: &str, flags: libc::c_int, mode: libc::mode_t) -> WasiResult<OwnedFd> {
    let c = c_path(name)?;
    // SAFETY: `c` is NUL-terminated; `dir` is an open directory descriptor.
    let fd = unsafe { libc::openat(dir, c.as_ptr(), flags, libc::c_uint::from(mode)) };
    if fd < 0 {
        Err(Errno::last())
    } else {
        // SAFETY: `openat` just returned `fd`, and nothing else has it.
        Ok(unsafe { owned(fd) })
    }
}

/// The target of the symbolic link `name` in `dir`, or `None` when it is not a link.
fn readlink(dir: RawFd, name: &str) -> WasiResult<Option<String>> {
    let c = c_path(name)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `buf` has `buf.len()` writable bytes; `c` is NUL-terminated.
    let n = unsafe { libc::readlinkat(dir, c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return match Errno::last() {
            Errno::Inval => Ok(None),
            other => Err(other),
        };
    }
    buf.truncate(n as usize);
    String::from_utf8(buf).map(Some).map_err(|_| Errno::Ilseq)
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = String> + '_ {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_string)
}

/// The portable walk: each intermediate component is opened `O_PATH | O_DIRECTORY |
/// O_NOFOLLOW` relative to the previous one, `..` pops a level (never above `root`), and links
/// are expanded into the remaining components.
fn open_by_components(
    root: RawFd,
    path: &str,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> WasiResult<OwnedFd> {
    let follow_last = flags & libc::O_NOFOLLOW == 0;
    let mut pending: VecDeque<String> = components(path).collect();
    let mut trailing_slash = path.ends_with('/');
    let mut levels: Vec<OwnedFd> = Vec::new();
    let mut links = 0;
    loop {
        let current = levels.last().map_or(root, AsRawFd::as_raw_fd);
        let Some(name) = pending.pop_front() else {
            return openat(current, ".", flags, mode);
        };
        if name == ".." {
            levels.pop().ok_or(Errno::NotCapable)?;
            continue;
        }
        let last = pending.is_empty();
        let expand = |pending: &mut VecDeque<String>, target: String, links: &mut usize| {
            *links += 1;
            if *links > MAX_LINKS {
                return Err(Errno::Loop);
            }
            if target.starts_with('/') {
                return Err(Errno::NotCapable);
            }
            for component in components(&target).rev() {
                pending.push_front(component);
            }
            Ok(target.ends_with('/'))
        };
        if !last || trailing_slash {
            let dir_flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
            match openat(current, &name, dir_flags, 0) {
                Ok(fd) => levels.push(fd),
                Err(error @ (Errno::NotDir | Errno::Loop)) => match readlink(current, &name)? {
                    Some(target) => {
                        trailing_slash |= expand(&mut pending, target, &mut links)? && last;
                    }
                    None => return Err(error),
                },
                Err(error) => return Err(error),
            }
            continue;
        }
        if follow_last && let Some(target) = readlink(current, &name).unwrap_or(None) {
            trailing_slash = expand(&mut pending, target, &mut links)?;
            continue;
        }
        return openat(current, &name, flags | libc::O_NOFOLLOW, mode);
    }
}

/// A path split into its (opened) parent directory and final name, for calls that act on a
/// name relative to a directory.
pub(crate) struct Target {
    /// The directory holding the final component.
    pub parent: OwnedFd,
    /// The final component: one name, never containing `/`.
    pub name: CString,
    /// The path ended in `/`, so it must name a directory.
    pub dir_only: bool,
}

/// Resolves everything but the last component of `path` beneath `dir`. A final `.` or `..`
/// is folded into the parent so that the name never leaves it.
pub(crate) fn parent_of(dir: BorrowedFd<'_>, path: &str) -> WasiResult<Target> {
    if path.is_empty() {
        return Err(Errno::NoEnt);
    }
    if path.starts_with('/') {
        return Err(Errno::NotCapable);
    }
    let trimmed = path.trim_end_matches('/');
    let dir_only = trimmed.len() != path.len();
    let (parent, name) = match trimmed.rsplit_once('/') {
        Some((parent, name)) => (parent, name),
        None => (".", trimmed),
    };
    let (parent, name) = if name == "." || name == ".." {
        (trimmed, ".")
    } else {
        (parent, name)
    };
    let parent = open_beneath(dir, parent, libc::O_PATH | libc::O_DIRECTORY, 0, true)?;
    Ok(Target {
        parent,
        name: c_path(name)?,
        dir_only,
    })
}

#[cfg(test)]
mod tests {
    use std::os::{fd::AsFd, unix::fs::symlink};

    use super::*;

    fn tree() -> (tempfile::TempDir, OwnedFd) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(tmp.path().join("outside.txt"), "secret").unwrap();
        std::fs::write(root.join("sub/inside.txt"), "fine").unwrap();
        symlink("../outside.txt", root.join("escape")).unwrap();
        symlink("/etc/passwd", root.join("absolute")).unwrap();
        symlink("sub/inside.txt", root.join("good")).unwrap();
        symlink("../inside.txt", root.join("sub/deeper/up")).unwrap();
        let dir = std::fs::File::open(&root).unwrap();
        (tmp, dir.into())
    }

    fn check(open: impl Fn(BorrowedFd<'_>, &str, bool) -> WasiResult<OwnedFd>) {
        let (_tmp, root) = tree();
        let root = root.as_fd();
        for path in [
            "../outside.txt",
            "sub/../../outside.txt",
            "escape",
            "absolute",
            "/etc/passwd",
        ] {
            let result = open(root, path, true);
            assert_eq!(
                result.err(),
                Some(Errno::NotCapable),
                "{path} must be refused"
            );
        }
        for path in [
            "sub/inside.txt",
            "good",
            "sub/deeper/up",
            "sub/deeper/../inside.txt",
            "./sub//inside.txt",
        ] {
            assert!(open(root, path, true).is_ok(), "{path} must open");
        }
        assert_eq!(open(root, "good", false).err(), Some(Errno::Loop));
        assert_eq!(open(root, "missing", true).err(), Some(Errno::NoEnt));
    }

    #[test]
    fn openat2_confines_paths() {
        check(|dir, path, follow| open_beneath(dir, path, libc::O_RDONLY, 0, follow));
    }

    #[test]
    fn component_walk_confines_paths() {
        check(|dir, path, follow| {
            if path.starts_with('/') {
                return Err(Errno::NotCapable);
            }
            let flags =
                libc::O_RDONLY | libc::O_CLOEXEC | if follow { 0 } else { libc::O_NOFOLLOW };
            open_by_components(dir.as_raw_fd(), path, flags, 0)
        });
    }

    #[test]
    fn parent_of_keeps_dot_dot_inside() {
        let (_tmp, root) = tree();
        assert_eq!(parent_of(root.as_fd(), "..").err(), Some(Errno::NotCapable));
        let target = parent_of(root.as_fd(), "sub/deeper/").unwrap();
        assert_eq!(target.name.to_str().unwrap(), "deeper");
        assert!(target.dir_only);
    }
}
