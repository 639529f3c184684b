//! `fd_readdir`: a directory's entries as packed `dirent` records.
//!
//! The listing (with `.` and `..`, in the kernel's order) is read when the guest asks from
//! cookie 0 and kept on the descriptor; entry `i` carries cookie `i + 1` as its `d_next`, so a
//! guest resumes after a full buffer by passing the last `d_next` it saw. Records are copied
//! until the buffer is full, the last one cut short if need be: a result that fills the buffer
//! exactly tells the guest to retry with a larger buffer or the last complete cookie.

use std::{
    ffi::CStr,
    os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd},
};

use crate::{
    abi::{filetype, size},
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    fd_table::DirEntry,
    guest::Guest,
    os::{self, cvt},
};

fn dirent_type(d_type: u8, dir: libc::c_int, name: &CStr) -> u8 {
    match d_type {
        libc::DT_BLK => filetype::BLOCK_DEVICE,
        libc::DT_CHR => filetype::CHARACTER_DEVICE,
        libc::DT_DIR => filetype::DIRECTORY,
        libc::DT_REG => filetype::REGULAR_FILE,
        libc::DT_SOCK => filetype::SOCKET_STREAM,
        libc::DT_LNK => filetype::SYMBOLIC_LINK,
        libc::DT_UNKNOWN => {
            let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
            // SAFETY: `name` is NUL-terminated, `st` has room for one `stat`.
            let ret = unsafe {
                libc::fstatat(
                    dir,
                    name.as_ptr(),
                    st.as_mut_ptr(),
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            };
            if ret == 0 {
                // SAFETY: fstatat succeeded and filled `st`.
                os::filetype_of_mode(unsafe { st.assume_init() }.st_mode)
            } else {
                filetype::UNKNOWN
            }
        }
        _ => filetype::UNKNOWN,
    }
}

/// Every entry of the directory `dir`, read through a fresh descriptor so that the guest's
/// descriptor keeps no position of its own.
fn list(dir: BorrowedFd<'_>) -> WasiResult<Vec<DirEntry>> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    // SAFETY: opening "." relative to an open directory descriptor.
    let raw = cvt(unsafe { libc::openat(dir.as_raw_fd(), c".".as_ptr(), flags) })?;
    // SAFETY: `openat` just returned `raw`, and nothing else has it.
    let fd = unsafe { os::owned(raw) };
    let raw = fd.into_raw_fd();
    // SAFETY: `raw` is an open directory descriptor we own; the DIR stream takes it over.
    let stream = unsafe { libc::fdopendir(raw) };
    if stream.is_null() {
        let errno = Errno::last();
        // SAFETY: `fdopendir` failed, so `raw` is still ours to close.
        drop(unsafe { os::owned(raw) });
        return Err(errno);
    }
    let mut entries = Vec::new();
    let outcome = loop {
        // SAFETY: resetting this thread's errno to tell end-of-directory from failure.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: `stream` is an open DIR stream.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            let errno = Errno::last();
            break if errno == Errno::Success {
                Ok(())
            } else {
                Err(errno)
            };
        }
        // SAFETY: readdir returned a valid entry that lives until the next call on `stream`.
        let entry = unsafe { &*entry };
        // SAFETY: `d_name` is NUL-terminated.
        let name = unsafe { CStr::from_ptr(entry.d_name.as_ptr()) };
        entries.push(DirEntry {
            ino: entry.d_ino,
            filetype: dirent_type(entry.d_type, raw, name),
            name: name.to_bytes().to_vec(),
        });
    };
    // SAFETY: closes the stream and its descriptor exactly once.
    unsafe { libc::closedir(stream) };
    outcome.map(|()| entries)
}

pub(crate) fn fd_readdir(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let (buf, buf_len, cookie, bufused) = (p.u32(1), p.u32(2) as usize, p.u64(3), p.u32(4));
    let dir = ctx.fds.dir(p.u32(0))?;
    if cookie == 0 || dir.listing.is_empty() {
        dir.listing = list(dir.fd.as_fd())?;
    }
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(buf_len.min(1 << 16));
    for (index, entry) in dir.listing.iter().enumerate().skip(start) {
        if out.len() >= buf_len {
            break;
        }
        let mut record = [0u8; size::DIRENT];
        record[0..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
        record[8..16].copy_from_slice(&entry.ino.to_le_bytes());
        record[16..20].copy_from_slice(&(entry.name.len() as u32).to_le_bytes());
        record[20] = entry.filetype;
        out.extend_from_slice(&record);
        out.extend_from_slice(&entry.name);
    }
    out.truncate(buf_len);
    guest.write(buf, &out)?;
    guest.write_u32(bufused, out.len() as u32)
}
