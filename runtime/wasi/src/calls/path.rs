//! Path calls other than `path_open`: directories, links, renames, removal and metadata.
//! Each resolves its path beneath the guest's directory descriptor with
//! [`crate::sandbox`] and then acts on one final name relative to the parent.

use std::os::fd::{AsFd, AsRawFd};

use crate::{
    abi::{LOOKUP_SYMLINK_FOLLOW, filetype},
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    guest::Guest,
    os::{self, c_path, cvt},
    sandbox::{Target, open_beneath, parent_of},
};

/// Resolves the parent of the path at arguments `path_arg`, `path_arg + 1` beneath the
/// directory descriptor in argument `fd_arg`.
fn target(
    ctx: &mut WasiCtx,
    guest: &Guest<'_>,
    p: &Params<'_>,
    fd_arg: usize,
    path_arg: usize,
) -> WasiResult<Target> {
    let path = guest.str(p.u32(path_arg), p.u32(path_arg + 1))?;
    let dir = ctx.fds.dir(p.u32(fd_arg))?;
    parent_of(dir.fd.as_fd(), path)
}

/// The type of `target`'s final name, not following a link.
fn kind(target: &Target) -> WasiResult<u8> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    let flags = libc::AT_SYMLINK_NOFOLLOW;
    // SAFETY: `name` is NUL-terminated and `st` has room for one `stat`.
    cvt(unsafe {
        libc::fstatat(
            target.parent.as_raw_fd(),
            target.name.as_ptr(),
            st.as_mut_ptr(),
            flags,
        )
    })?;
    // SAFETY: fstatat succeeded and filled `st`.
    Ok(os::filetype_of_mode(unsafe { st.assume_init() }.st_mode))
}

/// A path written with a trailing `/` must name a directory.
fn check_trailing_slash(target: &Target) -> WasiResult<()> {
    if target.dir_only && kind(target)? != filetype::DIRECTORY {
        return Err(Errno::NotDir);
    }
    Ok(())
}

pub(crate) fn path_create_directory(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let t = target(ctx, guest, p, 0, 1)?;
    // SAFETY: `name` is NUL-terminated; `parent` is an open directory.
    cvt(unsafe { libc::mkdirat(t.parent.as_raw_fd(), t.name.as_ptr(), 0o777) }).map(drop)
}

pub(crate) fn path_remove_directory(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let t = target(ctx, guest, p, 0, 1)?;
    // SAFETY: as above.
    cvt(unsafe { libc::unlinkat(t.parent.as_raw_fd(), t.name.as_ptr(), libc::AT_REMOVEDIR) })
        .map(drop)
}

pub(crate) fn path_unlink_file(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let t = target(ctx, guest, p, 0, 1)?;
    if t.dir_only {
        return Err(if kind(&t)? == filetype::DIRECTORY {
            Errno::IsDir
        } else {
            Errno::NotDir
        });
    }
    // SAFETY: as above.
    cvt(unsafe { libc::unlinkat(t.parent.as_raw_fd(), t.name.as_ptr(), 0) }).map(drop)
}

pub(crate) fn path_rename(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let from = target(ctx, guest, p, 0, 1)?;
    let to = target(ctx, guest, p, 3, 4)?;
    check_trailing_slash(&from)?;
    if to.dir_only && kind(&from)? != filetype::DIRECTORY {
        return Err(Errno::NotDir);
    }
    // SAFETY: both names are NUL-terminated; both parents are open directories.
    cvt(unsafe {
        libc::renameat(
            from.parent.as_raw_fd(),
            from.name.as_ptr(),
            to.parent.as_raw_fd(),
            to.name.as_ptr(),
        )
    })
    .map(drop)
}

pub(crate) fn path_filestat_get(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let follow = p.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0;
    let path = guest.str(p.u32(2), p.u32(3))?;
    let dir = ctx.fds.dir(p.u32(0))?;
    let fd = open_beneath(dir.fd.as_fd(), path, libc::O_PATH, 0, follow)?;
    os::fstat(fd.as_fd())?.write_to(guest, p.u32(4))
}

pub(crate) fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let times = os::utimes(p.u64(4), p.u64(5), p.u32(6) as u16)?;
    if p.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0 {
        let path = guest.str(p.u32(2), p.u32(3))?;
        let dir = ctx.fds.dir(p.u32(0))?;
        let fd = open_beneath(dir.fd.as_fd(), path, libc::O_PATH, 0, true)?;
        let proc = os::proc_path(fd.as_fd())?;
        // SAFETY: `proc` is NUL-terminated; `times` holds two timespecs.
        return cvt(unsafe { libc::utimensat(libc::AT_FDCWD, proc.as_ptr(), times.as_ptr(), 0) })
            .map(drop);
    }
    let t = target(ctx, guest, p, 0, 2)?;
    let flags = libc::AT_SYMLINK_NOFOLLOW;
    // SAFETY: as above, relative to an open directory.
    cvt(unsafe { libc::utimensat(t.parent.as_raw_fd(), t.name.as_ptr(), times.as_ptr(), flags) })
        .map(drop)
}

pub(crate) fn path_readlink(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let t = target(ctx, guest, p, 0, 1)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `buf` is writable for its length; `name` is NUL-terminated.
    let n = unsafe {
        libc::readlinkat(
            t.parent.as_raw_fd(),
            t.name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = os::cvt_size(n)?.min(p.u32(4) as usize);
    guest.write(p.u32(3), &buf[..n])?;
    guest.write_u32(p.u32(5), n as u32)
}

/// Links may point anywhere relative (resolution stays beneath the preopen when they are
/// followed), but an absolute target would name a host path, so it is refused.
pub(crate) fn path_symlink(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let contents = guest.str(p.u32(0), p.u32(1))?;
    if contents.starts_with('/') {
        return Err(Errno::NotCapable);
    }
    let contents = c_path(contents)?;
    let t = target(ctx, guest, p, 2, 3)?;
    if t.dir_only {
        return Err(Errno::NoEnt);
    }
    // SAFETY: both strings are NUL-terminated; `parent` is an open directory.
    cvt(unsafe { libc::symlinkat(contents.as_ptr(), t.parent.as_raw_fd(), t.name.as_ptr()) })
        .map(drop)
}

pub(crate) fn path_link(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let to = target(ctx, guest, p, 4, 5)?;
    if to.dir_only {
        return Err(Errno::NoEnt);
    }
    if p.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0 {
        let path = guest.str(p.u32(2), p.u32(3))?;
        let dir = ctx.fds.dir(p.u32(0))?;
        let fd = open_beneath(dir.fd.as_fd(), path, libc::O_PATH, 0, true)?;
        let proc = os::proc_path(fd.as_fd())?;
        let flags = libc::AT_SYMLINK_FOLLOW;
        // SAFETY: both names are NUL-terminated; `to.parent` is an open directory.
        return cvt(unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                proc.as_ptr(),
                to.parent.as_raw_fd(),
                to.name.as_ptr(),
                flags,
            )
        })
        .map(drop);
    }
    let from = target(ctx, guest, p, 0, 2)?;
    check_trailing_slash(&from)?;
    // SAFETY: as above.
    cvt(unsafe {
        libc::linkat(
            from.parent.as_raw_fd(),
            from.name.as_ptr(),
            to.parent.as_raw_fd(),
            to.name.as_ptr(),
            0,
        )
    })
    .map(drop)
}
