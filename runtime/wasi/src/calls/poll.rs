//! `poll_oneoff`: waits for clock deadlines and descriptor readiness.
//!
//! In-memory streams and regular files are always ready; host streams (an inherited terminal
//! or pipe) are waited on with `ppoll`; clock subscriptions become deadlines. The call returns
//! as soon as anything is ready, reporting every subscription ready at that moment.

use std::{
    os::fd::AsRawFd,
    time::{Duration, Instant},
};

use crate::{
    abi::{EVENT_FD_READWRITE_HANGUP, SUBSCRIPTION_CLOCK_ABSTIME, eventtype, filetype, size},
    calls::{Params, clock},
    ctx::WasiCtx,
    errno::{Errno, WasiResult},
    fd_table::Descriptor,
    guest::Guest,
};

/// One event to report.
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl Event {
    fn ready(userdata: u64, kind: u8, nbytes: u64, hangup: bool) -> Self {
        let flags = if hangup { EVENT_FD_READWRITE_HANGUP } else { 0 };
        Self {
            userdata,
            error: Errno::Success,
            kind,
            nbytes,
            flags,
        }
    }

    fn failed(userdata: u64, kind: u8, error: Errno) -> Self {
        Self {
            userdata,
            error,
            kind,
            nbytes: 0,
            flags: 0,
        }
    }
}

/// A host descriptor to wait on.
struct Waiter {
    userdata: u64,
    kind: u8,
    fd: libc::c_int,
}

/// Where a subscription stands before any waiting.
enum Sub {
    Now(Event),
    Deadline(u64, Instant),
    Wait(Waiter),
}

fn clock_sub(guest: &Guest<'_>, base: u32, userdata: u64) -> WasiResult<Sub> {
    let id = guest.read_u32(base + 16)?;
    let timeout = guest.read_u64(base + 24)?;
    let flags = guest.read_u16(base + 40)?;
    let now = match clock::now(id) {
        Ok(now) => now,
        Err(errno) => return Ok(Sub::Now(Event::failed(userdata, eventtype::CLOCK, errno))),
    };
    let wait = if flags & SUBSCRIPTION_CLOCK_ABSTIME != 0 {
        timeout.saturating_sub(now)
    } else {
        timeout
    };
    Ok(Sub::Deadline(
        userdata,
        Instant::now() + Duration::from_nanos(wait),
    ))
}

fn fd_sub(ctx: &mut WasiCtx, fd: u32, userdata: u64, kind: u8) -> Sub {
    let read = kind == eventtype::FD_READ;
    let event = match ctx.fds.get(fd) {
        Err(errno) => Event::failed(userdata, kind, errno),
        Ok(Descriptor::Input { data, pos }) if read => {
            let left = (data.len() - *pos) as u64;
            Event::ready(userdata, kind, left, left == 0)
        }
        Ok(Descriptor::Null) => Event::ready(userdata, kind, 0, read),
        Ok(Descriptor::Output(_)) if !read => Event::ready(userdata, kind, 0, false),
        Ok(Descriptor::Input { .. } | Descriptor::Output(_)) => {
            Event::failed(userdata, kind, Errno::Badf)
        }
        Ok(Descriptor::Host(file)) => match file.filetype {
            filetype::REGULAR_FILE => Event::ready(userdata, kind, 0, false),
            filetype::DIRECTORY => Event::failed(userdata, kind, Errno::Badf),
            _ => {
                let fd = file.fd.as_raw_fd();
                return Sub::Wait(Waiter { userdata, kind, fd });
            }
        },
    };
    Sub::Now(event)
}

