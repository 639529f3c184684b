//! What an embedder needs to measure and end a server guest: the moment it first accepts a
//! connection (its `ready` milestone) and a way to stop it that wakes it from any wait.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

/// A handle shared between a server guest's WASI context and its embedder; cheap to clone and
/// usable from any thread.
///
/// Once [`ServerControl::stop`] is called, the guest's next WASI call — or the `poll_oneoff`
/// or blocking `sock_accept` it is waiting in — ends the guest with an `Interrupt` trap.
#[derive(Clone, Debug)]
pub struct ServerControl(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    first_accept: OnceLock<Instant>,
    stopped: AtomicBool,
    /// An eventfd that becomes readable on stop; waits include it.
    wake: OwnedFd,
}

impl ServerControl {
    /// A control for one server run.
    ///
    /// # Errors
    /// When the kernel refuses an eventfd.
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd with valid flags; the descriptor it returns is ours alone.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is an open descriptor nothing else owns.
        let wake = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Self(Arc::new(Inner {
            first_accept: OnceLock::new(),
            stopped: AtomicBool::new(false),
            wake,
        })))
    }

    /// When the guest first accepted a connection, if it has.
    pub fn first_accept(&self) -> Option<Instant> {
        self.0.first_accept.get().copied()
    }

    /// Asks the guest to stop; it ends at its next WASI call with an `Interrupt` trap.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        let one = 1u64.to_ne_bytes();
        // SAFETY: writing 8 bytes to our eventfd. It cannot fail short of overflowing the
        // counter, which a handful of stops never does; the flag above is what counts.
        unsafe { libc::write(self.0.wake.as_raw_fd(), one.as_ptr().cast(), one.len()) };
    }

    /// Whether [`ServerControl::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Records that the guest accepted a connection (only the first one counts).
    pub(crate) fn accepted(&self) {
        let _ = self.0.first_accept.set(Instant::now());
    }

    /// The descriptor that becomes readable on stop, for waits to include.
    pub(crate) fn wake_fd(&self) -> RawFd {
        self.0.wake.as_raw_fd()
    }
}
