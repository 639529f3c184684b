//! `args_*` and `environ_*`: the guest's command line and environment as NUL-terminated
//! strings plus an array of pointers to them.

use crate::{
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    guest::Guest,
};

fn sizes(strings: &[String], guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let bytes: usize = strings.iter().map(|s| s.len() + 1).sum();
    guest.write_u32(
        p.u32(0),
        u32::try_from(strings.len()).map_err(|_| Errno::Overflow)?,
    )?;
    guest.write_u32(p.u32(1), u32::try_from(bytes).map_err(|_| Errno::Overflow)?)
}

fn strings(strings: &[String], guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let (mut pointer, mut buf) = (p.u32(0), p.u32(1));
    for s in strings {
        guest.write_u32(pointer, buf)?;
        guest.write(buf, s.as_bytes())?;
        guest.write_u8(buf + s.len() as u32, 0)?;
        pointer = pointer.checked_add(4).ok_or(Errno::Fault)?;
        buf = buf.checked_add(s.len() as u32 + 1).ok_or(Errno::Fault)?;
    }
    Ok(())
}

pub(crate) fn args_sizes_get(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    sizes(&ctx.args, guest, p)
}

pub(crate) fn args_get(ctx: &mut WasiCtx, guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    strings(&ctx.args, guest, p)
}

pub(crate) fn environ_sizes_get(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    sizes(&ctx.env, guest, p)
}

pub(crate) fn environ_get(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    strings(&ctx.env, guest, p)
}
