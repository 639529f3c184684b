//! The cache directory: lookups, atomic stores and least-recently-used eviction.
//!
//! Stores write a temporary file in the cache directory and rename it over the entry's name, so
//! a reader sees the old file or the new one, never a mix; when several processes store the same
//! key at once, the last rename wins and every one of them was a whole file. Stores do not fsync:
//! after a crash an entry may be torn, but a torn entry fails its checksum, which is a miss that
//! recompiles and replaces it. Skipping the fsync keeps a store's cost a small fraction of the
//! compile it saves.
//!
//! Recency is the file's modification time, set to now on every hit (access times are unreliable
//! under `noatime` and `relatime`). The store only ever touches files named like artifacts
//! ([`CacheKey::file_name`]) and its own temporary files.

use std::{
    ffi::OsString,
    fs::{self, File},
    io,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use super::{
    CacheError, CacheKey,
    artifact::{ArtifactError, MappedArtifact, artifact_len, write_artifact},
    key::is_artifact_file_name,
};

/// The prefix of the temporary files stores write before renaming them.
const TEMP_PREFIX: &str = ".wpa-tmp-";

/// How old a temporary file must be before eviction takes it for a crashed writer's leftover.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60 * 60);

/// A cache directory with a size limit.
#[derive(Clone, Debug)]
pub struct CacheStore {
    dir: PathBuf,
    limit: u64,
}

/// What a cache directory holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheStats {
    /// The number of artifacts.
    pub entries: usize,
    /// Their total size in bytes.
    pub total_bytes: u64,
    /// The directory.
    pub dir: PathBuf,
    /// The store's size limit in bytes.
    pub limit: u64,
}

/// What an eviction or a clear removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// The number of artifacts removed.
    pub entries: usize,
    /// Their total size in bytes.
    pub bytes: u64,
}

/// The result of [`CacheStore::store`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreOutcome {
    /// The artifact was written; older entries may have been evicted to make room.
    Stored {
        /// The artifact's path.
        path: PathBuf,
        /// Its size in bytes.
        bytes: u64,
        /// What eviction removed afterwards.
        evicted: Removed,
    },
    /// Nothing was written: the artifact alone is larger than the limit.
    TooLarge {
        /// The artifact's size in bytes.
        bytes: u64,
        /// The store's limit.
        limit: u64,
    },
}

struct Entry {
    path: PathBuf,
    bytes: u64,
    modified: SystemTime,
}

impl CacheStore {
    /// The default size limit: 1 GiB.
    pub const DEFAULT_LIMIT: u64 = 1 << 30;

