//! `path_open`: opens a file or directory beneath a directory descriptor.

use std::os::fd::{AsFd, OwnedFd};

use crate::{
    abi::{LOOKUP_SYMLINK_FOLLOW, fdflags, filetype, oflags, rights},
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    fd_table::{Descriptor, HostFile},
    guest::Guest,
    os,
    sandbox::open_beneath,
};

/// What the guest asked for, in open(2) terms.
struct Request {
    flags: libc::c_int,
    readable: bool,
    writable: bool,
}

fn request(oflags: u16, base: u64, fdflags: u16) -> Request {
    let directory = oflags & oflags::DIRECTORY != 0;
    let write_rights = rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE;
    let writable = !directory
        && (base & write_rights != 0
            || oflags & oflags::TRUNC != 0
            || fdflags & fdflags::APPEND != 0);
    // Rights are not enforced; a descriptor asked for neither side is opened for reading.
    let readable = directory || base & rights::FD_READ != 0 || !writable;
    let mut flags = match (readable, writable) {
        (true, true) => libc::O_RDWR,
        (false, true) => libc::O_WRONLY,
        _ => libc::O_RDONLY,
    };
    for (bit, flag) in [
        (oflags::CREAT, libc::O_CREAT),
        (oflags::DIRECTORY, libc::O_DIRECTORY),
        (oflags::EXCL, libc::O_EXCL),
        (oflags::TRUNC, libc::O_TRUNC),
    ] {
        if oflags & bit != 0 {
            flags |= flag;
        }
    }
    for (bit, flag) in [
        (fdflags::APPEND, libc::O_APPEND),
        (fdflags::DSYNC, libc::O_DSYNC),
        (fdflags::NONBLOCK, libc::O_NONBLOCK),
        (fdflags::RSYNC, libc::O_RSYNC),
        (fdflags::SYNC, libc::O_SYNC),
    ] {
        if fdflags & bit != 0 {
            flags |= flag;
        }
    }
    Request {
        flags,
        readable,
        writable,
    }
}

pub(crate) fn path_open(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let follow = p.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0;
    let path = guest.str(p.u32(2), p.u32(3))?;
    let mut req = request(p.u32(4) as u16, p.u64(5), p.u32(7) as u16);
    let dir = ctx.fds.dir(p.u32(0))?;
    let open =
        |flags| -> WasiResult<OwnedFd> { open_beneath(dir.fd.as_fd(), path, flags, 0o666, follow) };
    let fd = match open(req.flags) {
        // A directory asked for with write rights it does not use (as some libcs do):
        // open it for reading instead.
        Err(Errno::IsDir) if req.flags & (libc::O_CREAT | libc::O_TRUNC) == 0 => {
            req.flags = (req.flags & !libc::O_ACCMODE) | libc::O_RDONLY;
            req.readable = true;
            req.writable = false;
            open(req.flags)?
        }
        other => other?,
    };
    let kind = os::fstat(fd.as_fd())?.filetype;
    let new = ctx.fds.insert(Descriptor::Host(HostFile {
        fd,
        filetype: kind,
        readable: req.readable,
        writable: req.writable && kind != filetype::DIRECTORY,
        preopen: None,
        listing: Vec::new(),
    }))?;
    guest.write_u32(p.u32(8), new)
}
