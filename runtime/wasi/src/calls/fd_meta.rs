//! Descriptor bookkeeping and metadata: `fd_close`, `fd_renumber`, `fd_sync`,
//! `fd_datasync`, `fd_advise`, `fd_allocate`, `fd_fdstat_*`, `fd_filestat_*`.

use std::os::fd::{AsFd, AsRawFd};

use crate::{
    abi::{fdflags, filetype, rights, size},
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    fd_table::Descriptor,
    guest::Guest,
    os::{self, Filestat, cvt},
};

pub(crate) fn fd_close(ctx: &mut WasiCtx, _: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    ctx.fds.remove(p.u32(0)).map(drop)
}

pub(crate) fn fd_renumber(ctx: &mut WasiCtx, _: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    ctx.fds.renumber(p.u32(0), p.u32(1))
}

fn sync(
    ctx: &mut WasiCtx,
    fd: u32,
    op: unsafe extern "C" fn(libc::c_int) -> libc::c_int,
) -> WasiResult<()> {
    match ctx.fds.get(fd)? {
        // SAFETY: `fsync`/`fdatasync` on an open descriptor.
        Descriptor::Host(file) => cvt(unsafe { op(file.fd.as_raw_fd()) }).map(drop),
        _ => Ok(()),
    }
}

pub(crate) fn fd_sync(ctx: &mut WasiCtx, _: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    sync(ctx, p.u32(0), libc::fsync)
}

pub(crate) fn fd_datasync(ctx: &mut WasiCtx, _: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    sync(ctx, p.u32(0), libc::fdatasync)
}

/// `posix_fadvise`/`posix_fallocate` report failure as their return value, not in errno.
fn direct(ret: libc::c_int) -> WasiResult<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(Errno::from_host(ret))
    }
}

fn range(p: &Params<'_>) -> WasiResult<(i64, i64)> {
    let offset = i64::try_from(p.u64(1)).map_err(|_| Errno::Inval)?;
    let len = i64::try_from(p.u64(2)).map_err(|_| Errno::Inval)?;
    Ok((offset, len))
}

pub(crate) fn fd_advise(ctx: &mut WasiCtx, _: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let advice = match p.u32(3) & 0xff {
        0 => libc::POSIX_FADV_NORMAL,
        1 => libc::POSIX_FADV_SEQUENTIAL,
        2 => libc::POSIX_FADV_RANDOM,
        3 => libc::POSIX_FADV_WILLNEED,
        4 => libc::POSIX_FADV_DONTNEED,
        5 => libc::POSIX_FADV_NOREUSE,
        _ => return Err(Errno::Inval),
    };
    let (offset, len) = range(p)?;
    let file = ctx.fds.host(p.u32(0))?;
    // SAFETY: plain advice call on an open descriptor.
    direct(unsafe { libc::posix_fadvise(file.fd.as_raw_fd(), offset, len, advice) })
}

pub(crate) fn fd_allocate(ctx: &mut WasiCtx, _: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let (offset, len) = range(p)?;
    let file = ctx.fds.host(p.u32(0))?;
    // SAFETY: plain allocation call on an open descriptor.
    direct(unsafe { libc::posix_fallocate(file.fd.as_raw_fd(), offset, len) })
}

/// The `fdflags` a host descriptor's status flags amount to.
fn host_fdflags(fd: libc::c_int) -> WasiResult<u16> {
    // SAFETY: F_GETFL on an open descriptor.
    let fl = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    let mut flags = 0;
    if fl & libc::O_APPEND != 0 {
        flags |= fdflags::APPEND;
    }
    if fl & libc::O_NONBLOCK != 0 {
        flags |= fdflags::NONBLOCK;
    }
    if fl & libc::O_SYNC == libc::O_SYNC {
        flags |= fdflags::SYNC | fdflags::RSYNC;
    } else if fl & libc::O_DSYNC != 0 {
        flags |= fdflags::DSYNC;
    }
    Ok(flags)
}

pub(crate) fn fd_fdstat_get(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let unseekable = rights::ALL & !(rights::FD_SEEK | rights::FD_TELL);
    let (kind, flags, base) = match ctx.fds.get(p.u32(0))? {
        Descriptor::Host(file) => {
            let mut base = rights::ALL;
            if !file.readable {
                base &= !rights::FD_READ;
            }
            if !file.writable && file.filetype != filetype::DIRECTORY {
                base &= !rights::FD_WRITE;
            }
            if file.filetype == filetype::CHARACTER_DEVICE {
                base &= unseekable;
            }
            (file.filetype, host_fdflags(file.fd.as_raw_fd())?, base)
        }
        Descriptor::Input { .. } => (filetype::UNKNOWN, 0, unseekable & !rights::FD_WRITE),
        Descriptor::Output(_) => (filetype::UNKNOWN, 0, unseekable & !rights::FD_READ),
        Descriptor::Null => (filetype::UNKNOWN, 0, unseekable),
    };
    let ptr = p.u32(1);
    guest.bytes_mut(ptr, size::FDSTAT)?.fill(0);
    guest.write_u8(ptr, kind)?;
    guest.write_u16(ptr + 2, flags)?;
    guest.write_u64(ptr + 8, base)?;
    guest.write_u64(ptr + 16, rights::ALL)
}

pub(crate) fn fd_fdstat_set_flags(
    ctx: &mut WasiCtx,
    _: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let wanted = p.u32(1) as u16;
    let Descriptor::Host(file) = ctx.fds.get(p.u32(0))? else {
        return Ok(());
    };
    let fd = file.fd.as_raw_fd();
    let sync_bits = fdflags::DSYNC | fdflags::SYNC | fdflags::RSYNC;
    if wanted & sync_bits != host_fdflags(fd)? & sync_bits {
        // Linux cannot change O_SYNC/O_DSYNC on an open descriptor.
        return Err(Errno::NotSup);
    }
    // SAFETY: F_GETFL/F_SETFL on an open descriptor.
    let mut fl = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    fl &= !(libc::O_APPEND | libc::O_NONBLOCK);
    if wanted & fdflags::APPEND != 0 {
        fl |= libc::O_APPEND;
    }
    if wanted & fdflags::NONBLOCK != 0 {
        fl |= libc::O_NONBLOCK;
    }
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, fl) }).map(drop)
}

/// Rights are reported but not enforced, so narrowing them is accepted and ignored.
pub(crate) fn fd_fdstat_set_rights(
    ctx: &mut WasiCtx,
    _: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    ctx.fds.get(p.u32(0)).map(drop)
}

pub(crate) fn fd_filestat_get(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let stat = match ctx.fds.get(p.u32(0))? {
        Descriptor::Host(file) => os::fstat(file.fd.as_fd())?,
        _ => Filestat::stream(),
    };
    stat.write_to(guest, p.u32(1))
}

pub(crate) fn fd_filestat_set_size(
    ctx: &mut WasiCtx,
    _: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let size = i64::try_from(p.u64(1)).map_err(|_| Errno::Inval)?;
    let file = ctx.fds.host(p.u32(0))?;
    // SAFETY: ftruncate on an open descriptor.
    cvt(unsafe { libc::ftruncate(file.fd.as_raw_fd(), size) }).map(drop)
}

pub(crate) fn fd_filestat_set_times(
    ctx: &mut WasiCtx,
    _: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let times = os::utimes(p.u64(1), p.u64(2), p.u32(3) as u16)?;
    let file = ctx.fds.host(p.u32(0))?;
    // SAFETY: `times` holds two timespecs, as futimens requires.
    cvt(unsafe { libc::futimens(file.fd.as_raw_fd(), times.as_ptr()) }).map(drop)
}
