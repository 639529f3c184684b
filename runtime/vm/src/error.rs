//! What can go wrong in the VM.

use crate::trap::Trap;

/// A VM operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// A resource limit was hit (memory reservation, table size, ...).
    #[error("resource limit: {0}")]
    Limit(String),
    /// Executable memory could not be set up.
    #[error("code memory: {0}")]
    CodeMemory(String),
    /// Guest code trapped (also while instantiating: a segment that does not fit).
    #[error(transparent)]
    Trap(#[from] Trap),
}

/// The VM's result type.
pub type Result<T> = std::result::Result<T, VmError>;
