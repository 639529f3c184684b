//! A module file's bytes: mapped read-only when possible (straight from the page cache, no
//! copy), read into memory otherwise (pipes, or no free watch slot).
//!
//! Pages are not prefaulted: whoever reads them first (the cache-key hash, or the parser) takes
//! the faults, which the kernel serves sixteen pages at a time. On 7zip that made read + hash
//! 0.45 ms against 0.51 ms with `MAP_POPULATE`; the `read` phase is then only the mapping.
//!
//! Another process may change the file while it is mapped. A truncation would raise SIGBUS in
//! whatever reads the vanished pages: the mapping is registered with the VM's
//! [`FileWatch`], which turns that into zeros and a flag, and [`ModuleFile::check`] into an
//! error. An in-place rewrite changes what the mapping shows: so that the bytes compiled for a
//! cache entry are the bytes its key was hashed from, a miss compiles a private
//! [`ModuleFile::snapshot`] and hashes that.

use std::{
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
    time::SystemTime,
};

use memmap2::{Mmap, MmapOptions};
use wasm_prof_vm::file_watch::FileWatch;

use crate::{
    cache::file_identity::FileIdentity,
    error::{Error, Result},
};

/// An open module file.
pub(crate) struct ModuleFile {
    path: PathBuf,
    file: File,
    /// The file's identity when it was opened (`None` for what is not a regular file), and
    /// when that was.
    opened: Option<(FileIdentity, SystemTime)>,
    bytes: FileBytes,
}

enum FileBytes {
    /// Mapped, with the watch that catches a truncation (dropped before the mapping).
    Mapped(FileWatch, Mmap),
    /// Read into memory: nobody else can change these.
    Read(Vec<u8>),
}

impl ModuleFile {
    /// Maps `path` read-only, or reads it when it cannot be mapped.
    pub fn open(path: &Path) -> Result<Self> {
        let read_error = |source| Error::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(read_error)?;
        let metadata = file.metadata().map_err(read_error)?;
        let opened = metadata
            .is_file()
            .then(|| (FileIdentity::of(&metadata), SystemTime::now()));
        let bytes = match map(&file, &metadata) {
            Some(mapped) => mapped,
            None => {
                let mut bytes = Vec::new();
                (&file).read_to_end(&mut bytes).map_err(read_error)?;
                FileBytes::Read(bytes)
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            file,
            opened,
            bytes,
        })
    }

    /// The path the file was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The regular file's identity when it was opened, and when that was.
    pub fn opened(&self) -> Option<&(FileIdentity, SystemTime)> {
        self.opened.as_ref()
    }

    /// Whether the file still has the identity it was opened with: nothing has written,
    /// truncated or replaced it since (see the cache's `file_identity`).
    pub fn unchanged_since_open(&self) -> bool {
        let Some((identity, _)) = &self.opened else {
            return false;
        };
        self.file
            .metadata()
            .is_ok_and(|now| FileIdentity::of(&now) == *identity)
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            FileBytes::Mapped(_, map) => map,
            FileBytes::Read(bytes) => bytes,
        }
    }

    /// Fails when the file shrank while it was mapped: some of what was read since is zeros,
    /// not the file.
    pub fn check(&self) -> Result<()> {
        match &self.bytes {
            FileBytes::Mapped(watch, _) if watch.damaged() => Err(Error::Read {
                path: self.path.clone(),
                source: io::Error::other("the file was truncated while it was being read"),
            }),
            _ => Ok(()),
        }
    }

    /// A private copy of the bytes that no other process can change, when the file is mapped
    /// (`None`: the bytes were read, and are private already).
    pub fn snapshot(&self) -> Result<Option<Vec<u8>>> {
        let FileBytes::Mapped(..) = &self.bytes else {
            return Ok(None);
        };
        let copy = self.bytes().to_vec();
        self.check()?;
        Ok(Some(copy))
    }
}

/// Maps `file` (which `metadata` describes) read-only with a watch, when it is a regular file
/// and a watch slot is free.
fn map(file: &File, metadata: &std::fs::Metadata) -> Option<FileBytes> {
    if !metadata.is_file() {
        return None;
    }
    // The length is passed on, so that the mapping does not look the file up again.
    let len = usize::try_from(metadata.len()).ok()?;
    // SAFETY: the mapping is read-only and private. Another process may still change the file:
    // a truncation is caught by the watch registered before anyone reads the bytes, and an
    // in-place rewrite only changes bytes that are checked (`check`) or copied (`snapshot`)
    // before a cache entry is made from them.
    let map = unsafe { MmapOptions::new().len(len).map(file) }.ok()?;
    let watch = FileWatch::new(&map)?;
    Some(FileBytes::Mapped(watch, map))
}
