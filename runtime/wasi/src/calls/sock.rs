//! Sockets: `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`.
//!
//! Preview 1 cannot create, bind or connect sockets: a guest gets its listening sockets
//! preopened by the embedder (see [`crate::WasiConfig::preopen_listener`]) and accepts
//! connections on them. Sockets are host descriptors of file type `SOCKET_STREAM`, so
//! `fd_read`, `fd_write`, `fd_close`, `fd_fdstat_*` and `poll_oneoff` work on them as on any
//! other host stream.

use std::os::fd::AsRawFd;

use crate::{
    abi::{fdflags, filetype, riflags, sdflags},
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    fd_table::{Descriptor, HostFile},
    guest::Guest,
    os::{self, cvt, cvt_size},
};

/// Largest transfer one call makes; a guest asking for more gets a short count.
const MAX_TRANSFER: usize = 64 << 20;

/// The host socket behind `fd`; `ENOTSOCK` for any other descriptor.
fn socket(ctx: &mut WasiCtx, fd: u32) -> WasiResult<libc::c_int> {
    match ctx.fds.get(fd)? {
        Descriptor::Host(file) if file.filetype == filetype::SOCKET_STREAM => {
            Ok(file.fd.as_raw_fd())
        }
        _ => Err(Errno::NotSock),
    }
}

/// Retries `op` while a signal interrupts it.
fn retry(mut op: impl FnMut() -> isize) -> WasiResult<usize> {
    loop {
        match cvt_size(op()) {
            Err(Errno::Intr) => continue,
            other => return other,
        }
    }
}

/// `sock_accept(fd, flags) -> fd`: a new descriptor for the next connection on listening socket
/// `fd`; `flags` may ask for a non-blocking descriptor.
pub(crate) fn sock_accept(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let listener = socket(ctx, p.u32(0))?;
    let flags = p.u32(1) as u16;
    if flags & !fdflags::NONBLOCK != 0 {
        return Err(Errno::Inval);
    }
    let mut how = libc::SOCK_CLOEXEC;
    if flags & fdflags::NONBLOCK != 0 {
        how |= libc::SOCK_NONBLOCK;
    }
    if let Some(wake) = ctx.wake_fd() {
        wait_readable(listener, wake)?;
    }
    let raw = loop {
        // SAFETY: accept4 on an open socket; the peer address is not asked for.
        match cvt(unsafe {
            libc::accept4(listener, std::ptr::null_mut(), std::ptr::null_mut(), how)
        }) {
            Err(Errno::Intr) => continue,
            other => break other?,
        }
    };
    // SAFETY: accept4 just returned `raw`, and nothing else has it.
    let fd = unsafe { os::owned(raw) };
    // Preview 1 has no setsockopt: a server cannot ask for TCP_NODELAY, so every accepted
    // connection gets it (small responses go out at once, as servers configure natively).
    // Failure is harmless (not a TCP socket), so it is ignored.
    let on: libc::c_int = 1;
    // SAFETY: setsockopt on an open socket with a c_int option of its size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    let new = ctx.fds.insert(Descriptor::Host(HostFile {
        fd,
        filetype: filetype::SOCKET_STREAM,
        readable: true,
        writable: true,
        preopen: None,
        listing: Vec::new(),
    }))?;
    if let Some(control) = &ctx.control {
        control.accepted();
    }
    guest.write_u32(p.u32(2), new)
}

/// Waits until `listener` has a connection or `wake` fires (a stop request), so that a blocking
/// accept can be stopped; returns at once for a non-blocking listener.
fn wait_readable(listener: libc::c_int, wake: libc::c_int) -> WasiResult<()> {
    // SAFETY: F_GETFL on an open descriptor.
    if cvt(unsafe { libc::fcntl(listener, libc::F_GETFL) })? & libc::O_NONBLOCK != 0 {
        return Ok(());
    }
    let mut fds = [listener, wake].map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    loop {
        // SAFETY: `fds` holds two pollfds; no timeout.
        match cvt(unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) }) {
            Err(Errno::Intr) => continue,
            Err(errno) => return Err(errno),
            Ok(_) if fds[1].revents != 0 => return Err(Errno::Intr),
            Ok(_) => return Ok(()),
        }
    }
}

/// `sock_recv(fd, ri_data, ri_flags) -> (size, roflags)`: receives into the guest's buffers;
/// `ri_flags` may peek and wait for all.
pub(crate) fn sock_recv(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let fd = socket(ctx, p.u32(0))?;
    let iovecs = guest.iovecs(p.u32(1), p.u32(2))?;
    let ri_flags = p.u32(3) as u16;
    if ri_flags & !(riflags::RECV_PEEK | riflags::RECV_WAITALL) != 0 {
        return Err(Errno::Inval);
    }
    let mut how = 0;
    if ri_flags & riflags::RECV_PEEK != 0 {
        how |= libc::MSG_PEEK;
    }
    if ri_flags & riflags::RECV_WAITALL != 0 {
        how |= libc::MSG_WAITALL;
    }
    let n = transfer(fd, guest, &iovecs, |fd, msg| {
        // SAFETY: `msg` describes iovecs into guest memory, borrowed until the call returns.
        unsafe { libc::recvmsg(fd, msg, how) }
    })?;
    guest.write_u32(p.u32(4), n as u32)?;
    // `roflags`: data truncation only happens to datagrams, which preview 1 cannot have.
    guest.write_u16(p.u32(5), 0)
}

/// `sock_send(fd, si_data, si_flags) -> size`: sends the guest's buffers (no flags exist).
pub(crate) fn sock_send(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let fd = socket(ctx, p.u32(0))?;
    if p.u32(3) != 0 {
        return Err(Errno::Inval);
    }
    let iovecs = guest.iovecs(p.u32(1), p.u32(2))?;
    let n = transfer(fd, guest, &iovecs, |fd, msg| {
        // SAFETY: `msg` describes iovecs into guest memory, borrowed until the call returns.
        // MSG_NOSIGNAL: a peer that went away is an EPIPE for the guest, not a SIGPIPE for
        // the whole process.
        unsafe { libc::sendmsg(fd, msg, libc::MSG_NOSIGNAL) }
    })?;
    guest.write_u32(p.u32(4), n as u32)
}

/// Receives into or sends from the guest's buffers in place with `op` (`recvmsg` or
/// `sendmsg`), at most [`MAX_TRANSFER`] bytes, retried while a signal interrupts it.
fn transfer(
    fd: libc::c_int,
    guest: &mut Guest<'_>,
    iovecs: &[(u32, u32)],
    op: impl Fn(libc::c_int, *mut libc::msghdr) -> isize,
) -> WasiResult<usize> {
    let mut iov = guest.host_iovecs(iovecs, MAX_TRANSFER);
    // SAFETY: an all-zero msghdr is a valid empty one (no address, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = iov.len();
    retry(|| op(fd, &mut msg))
}

/// `sock_shutdown(fd, how)`: shuts down the receiving side, the sending side or both.
pub(crate) fn sock_shutdown(
    ctx: &mut WasiCtx,
    _: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let fd = socket(ctx, p.u32(0))?;
    let how = match p.u32(1) as u8 {
        sdflags::RD => libc::SHUT_RD,
        sdflags::WR => libc::SHUT_WR,
        both if both == sdflags::RD | sdflags::WR => libc::SHUT_RDWR,
        _ => return Err(Errno::Inval),
    };
    // SAFETY: shutdown on an open socket.
    cvt(unsafe { libc::shutdown(fd, how) }).map(drop)
}
