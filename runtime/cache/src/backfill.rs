//! Backfill: an artifact fetched from elsewhere (a remote tier) written into a file as it
//! arrives, authenticated like a local entry, then used — from the cache directory, or from
//! memory on a node that cannot write its cache directory.

use std::{fs::File, os::unix::fs::FileExt};

use tempfile::TempPath;

use super::{
    CacheError, CacheKey, CacheStore,
    artifact::{ArtifactError, FIXED_LEN, MAC_AT, MacCheck, MappedArtifact},
    hash::blake3_update,
    mac::{self, MacKey},
};

/// A file a fetched artifact is written into, in order, before it is authenticated and used;
/// made by [`CacheStore::begin_backfill`] or [`Backfill::in_memory`]. The artifact's MAC is
/// computed over the bytes as they are written, so checking them costs no second pass over
/// the file. Dropping it unfinished deletes what was written.
pub struct Backfill {
    file: File,
    place: BackfillPlace,
    written: u64,
    mac: blake3::Hasher,
}

/// Where the file of a [`Backfill`] lives.
enum BackfillPlace {
    /// A temporary file in this store's directory, renamed over the entry's name when done.
    Cache(CacheStore, TempPath),
    /// An anonymous file in memory, gone with the process.
    Memory,
}

impl std::fmt::Debug for Backfill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backfill")
            .field("in_memory", &self.is_in_memory())
            .field("written", &self.written)
            .finish()
    }
}

impl CacheStore {
    /// Starts a backfill: a temporary file in the cache directory for an artifact fetched from
    /// elsewhere (a remote tier) to be written into, then checked and renamed into place by
    /// [`Backfill::finish`]. Writing the fetched bytes straight into the file spares a copy of
    /// the whole artifact in memory.
    ///
    /// # Errors
    /// [`CacheError::CreateDir`] or [`CacheError::Write`] when the directory cannot be written
    /// (a read-only node: see [`Backfill::in_memory`]).
    pub fn begin_backfill(&self, mac_key: &MacKey) -> Result<Backfill, CacheError> {
        let (file, temp) = self.temp_file()?.into_parts();
        Ok(Backfill::new(
            file,
            BackfillPlace::Cache(self.clone(), temp),
            mac_key,
        ))
    }
}

impl Backfill {
    fn new(file: File, place: BackfillPlace, mac_key: &MacKey) -> Self {
        Self {
            file,
            place,
            written: 0,
            mac: mac_key.artifact_hasher(),
        }
    }

    /// A backfill into memory (an anonymous `memfd` file): for a node whose cache directory
    /// cannot be written, so that a remote hit is still used — after the same checks —
    /// instead of compiling.
    ///
    /// # Errors
    /// When the system cannot create the anonymous file.
    pub fn in_memory(mac_key: &MacKey) -> std::io::Result<Self> {
        let memfd = memfd::MemfdOptions::default()
            .close_on_exec(true)
            .create("wasm-prof-artifact")
            .map_err(|e| match e {
                memfd::Error::Create(e) => e,
                other => std::io::Error::other(other),
            })?;
        Ok(Self::new(memfd.into_file(), BackfillPlace::Memory, mac_key))
    }

    /// Whether the artifact stays in memory rather than in the cache directory.
    pub fn is_in_memory(&self) -> bool {
        matches!(self.place, BackfillPlace::Memory)
    }

    /// The bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The file being written (to read it back once finished, say).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Appends the next `bytes` of the artifact.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all_at(bytes, self.written)?;
        // The MAC covers every byte but the MAC itself and the header checksum after it.
        let start = self.written as usize;
        let end = start + bytes.len();
        if start < MAC_AT {
            self.mac.update(&bytes[..end.min(MAC_AT) - start]);
        }
        if end > FIXED_LEN {
            blake3_update(&mut self.mac, &bytes[FIXED_LEN.saturating_sub(start)..]);
        }
        self.written = end as u64;
        Ok(())
    }

    /// Maps what was written and checks it as the artifact for `key` and `fingerprint` —
    /// every check a local entry passes: header, fingerprint, key, layout, checksums, and the
    /// MAC under the key the backfill was made with, computed over every byte as it was
    /// written — then, for a file in the cache directory, renames it into place as the entry
    /// for `key` (evicting older entries beyond the limit). The mapping returned is of the file
    /// just checked (its open handle, not its name).
    ///
    /// # Errors
    /// [`CacheError::InvalidArtifact`] when the bytes fail a check (nothing is kept);
    /// [`CacheError::TooLarge`] when the artifact alone exceeds the store's limit;
    /// [`CacheError::Write`] when it cannot be renamed into place; [`CacheError::Read`] when
    /// the file cannot be mapped.
    pub fn finish(
        self,
        key: &CacheKey,
        fingerprint: &str,
        mac_key: &MacKey,
    ) -> Result<MappedArtifact, CacheError> {
        let computed = mac::finish(&self.mac);
        let Backfill { file, place, .. } = self;
        let path = match &place {
            BackfillPlace::Cache(store, _) => store.path_for(key),
            BackfillPlace::Memory => "(memory)".into(),
        };
        if let BackfillPlace::Cache(store, _) = &place
            && self.written > store.limit()
        {
            return Err(CacheError::TooLarge {
                bytes: self.written,
                limit: store.limit(),
            });
        }
        let invalid = |source| CacheError::InvalidArtifact {
            path: path.clone(),
            source,
        };
        let artifact =
            MappedArtifact::from_file(file, key, fingerprint, mac_key, MacCheck::Vouched(computed))
                .map_err(|e| match e {
                    ArtifactError::Io(source) => CacheError::Read {
                        path: path.clone(),
                        source,
                    },
                    // The header names a MAC other than the bytes' own.
                    ArtifactError::NotVouched => invalid(ArtifactError::NotAuthentic),
                    source => invalid(source),
                })?;
        if let BackfillPlace::Cache(store, temp) = place {
            temp.persist(&path).map_err(|e| CacheError::Write {
                path: path.clone(),
                source: e.error,
            })?;
            store.evict(store.limit(), Some(&path))?;
        }
        Ok(artifact)
    }
}
