//! Why a module cannot be loaded: it is malformed or invalid, uses something this runtime does
//! not support, or exceeds one of its limits.

/// A module that cannot be parsed, validated or planned.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The bytes are not a well-formed or valid module.
    #[error("invalid module: {0}")]
    Invalid(String),
    /// The module uses something this runtime does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The module exceeds a limit of this runtime.
    #[error("resource limit: {0}")]
    Limit(String),
}

/// The result of parsing and planning.
pub type Result<T> = std::result::Result<T, ModuleError>;
