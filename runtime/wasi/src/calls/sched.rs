//! `sched_yield`, `random_get`, and the calls this runtime answers with `ENOSYS`.

use crate::{
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    guest::Guest,
};

pub(crate) fn sched_yield(_: &mut WasiCtx, _: &mut Guest<'_>, _: &Params<'_>) -> WasiResult<()> {
    std::thread::yield_now();
    Ok(())
}

pub(crate) fn random_get(_: &mut WasiCtx, guest: &mut Guest<'_>, p: &Params<'_>) -> WasiResult<()> {
    let mut buf = guest.bytes_mut(p.u32(0), p.u32(1))?;
    while !buf.is_empty() {
        // SAFETY: `buf` is writable for `buf.len()` bytes.
        let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            match Errno::last() {
                Errno::Intr => continue,
                other => return Err(other),
            }
        }
        buf = &mut buf[n as usize..];
    }
    Ok(())
}

/// The body of every function this runtime does not provide (signals, sockets).
pub(crate) fn nosys(_: &mut WasiCtx, _: &mut Guest<'_>, _: &Params<'_>) -> WasiResult<()> {
    Err(Errno::NoSys)
}
