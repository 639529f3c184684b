//! Thin wrappers over the libc calls the WASI functions make: errno conversion, C strings,
//! `stat` into WASI's `filestat`, timestamps.

use std::{
    ffi::CString,
    os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd},
};

use crate::{
    abi::{filetype, fstflags},
    errno::{Errno, WasiResult},
    guest::Guest,
};

/// `Ok(ret)` for a non-negative libc return value, else the thread's errno.
pub(crate) fn cvt(ret: libc::c_int) -> WasiResult<libc::c_int> {
    if ret < 0 { Err(Errno::last()) } else { Ok(ret) }
}

/// As [`cvt`] for calls returning `ssize_t`/`off_t`.
pub(crate) fn cvt_size(ret: isize) -> WasiResult<usize> {
    usize::try_from(ret).map_err(|_| Errno::last())
}

/// A path as a C string; an interior NUL is `EILSEQ`.
pub(crate) fn c_path(path: &str) -> WasiResult<CString> {
    CString::new(path).map_err(|_| Errno::Ilseq)
}

/// Takes ownership of a descriptor a libc call returned.
///
/// # Safety
/// `fd` must be an open descriptor that nothing else owns (closes or wraps).
pub(crate) unsafe fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller hands over sole ownership of an open descriptor.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// WASI's `filestat` of a file.
pub(crate) struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl Filestat {
    /// The record of something that is not a host file (an in-memory stream).
    pub(crate) fn stream() -> Self {
        Self {
            dev: 0,
            ino: 0,
            filetype: filetype::UNKNOWN,
            nlink: 1,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        }
    }

    /// Writes the 64-byte record at `ptr`.
    pub(crate) fn write_to(&self, guest: &mut Guest<'_>, ptr: u32) -> WasiResult<()> {
        guest.bytes_mut(ptr, crate::abi::size::FILESTAT)?.fill(0);
        guest.write_u64(ptr, self.dev)?;
        guest.write_u64(ptr + 8, self.ino)?;
        guest.write_u8(ptr + 16, self.filetype)?;
        guest.write_u64(ptr + 24, self.nlink)?;
        guest.write_u64(ptr + 32, self.size)?;
        guest.write_u64(ptr + 40, self.atim)?;
        guest.write_u64(ptr + 48, self.mtim)?;
        guest.write_u64(ptr + 56, self.ctim)
    }
}

/// The WASI file type of a `st_mode`.
pub(crate) fn filetype_of_mode(mode: libc::mode_t) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFBLK => filetype::BLOCK_DEVICE,
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFSOCK => filetype::SOCKET_STREAM,
        libc::S_IFLNK => filetype::SYMBOLIC_LINK,
        _ => filetype::UNKNOWN,
    }
}

fn nanos(sec: i64, nsec: i64) -> u64 {
    (sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(nsec as u64)
}

/// `fstat` of `fd` as a WASI `filestat`.
pub(crate) fn fstat(fd: BorrowedFd<'_>) -> WasiResult<Filestat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fd` is open and `st` has room for one `stat`.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: `fstat` succeeded, so it filled `st`.
    let st = unsafe { st.assume_init() };
    Ok(Filestat {
        dev: st.st_dev,
        ino: st.st_ino,
        filetype: filetype_of_mode(st.st_mode),
        nlink: st.st_nlink,
        size: st.st_size as u64,
        atim: nanos(st.st_atime, st.st_atime_nsec),
        mtim: nanos(st.st_mtime, st.st_mtime_nsec),
        ctim: nanos(st.st_ctime, st.st_ctime_nsec),
    })
}

/// The two `timespec`s of `futimens`/`utimensat` for WASI's times and `fstflags`.
pub(crate) fn utimes(atim: u64, mtim: u64, flags: u16) -> WasiResult<[libc::timespec; 2]> {
    let one = |time: u64, set: u16, now: u16| {
        if flags & set != 0 && flags & now != 0 {
            return Err(Errno::Inval);
        }
        let (tv_sec, tv_nsec) = if flags & now != 0 {
            (0, libc::UTIME_NOW)
        } else if flags & set != 0 {
            ((time / 1_000_000_000) as i64, (time % 1_000_000_000) as i64)
        } else {
            (0, libc::UTIME_OMIT)
        };
        Ok(libc::timespec { tv_sec, tv_nsec })
    };
    Ok([
        one(atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        one(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ])
}

/// The `/proc` path that names the file behind `fd` (for calls that lack an fd variant).
pub(crate) fn proc_path(fd: BorrowedFd<'_>) -> WasiResult<CString> {
    c_path(&format!("/proc/self/fd/{}", fd.as_raw_fd()))
}
