//! Why compiling failed.

/// A module or function that cannot be compiled, or a target that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A function body is malformed or invalid (bodies are validated while translated).
    #[error("invalid module: {0}")]
    Invalid(String),
    /// The module uses something the translator does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The module exceeds a limit of the compiler or of the code image.
    #[error("resource limit: {0}")]
    Limit(String),
    /// Cranelift failed on one function (`u32::MAX` for a trampoline or the image).
    #[error("compiling function {func_index} failed: {message}")]
    Function {
        /// Function index.
        func_index: u32,
        /// Cranelift's message.
        message: String,
    },
    /// Cranelift cannot build a target for this machine with these settings.
    #[error("{0}")]
    Target(String),
}

/// The result of compiling.
pub type Result<T> = std::result::Result<T, CompileError>;
