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

fn host_read(fd: RawFd, want: usize, offset: Option<i64>) -> WasiResult<Vec<u8>> {
    let mut buf = vec![0u8; want.min(MAX_TRANSFER)];
    let n = retry(|| match offset {
        // SAFETY: `buf` is writable for its length.
        Some(at) => unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), at) },
        // SAFETY: as above.
        None => unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) },
    })?;
    buf.truncate(n);
    Ok(buf)
}

fn host_write(fd: RawFd, data: &[u8], offset: Option<i64>) -> WasiResult<usize> {
    let mut done = 0;
    while done < data.len() {
        let rest = &data[done..];
        let result = retry(|| match offset {
            // SAFETY: `rest` is readable for its length.
            Some(at) => unsafe {
                libc::pwrite(fd, rest.as_ptr().cast(), rest.len(), at + done as i64)
            },
            // SAFETY: as above.
            None => unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) },
        });
        match result {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(_) if done > 0 => break,
            Err(errno) => return Err(errno),
        }
    }
    Ok(done)
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
        Descriptor::Host(file) => host_read(file.fd.as_raw_fd(), want, at)?,
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
    let data = guest.gather(iovs.0, iovs.1)?;
    let data = &data[..data.len().min(MAX_TRANSFER)];
    let n = match ctx.fds.get(fd)? {
        Descriptor::Host(file) => host_write(file.fd.as_raw_fd(), data, at)?,
        Descriptor::Output(_) | Descriptor::Null if at.is_some() => return Err(Errno::Spipe),
        Descriptor::Output(pipe) => {
            pipe.append(data);
            data.len()
        }
        Descriptor::Null => data.len(),
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