    /// A store in `dir` with the default limit. Nothing is created until the first store.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            limit: Self::DEFAULT_LIMIT,
        }
    }

    /// A store in [`CacheStore::default_dir`] with the default limit.
    ///
    /// # Errors
    /// [`CacheError::NoCacheDir`] when no directory can be derived from the environment.
    pub fn from_env() -> Result<Self, CacheError> {
        Ok(Self::new(Self::default_dir()?))
    }

    /// Sets the size limit in bytes.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// `$WASM_PROF_CACHE_DIR` if set, else `$XDG_CACHE_HOME/wasm-prof` if that is absolute, else
    /// `$HOME/.cache/wasm-prof`.
    ///
    /// # Errors
    /// [`CacheError::NoCacheDir`] when none of those variables is usable.
    pub fn default_dir() -> Result<PathBuf, CacheError> {
        default_dir_from(|name| std::env::var_os(name)).ok_or(CacheError::NoCacheDir)
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Where the artifact for `key` lives.
    pub fn path_for(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// Maps and validates the artifact for `key`, and marks it recently used.
    ///
    /// # Errors
    /// [`CacheError::InvalidArtifact`] for a corrupt or foreign entry (recompile; the store
    /// replaces it); [`CacheError::Read`] when an existing entry cannot be opened or mapped.
    pub fn lookup(
        &self,
        key: &CacheKey,
        fingerprint: &str,
    ) -> Result<Option<MappedArtifact>, CacheError> {
        let path = self.path_for(key);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Read { path, source }),
        };
        let artifact = MappedArtifact::from_file(&file, key, fingerprint).map_err(|e| match e {
            ArtifactError::Io(source) => CacheError::Read {
                path: path.clone(),
                source,
            },
            source => CacheError::InvalidArtifact {
                path: path.clone(),
                source,
            },
        })?;
        // Recency is a hint for eviction: if it cannot be updated (say, on a read-only
        // filesystem) the hit is still good, so the error is deliberately dropped.
        let _ = file.set_modified(SystemTime::now());
        Ok(Some(artifact))
    }

    /// Writes the artifact for `key` atomically, then evicts least-recently-used entries until
    /// the directory is within the limit (never the entry just written). Creates the directory
    /// if needed.
    ///
    /// # Errors
    /// [`CacheError::CreateDir`] or [`CacheError::Write`] when the directory is not writable or
    /// the disk is full (the caller carries on without the cache); [`CacheError::List`] or
    /// [`CacheError::Remove`] when eviction fails after the artifact was stored.
    pub fn store(
        &self,
        key: &CacheKey,
        fingerprint: &str,
        meta: &[u8],
        code: &[u8],
    ) -> Result<StoreOutcome, CacheError> {
        let bytes = artifact_len(fingerprint, meta, code);
        if bytes > self.limit {
            return Ok(StoreOutcome::TooLarge {
                bytes,
                limit: self.limit,
            });
        }
        fs::create_dir_all(&self.dir).map_err(|source| CacheError::CreateDir {
            path: self.dir.clone(),
            source,
        })?;
        let mut temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&self.dir)
            .map_err(|source| CacheError::Write {
                path: self.dir.clone(),
                source,
            })?;
        let path = self.path_for(key);
        // On any error `temp` is dropped, which deletes the temporary file.
        write_artifact(temp.as_file_mut(), fingerprint, key, meta, code).map_err(|source| {
            CacheError::Write {
                path: path.clone(),
                source,
            }
        })?;
        temp.persist(&path).map_err(|e| CacheError::Write {
            path: path.clone(),
            source: e.error,
        })?;
        let evicted = self.evict(self.limit, Some(&path))?;
        Ok(StoreOutcome::Stored {
            path,
            bytes,
            evicted,
        })
    }

    /// Counts the artifacts in the directory; a missing directory is an empty cache.
    ///
    /// # Errors
    /// [`CacheError::List`] when the directory cannot be listed.
    pub fn stats(&self) -> Result<CacheStats, CacheError> {
        let (entries, _) = self.scan()?;
        Ok(CacheStats {
            entries: entries.len(),
            total_bytes: entries.iter().map(|e| e.bytes).sum(),
            dir: self.dir.clone(),
            limit: self.limit,
        })
    }

    /// Removes every artifact, and temporary files left by crashed writers.
    ///
    /// # Errors
    /// [`CacheError::List`] or [`CacheError::Remove`].
    pub fn clear(&self) -> Result<Removed, CacheError> {
        self.evict(0, None)
    }

    /// Removes least-recently-used artifacts until they total at most `limit` bytes, and
    /// temporary files left by crashed writers.
    ///
    /// # Errors
    /// [`CacheError::List`] or [`CacheError::Remove`].
    pub fn evict_to(&self, limit: u64) -> Result<Removed, CacheError> {
        self.evict(limit, None)
    }

    fn evict(&self, limit: u64, keep: Option<&Path>) -> Result<Removed, CacheError> {
        let (mut entries, stale_temps) = self.scan()?;
        for path in stale_temps {
            remove(&path)?;
        }
        let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
        entries.sort_by(|a, b| (a.modified, &a.path).cmp(&(b.modified, &b.path)));
        let mut removed = Removed::default();
        for entry in entries {
            if total <= limit {
                break;
            }
            if Some(entry.path.as_path()) == keep {
                continue;
            }
            // Another process evicting at the same time may have removed it first.
            if remove(&entry.path)? {
                removed.entries += 1;
                removed.bytes += entry.bytes;
            }
            total -= entry.bytes;
        }
        Ok(removed)
    }

    /// The artifacts in the directory, and temporary files older than [`STALE_TEMP_AGE`].
    fn scan(&self) -> Result<(Vec<Entry>, Vec<PathBuf>), CacheError> {
        let list_error = |source| CacheError::List {
            path: self.dir.clone(),
            source,
        };
        let dir = match fs::read_dir(&self.dir) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Default::default()),
            Err(e) => return Err(list_error(e)),
        };
        let now = SystemTime::now();
        let mut entries = Vec::new();
        let mut stale_temps = Vec::new();
        for dir_entry in dir {
            let dir_entry = dir_entry.map_err(list_error)?;
            let name = dir_entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let is_artifact = is_artifact_file_name(name);
            if !is_artifact && !name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let metadata = match dir_entry.metadata() {
                Ok(metadata) => metadata,
                // Removed since the listing, by an eviction or a rename elsewhere.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(list_error(e)),
            };
            if !metadata.is_file() {
                continue;
            }
            // A file without a modification time counts as the oldest.
            let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if is_artifact {
                entries.push(Entry {
                    path: dir_entry.path(),
                    bytes: metadata.len(),
                    modified,
                });
            } else if now
                .duration_since(modified)
                .is_ok_and(|age| age > STALE_TEMP_AGE)
            {
                stale_temps.push(dir_entry.path());
            }
        }
        Ok((entries, stale_temps))
    }
}

/// Removes `path`; `Ok(false)` if it was already gone.
fn remove(path: &Path) -> Result<bool, CacheError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(CacheError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn default_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let absolute = |name| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    var("WASM_PROF_CACHE_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| absolute("XDG_CACHE_HOME").map(|dir| dir.join("wasm-prof")))
        .or_else(|| absolute("HOME").map(|home| home.join(".cache").join("wasm-prof")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(vars: &[(&str, &str)]) -> Option<PathBuf> {
        default_dir_from(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn default_dir_follows_the_environment() {
        let all = [
            ("WASM_PROF_CACHE_DIR", "/explicit"),
            ("XDG_CACHE_HOME", "/xdg"),
            ("HOME", "/home/u"),
        ];
        assert_eq!(dir_with(&all), Some("/explicit".into()));
        assert_eq!(dir_with(&all[1..]), Some("/xdg/wasm-prof".into()));
        assert_eq!(dir_with(&all[2..]), Some("/home/u/.cache/wasm-prof".into()));
        // An empty override and a relative XDG_CACHE_HOME are ignored, as the XDG spec says.
        assert_eq!(
            dir_with(&[
                ("WASM_PROF_CACHE_DIR", ""),
                ("XDG_CACHE_HOME", "rel"),
                all[2]
            ]),
            Some("/home/u/.cache/wasm-prof".into())
        );
        assert_eq!(dir_with(&[]), None);
    }
}
