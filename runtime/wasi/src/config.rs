//! What a WASI guest sees of the world: arguments, environment, preopened directories and
//! its three standard streams. Built by the embedder, turned into a context per run.

use std::{cell::RefCell, net::TcpListener, path::PathBuf, rc::Rc, sync::Arc};

use crate::server::ServerControl;

/// Where a guest's standard input comes from.
#[derive(Clone, Debug, Default)]
pub enum InputStream {
    /// Always at end of file (the default).
    #[default]
    Null,
    /// The host process's standard input.
    Inherit,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
}

/// Where a guest's standard output or error goes.
#[derive(Clone, Debug, Default)]
pub enum OutputStream {
    /// Discarded (the default).
    #[default]
    Null,
    /// The host process's matching stream.
    Inherit,
    /// Appended to an in-memory buffer the embedder can read back.
    Pipe(OutputPipe),
}

/// An in-memory byte sink shared between the guest's stream and the embedder.
#[derive(Clone, Debug, Default)]
pub struct OutputPipe(Rc<RefCell<Vec<u8>>>);

impl OutputPipe {
    /// An empty pipe.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.borrow().clone()
    }

    pub(crate) fn append(&self, data: &[u8]) {
        self.0.borrow_mut().extend_from_slice(data);
    }
}

/// A directory of the host granted to the guest under a name of its own.
#[derive(Clone, Debug)]
pub struct Preopen {
    /// The directory on the host.
    pub host: PathBuf,
    /// The name the guest resolves paths against (for example `/sandbox` or `.`).
    pub guest: String,
}

/// Arguments, environment, preopens and standard streams of a WASI guest. Nothing is
/// inherited from the host unless asked for: no arguments, an empty environment, no
/// directories and null streams by default.
#[derive(Clone, Debug, Default)]
pub struct WasiConfig {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) listeners: Vec<Arc<TcpListener>>,
    pub(crate) control: Option<ServerControl>,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) stdin: InputStream,
    pub(crate) stdout: OutputStream,
    pub(crate) stderr: OutputStream,
}

impl WasiConfig {
    /// An empty configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one argument (the first is the program name, `argv[0]`).
    pub fn arg(&mut self, arg: impl Into<String>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<S: Into<String>>(&mut self, args: impl IntoIterator<Item = S>) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets the environment variable `key` to `value`.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    /// Copies the host process's environment (variables that are not UTF-8 are skipped).
    pub fn inherit_env(&mut self) -> &mut Self {
        for (key, value) in std::env::vars() {
            self.env(key, value);
        }
        self
    }

    /// Gives the guest a listening TCP socket, on which it accepts connections with
    /// `sock_accept` (preview 1 cannot bind or listen itself). Listeners get the descriptors
    /// after the preopened directories, in the order they are added: wasi-libc looks for
    /// directories at 3, 4, ... and stops at the first descriptor that is not one, so a socket
    /// before them would hide them. Each run gets its own duplicate of the descriptor.
    pub fn preopen_listener(&mut self, listener: TcpListener) -> &mut Self {
        self.listeners.push(Arc::new(listener));
        self
    }

    /// Lets the embedder see when the guest first accepts a connection and stop it (see
    /// [`ServerControl`]).
    pub fn server_control(&mut self, control: ServerControl) -> &mut Self {
        self.control = Some(control);
        self
    }

    /// Grants the host directory `host` to the guest as `guest`. Preopened directories get
    /// descriptors 3, 4, ... in the order they are added; listeners follow them.
    pub fn preopen_dir(&mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> &mut Self {
        self.preopens.push(Preopen {
            host: host.into(),
            guest: guest.into(),
        });
        self
    }

    /// Sets standard input.
    pub fn stdin(&mut self, stream: InputStream) -> &mut Self {
        self.stdin = stream;
        self
    }

    /// Sets standard output.
    pub fn stdout(&mut self, stream: OutputStream) -> &mut Self {
        self.stdout = stream;
        self
    }

    /// Sets standard error.
    pub fn stderr(&mut self, stream: OutputStream) -> &mut Self {
        self.stderr = stream;
        self
    }

    /// Connects all three standard streams to the host process's.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.stdin = InputStream::Inherit;
        self.stdout = OutputStream::Inherit;
        self.stderr = OutputStream::Inherit;
        self
    }
}
