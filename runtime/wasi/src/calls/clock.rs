//! `clock_res_get`, `clock_time_get`: the four preview 1 clocks on their POSIX counterparts.

use crate::{
    abi::clock,
    calls::Params,
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    guest::Guest,
    os::cvt,
};

fn host_clock(id: u32) -> WasiResult<libc::clockid_t> {
    Ok(match id {
        clock::REALTIME => libc::CLOCK_REALTIME,
        clock::MONOTONIC => libc::CLOCK_MONOTONIC,
        clock::PROCESS_CPUTIME => libc::CLOCK_PROCESS_CPUTIME_ID,
        clock::THREAD_CPUTIME => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => return Err(Errno::Inval),
    })
}

fn nanos(ts: &libc::timespec) -> u64 {
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// The current time of WASI clock `id` in nanoseconds.
pub(crate) fn now(id: u32) -> WasiResult<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    cvt(unsafe { libc::clock_gettime(host_clock(id)?, &mut ts) })?;
    Ok(nanos(&ts))
}

pub(crate) fn clock_res_get(
    _: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    cvt(unsafe { libc::clock_getres(host_clock(p.u32(0))?, &mut ts) })?;
    guest.write_u64(p.u32(1), nanos(&ts).max(1))
}

pub(crate) fn clock_time_get(
    _: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let time = now(p.u32(0))?;
    guest.write_u64(p.u32(2), time)
}
