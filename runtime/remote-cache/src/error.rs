//! What can go wrong with a remote tier. None of it fails a run: the caller warns and compiles.

use std::time::Duration;

/// A remote tier's failure.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The URL names no tier this build can use.
    #[error(
        "`{url}` is not a remote cache URL: {reason} (expected redis://HOST[:PORT][/DB] or \
         s3://BUCKET[/PREFIX])"
    )]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The Redis client failed (connecting, a command, a dropped connection).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The object-store client failed.
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// No answer in time.
    #[error("no answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// An action entry is malformed, or not signed with this cache's key.
    #[error("the action entry is not usable: {0}")]
    BadActionEntry(&'static str),
    /// The artifact stored under an action entry's address is not the one it names.
    #[error("the artifact blob is not the one its action entry names: {0}")]
    BlobMismatch(String),
    /// The tier failed repeatedly and is skipped for a while.
    #[error("skipped after repeated failures")]
    Skipped,
    /// The cache's I/O thread could not be started or has stopped.
    #[error("the remote cache's I/O thread is not running: {0}")]
    Runtime(String),
    /// The artifact to upload could not be read.
    #[error("cannot read the artifact to upload: {0}")]
    Io(#[from] std::io::Error),
    /// A fetched artifact could not be written where it was going.
    #[error("cannot write the fetched artifact: {0}")]
    Write(#[source] std::io::Error),
}

impl RemoteError {
    /// Whether the tier itself is unreachable (nothing else will work either), as opposed to
    /// one request or one entry failing.
    pub(crate) fn is_unreachable(&self) -> bool {
        match self {
            RemoteError::Redis(e) => e.is_connection_refusal() || e.is_io_error(),
            RemoteError::Timeout(_) => true,
            _ => false,
        }
    }
}
