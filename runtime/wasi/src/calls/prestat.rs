//! `fd_prestat_get`, `fd_prestat_dir_name`: how the guest's libc discovers its preopened
//! directories (it probes descriptors 3, 4, ... until `EBADF`).

use crate::{
    abi::size,
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    guest::Guest,
};

fn preopen_name(ctx: &mut WasiCtx, fd: u32) -> WasiResult<String> {
    ctx.fds.host(fd)?.preopen.clone().ok_or(Errno::Badf)
}

pub(crate) fn fd_prestat_get(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let name = preopen_name(ctx, p.u32(0))?;
    let ptr = p.u32(1);
    guest.bytes_mut(ptr, size::PRESTAT)?.fill(0);
    // Tag 0: a directory; then the length of its name.
    guest.write_u8(ptr, 0)?;
    guest.write_u32(ptr + 4, name.len() as u32)
}

pub(crate) fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let name = preopen_name(ctx, p.u32(0))?;
    let len = p.u32(2) as usize;
    if len < name.len() {
        return Err(Errno::NameTooLong);
    }
    guest.write(p.u32(1), name.as_bytes())
}
