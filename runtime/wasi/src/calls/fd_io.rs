//! Reading, writing and positioning: `fd_read`, `fd_write`, `fd_pread`, `fd_pwrite`,
//! `fd_seek`, `fd_tell`.

use std::os::fd::{AsRawFd, RawFd};

use crate::{
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    fd_table::Descriptor,
    guest::{Guest, total_len},
    os::cvt_size,
};

/// Largest transfer one call makes; a guest asking for more gets a short count, as POSIX
/// allows.
const MAX_TRANSFER: usize = 64 << 20;

/// Retries `op` while it is interrupted by a signal.
fn retry(mut op: impl FnMut() -> isize) -> WasiResult<usize> {
    loop {
        match cvt_size(op()) {
            Err(Errno::Intr) => continue,
            other => return other,
        }
    }
}

/// A vectored I/O call at the descriptor's position (`readv`, `writev`)...
type Plain = unsafe extern "C" fn(libc::c_int, *const libc::iovec, libc::c_int) -> isize;
/// ...and at an offset (`preadv`, `pwritev`).
type Positioned =
    unsafe extern "C" fn(libc::c_int, *const libc::iovec, libc::c_int, libc::off_t) -> isize;

/// `readv`/`preadv`: from a host descriptor straight into the guest's buffers.
const READ: (Plain, Positioned) = (libc::readv, libc::preadv);
/// `writev`/`pwritev`: the guest's buffers to a host descriptor; one call, so a short count
/// is the guest's to handle, as POSIX allows.
const WRITE: (Plain, Positioned) = (libc::writev, libc::pwritev);

/// Moves data between a host descriptor and the guest's buffers in place with one vectored
/// call of `calls` ([`READ`] or [`WRITE`]), at `offset` or the descriptor's position.
fn host_io(
    fd: RawFd,
    guest: &mut Guest<'_>,
    iovecs: &[(u32, u32)],
    offset: Option<i64>,
    (plain, positioned): (Plain, Positioned),
) -> WasiResult<usize> {
    let iov = guest.host_iovecs(iovecs, MAX_TRANSFER);
    let count = iov.len() as libc::c_int;
    retry(|| match offset {
        // SAFETY: `iov` holds `count` iovecs into guest memory, which stays borrowed (and
        // unused otherwise) until the call returns.
        Some(at) => unsafe { positioned(fd, iov.as_ptr(), count, at) },
        // SAFETY: as above.
        None => unsafe { plain(fd, iov.as_ptr(), count) },
    })
}

fn offset(value: u64) -> WasiResult<i64> {
    i64::try_from(value).map_err(|_| Errno::Inval)
}

fn read(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    fd: u32,
    iovs: (u32, u32),
    at: Option<i64>,
) -> WasiResult<u32> {
    let iovecs = guest.iovecs(iovs.0, iovs.1)?;
    let want = total_len(&iovecs);
    let data = match ctx.fds.get(fd)? {
        Descriptor::Host(file) => {
            return host_io(file.fd.as_raw_fd(), guest, &iovecs, at, READ).map(|n| n as u32);
        }
        Descriptor::Input { .. } | Descriptor::Null if at.is_some() => return Err(Errno::Spipe),
        Descriptor::Input { data, pos } => {
            let n = want.min(data.len() - *pos);
            *pos += n;
            data[*pos - n..*pos].to_vec()
        }
        Descriptor::Null => Vec::new(),
        Descriptor::Output(_) => return Err(Errno::Badf),
    };
    guest.scatter(&iovecs, &data)?;
    Ok(data.len() as u32)
}

fn write(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    fd: u32,
    iovs: (u32, u32),
    at: Option<i64>,
) -> WasiResult<u32> {
    let iovecs = guest.iovecs(iovs.0, iovs.1)?;
    let n = match ctx.fds.get(fd)? {
        Descriptor::Host(file) => host_io(file.fd.as_raw_fd(), guest, &iovecs, at, WRITE)?,
        Descriptor::Output(_) | Descriptor::Null if at.is_some() => return Err(Errno::Spipe),
        Descriptor::Output(pipe) => {
            let data = guest.gather(&iovecs)?;
            let data = &data[..data.len().min(MAX_TRANSFER)];
            pipe.append(data);
            data.len()
        }
        Descriptor::Null => total_len(&iovecs).min(MAX_TRANSFER),
        Descriptor::Input { .. } => return Err(Errno::Badf),
    };
    Ok(n as u32)
}

pub(crate) fn fd_read(ctx: &mut WasiCtx, guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let n = read(ctx, guest, p.u32(0), (p.u32(1), p.u32(2)), None)?;
    guest.write_u32(p.u32(3), n)
}

pub(crate) fn fd_pread(ctx: &mut WasiCtx, guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let n = read(
        ctx,
        guest,
        p.u32(0),
        (p.u32(1), p.u32(2)),
        Some(offset(p.u64(3))?),
    )?;
    guest.write_u32(p.u32(4), n)
}

pub(crate) fn fd_write(ctx: &mut WasiCtx, guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let n = write(ctx, guest, p.u32(0), (p.u32(1), p.u32(2)), None)?;
    guest.write_u32(p.u32(3), n)
}

pub(crate) fn fd_pwrite(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let n = write(
        ctx,
        guest,
        p.u32(0),
        (p.u32(1), p.u32(2)),
        Some(offset(p.u64(3))?),
    )?;
    guest.write_u32(p.u32(4), n)
}

fn seek(ctx: &mut WasiCtx, fd: u32, delta: i64, whence: u32) -> WasiResult<u64> {
    let whence = match whence {
        0 => libc::SEEK_SET,
        1 => libc::SEEK_CUR,
        2 => libc::SEEK_END,
        _ => return Err(Errno::Inval),
    };
    match ctx.fds.get(fd)? {
        Descriptor::Host(file) => {
            // SAFETY: plain lseek on an open descriptor.
            let pos = unsafe { libc::lseek(file.fd.as_raw_fd(), delta, whence) };
            cvt_size(pos as isize).map(|pos| pos as u64)
        }
        _ => Err(Errno::Spipe),
    }
}

pub(crate) fn fd_seek(ctx: &mut WasiCtx, guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let pos = seek(ctx, p.u32(0), p.u64(1) as i64, p.u32(2) & 0xff)?;
    guest.write_u64(p.u32(3), pos)
}

pub(crate) fn fd_tell(ctx: &mut WasiCtx, guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let pos = seek(ctx, p.u32(0), 0, 1)?;
    guest.write_u64(p.u32(1), pos)
}
