//! The guest's descriptor table: numbers to open host files, directories and in-memory
//! streams.

use std::{collections::BTreeMap, os::fd::OwnedFd};

use crate::{
    config::OutputPipe,
    errno::{Errno, WasiResult},
};

/// One entry of a directory listing, as `fd_readdir` hands it out.
pub(crate) struct DirEntry {
    pub ino: u64,
    pub filetype: u8,
    pub name: Vec<u8>,
}

/// An open host file or directory.
pub(crate) struct HostFile {
    pub fd: OwnedFd,
    /// WASI file type, fixed when opened.
    pub filetype: u8,
    /// Opened for reading / writing (reported as the `fd_read` / `fd_write` rights).
    pub readable: bool,
    pub writable: bool,
    /// For a preopened directory, the name the guest knows it by.
    pub preopen: Option<String>,
    /// A directory's listing, read at `fd_readdir` cookie 0 and reused for later cookies.
    pub listing: Vec<DirEntry>,
}

/// What a guest descriptor refers to.
pub(crate) enum Descriptor {
    /// A host file, directory, or inherited standard stream.
    Host(HostFile),
    /// In-memory standard input: the bytes and how many were read.
    Input { data: Vec<u8>, pos: usize },
    /// In-memory standard output or error.
    Output(OutputPipe),
    /// A standard stream that reads end-of-file and discards writes.
    Null,
}

/// Open descriptors by number.
#[derive(Default)]
pub(crate) struct FdTable {
    entries: BTreeMap<u32, Descriptor>,
}

impl FdTable {
    /// Places `descriptor` at the lowest free number and returns it.
    pub(crate) fn insert(&mut self, descriptor: Descriptor) -> WasiResult<u32> {
        let mut fd = 0u32;
        for &used in self.entries.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(Errno::Mfile)?;
        }
        self.entries.insert(fd, descriptor);
        Ok(fd)
    }

    pub(crate) fn get(&mut self, fd: u32) -> WasiResult<&mut Descriptor> {
        self.entries.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// The host file behind `fd`; `EBADF` for in-memory streams and closed numbers.
    pub(crate) fn host(&mut self, fd: u32) -> WasiResult<&mut HostFile> {
        match self.get(fd)? {
            Descriptor::Host(file) => Ok(file),
            _ => Err(Errno::Badf),
        }
    }

    /// The host directory behind `fd`; `ENOTDIR` when it is something else.
    pub(crate) fn dir(&mut self, fd: u32) -> WasiResult<&mut HostFile> {
        let file = self.host(fd)?;
        if file.filetype == crate::abi::filetype::DIRECTORY {
            Ok(file)
        } else {
            Err(Errno::NotDir)
        }
    }

    pub(crate) fn remove(&mut self, fd: u32) -> WasiResult<Descriptor> {
        self.entries.remove(&fd).ok_or(Errno::Badf)
    }

    /// Moves `from` to `to`, closing what `to` held; both must be open.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> WasiResult<()> {
        if !self.entries.contains_key(&to) {
            return Err(Errno::Badf);
        }
        let descriptor = self.remove(from)?;
        self.entries.insert(to, descriptor);
        Ok(())
    }
}