/// Waits on `waiters` until one is ready, `timeout` passes (`None`: no limit) or `wake`
/// becomes readable (a stop request: nothing is reported then).
fn wait(
    waiters: &[Waiter],
    timeout: Option<Duration>,
    wake: Option<libc::c_int>,
    events: &mut Vec<Event>,
) -> WasiResult<()> {
    let mut fds: Vec<libc::pollfd> = waiters
        .iter()
        .map(|w| libc::pollfd {
            fd: w.fd,
            events: if w.kind == eventtype::FD_READ {
                libc::POLLIN
            } else {
                libc::POLLOUT
            },
            revents: 0,
        })
        .chain(wake.map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }))
        .collect();
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: i64::from(t.subsec_nanos()),
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `fds` holds `fds.len()` pollfds; `ts_ptr` is null or points at `ts`.
    let n = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            ts_ptr,
            std::ptr::null(),
        )
    };
    if n < 0 {
        return match Errno::last() {
            Errno::Intr => Ok(()),
            other => Err(other),
        };
    }
    for (w, fd) in waiters.iter().zip(&fds) {
        if fd.revents & libc::POLLNVAL != 0 {
            events.push(Event::failed(w.userdata, w.kind, Errno::Badf));
        } else if fd.revents & libc::POLLERR != 0 {
            events.push(Event::failed(w.userdata, w.kind, Errno::Io));
        } else if fd.revents != 0 {
            let hangup = fd.revents & libc::POLLHUP != 0;
            events.push(Event::ready(w.userdata, w.kind, 0, hangup));
        }
    }
    Ok(())
}

pub(crate) fn poll_oneoff(
    ctx: &mut WasiCtx,
    guest: &mut Guest<'_>,
    p: &Params<'_>,
) -> WasiResult<()> {
    let (subs_ptr, events_ptr, count, nevents_ptr) = (p.u32(0), p.u32(1), p.u32(2), p.u32(3));
    if count == 0 {
        return Err(Errno::Inval);
    }
    guest.bytes(
        subs_ptr,
        count.checked_mul(size::SUBSCRIPTION).ok_or(Errno::Fault)?,
    )?;
    guest.bytes(
        events_ptr,
        count.checked_mul(size::EVENT).ok_or(Errno::Fault)?,
    )?;
    let mut events = Vec::new();
    let mut deadlines = Vec::new();
    let mut waiters = Vec::new();
    for i in 0..count {
        let base = subs_ptr + i * size::SUBSCRIPTION;
        let userdata = guest.read_u64(base)?;
        let kind = guest.bytes(base + 8, 1)?[0];
        let sub = match kind {
            eventtype::CLOCK => clock_sub(guest, base, userdata)?,
            eventtype::FD_READ | eventtype::FD_WRITE => {
                fd_sub(ctx, guest.read_u32(base + 16)?, userdata, kind)
            }
            _ => return Err(Errno::Inval),
        };
        match sub {
            Sub::Now(event) => events.push(event),
            Sub::Deadline(userdata, at) => deadlines.push((userdata, at)),
            Sub::Wait(waiter) => waiters.push(waiter),
        }
    }
    if events.is_empty() {
        let first = deadlines.iter().map(|&(_, at)| at).min();
        let timeout = first.map(|at| at.saturating_duration_since(Instant::now()));
        let wake = ctx.wake_fd();
        if !waiters.is_empty() || wake.is_some() {
            wait(&waiters, timeout, wake, &mut events)?;
        } else if let Some(at) = first {
            while Instant::now() < at {
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
            }
        }
    }
    let now = Instant::now();
    for &(userdata, at) in &deadlines {
        if at <= now {
            events.push(Event::ready(userdata, eventtype::CLOCK, 0, false));
        }
    }
    for (i, event) in events.iter().enumerate() {
        let base = events_ptr + i as u32 * size::EVENT;
        guest.bytes_mut(base, size::EVENT)?.fill(0);
        guest.write_u64(base, event.userdata)?;
        guest.write_u16(base + 8, event.error as u16)?;
        guest.write_u8(base + 10, event.kind)?;
        guest.write_u64(base + 16, event.nbytes)?;
        guest.write_u16(base + 24, event.flags)?;
    }
    guest.write_u32(nevents_ptr, events.len() as u32)
}
