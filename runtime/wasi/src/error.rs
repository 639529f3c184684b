//! Errors of setting up and running a WASI guest.

use std::path::PathBuf;

/// Why a WASI guest could not be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum WasiError {
    /// A directory to preopen could not be opened.
    #[error("cannot preopen {}: {source}", path.display())]
    Preopen {
        /// The host directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A standard stream of the host could not be duplicated for the guest.
    #[error("cannot inherit host descriptor {fd}: {source}")]
    Inherit {
        /// The host descriptor (0, 1 or 2).
        fd: i32,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A listening socket could not be duplicated for the guest.
    #[error("cannot give the guest its listening socket: {0}")]
    Listener(#[source] std::io::Error),
    /// The module exports neither `_start` nor `_initialize`.
    #[error(
        "the module is not a WASI command or reactor: it exports neither `_start` nor `_initialize`"
    )]
    NoEntryPoint,
    /// Linking, instantiating or running the guest failed (traps included).
    #[error(transparent)]
    Runtime(#[from] wasm_prof_runtime::Error),
}
