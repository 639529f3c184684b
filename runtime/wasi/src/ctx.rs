//! The state one WASI guest runs with: its arguments, environment and descriptor table.

use std::os::fd::{AsFd, OwnedFd};

use crate::{
    abi::filetype,
    config::{InputStream, OutputStream, WasiConfig},
    error::WasiError,
    fd_table::{Descriptor, FdTable, HostFile},
    os,
    server::ServerControl,
};

/// A running guest's WASI state, made from a [`WasiConfig`]: preopened directories are
/// opened and standard streams connected when it is created.
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<String>,
    pub(crate) fds: FdTable,
    pub(crate) control: Option<ServerControl>,
}

impl WasiCtx {
    /// Whether the embedder asked the guest to stop.
    pub(crate) fn stop_requested(&self) -> bool {
        self.control.as_ref().is_some_and(ServerControl::is_stopped)
    }

    /// The descriptor a wait must include so that a stop request ends it.
    pub(crate) fn wake_fd(&self) -> Option<libc::c_int> {
        self.control.as_ref().map(ServerControl::wake_fd)
    }

    /// Opens `config`'s preopened directories and duplicates its listening sockets
    /// (descriptors 3, 4, ..., in that order), and connects its standard streams.
    ///
    /// # Errors
    /// [`WasiError::Preopen`] when a directory cannot be opened; [`WasiError::Inherit`] when
    /// a host standard stream cannot be duplicated; [`WasiError::Listener`] when a listening
    /// socket cannot be.
    pub fn new(config: &WasiConfig) -> Result<Self, WasiError> {
        let mut fds = FdTable::default();
        let stdin = match &config.stdin {
            InputStream::Null => Descriptor::Null,
            InputStream::Bytes(data) => Descriptor::Input {
                data: data.clone(),
                pos: 0,
            },
            InputStream::Inherit => inherit(0)?,
        };
        let output = |stream: &OutputStream, fd| match stream {
            OutputStream::Null => Ok(Descriptor::Null),
            OutputStream::Pipe(pipe) => Ok(Descriptor::Output(pipe.clone())),
            OutputStream::Inherit => inherit(fd),
        };
        for descriptor in [
            stdin,
            output(&config.stdout, 1)?,
            output(&config.stderr, 2)?,
        ] {
            insert(&mut fds, descriptor);
        }
        for preopen in &config.preopens {
            let error = |source| WasiError::Preopen {
                path: preopen.host.clone(),
                source,
            };
            let dir = std::fs::File::open(&preopen.host).map_err(error)?;
            if !dir.metadata().map_err(error)?.is_dir() {
                return Err(error(std::io::Error::from_raw_os_error(libc::ENOTDIR)));
            }
            insert(
                &mut fds,
                Descriptor::Host(HostFile {
                    fd: dir.into(),
                    filetype: filetype::DIRECTORY,
                    readable: true,
                    writable: false,
                    preopen: Some(preopen.guest.clone()),
                    listing: Vec::new(),
                }),
            );
        }
        for listener in &config.listeners {
            let fd = listener.try_clone().map_err(WasiError::Listener)?;
            insert(
                &mut fds,
                Descriptor::Host(HostFile {
                    fd: fd.into(),
                    filetype: filetype::SOCKET_STREAM,
                    readable: true,
                    writable: true,
                    preopen: None,
                    listing: Vec::new(),
                }),
            );
        }
        Ok(Self {
            args: config.args.clone(),
            env: config.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            fds,
            control: config.control.clone(),
        })
    }
}

fn insert(fds: &mut FdTable, descriptor: Descriptor) {
    fds.insert(descriptor)
        .expect("a fresh table has free descriptor numbers");
}

/// A duplicate of the host's descriptor `fd` (0, 1 or 2), so the guest closing it leaves the
/// host's stream open.
fn inherit(fd: i32) -> Result<Descriptor, WasiError> {
    let error = |source| WasiError::Inherit { fd, source };
    // SAFETY: the standard descriptors stay open for the life of the process.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let owned: OwnedFd = borrowed.try_clone_to_owned().map_err(error)?;
    let stat = os::fstat(owned.as_fd()).map_err(|errno| {
        error(std::io::Error::other(format!(
            "fstat failed (WASI errno {})",
            errno as u16
        )))
    })?;
    Ok(Descriptor::Host(HostFile {
        fd: owned,
        filetype: stat.filetype,
        readable: fd == 0,
        writable: fd != 0,
        preopen: None,
        listing: Vec::new(),
    }))
}
