//! How a fetched artifact travels from the I/O thread to the thread that writes it: in pieces,
//! in order, through a short queue, so that receiving the next piece overlaps writing (and
//! authenticating) the last.

use tokio::sync::mpsc;

use crate::error::RemoteError;

/// How many received pieces may wait for the writing thread.
pub(crate) const QUEUED: usize = 8;

/// What the I/O thread sends the writing thread.
pub(crate) enum Piece {
    /// The next bytes of the artifact.
    Bytes(Vec<u8>),
    /// The fetch is over: whether the artifact was stored, or why it could not be fetched.
    End(Result<bool, RemoteError>),
}

/// The I/O thread's end: the pieces of an artifact expected to be `expected` bytes long.
pub(crate) struct Parts {
    sender: mpsc::Sender<Piece>,
    sent: u64,
    expected: u64,
}

impl Parts {
    /// A queue for an artifact of `expected` bytes, and the writing thread's end of it.
    pub(crate) fn new(expected: u64) -> (Self, mpsc::Receiver<Piece>) {
        let (sender, receiver) = mpsc::channel(QUEUED);
        let parts = Self {
            sender,
            sent: 0,
            expected,
        };
        (parts, receiver)
    }

    /// The bytes sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// The bytes still expected.
    pub(crate) fn remaining(&self) -> u64 {
        self.expected.saturating_sub(self.sent)
    }

    /// Hands on the next `bytes`; more than expected is a mismatch.
    pub(crate) async fn send(&mut self, bytes: Vec<u8>) -> Result<(), RemoteError> {
        if bytes.len() as u64 > self.remaining() {
            return Err(RemoteError::BlobMismatch(format!(
                "it is longer than the {} bytes the entry says",
                self.expected
            )));
        }
        self.sent += bytes.len() as u64;
        self.sender
            .send(Piece::Bytes(bytes))
            .await
            .map_err(|_| RemoteError::Runtime("the fetch was abandoned".into()))
    }

    /// Ends the fetch with `outcome`.
    pub(crate) async fn end(self, outcome: Result<bool, RemoteError>) {
        // The writer may have stopped already (it failed to write); nothing is waiting then.
        let _ = self.sender.send(Piece::End(outcome)).await;
    }
}
