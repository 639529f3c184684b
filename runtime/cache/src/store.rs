//! The cache directory: lookups, atomic stores and least-recently-used eviction.
//!
//! Stores write a temporary file in the cache directory and rename it over the entry's name, so
//! a reader sees the old file or the new one, never a mix; when several processes store the same
//! key at once, the last rename wins and every one of them was a whole file. Stores do not fsync:
//! after a crash an entry may be torn, but a torn entry fails its checksum, which is a miss that
//! recompiles and replaces it. Skipping the fsync keeps a store's cost a small fraction of the
//! compile it saves.
//!
//! A hit checksums the artifact's code image unless a verification record (see
//! [`super::verified`]) vouches that this very file was checksummed before, in this boot, and has
//! not changed since; the record is written after the first full check of a settled file.
//!
//! Recency is the later of the artifact's and its record's modification times: a store sets the
//! first, a hit the second (a hit never touches the artifact, which would void its record; access
//! times are unreliable under `noatime` and `relatime` anyway). The store only ever touches
//! files named like artifacts ([`CacheKey::file_name`]), their records and its own temporary
//! files.

use std::{
    collections::HashMap,
    ffi::OsString,
    fs::{self, File},
    io,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use super::{
    CacheError, CacheKey, DigestIndex,
    artifact::{ArtifactError, MacCheck, MappedArtifact, artifact_len, write_artifact},
    file_identity::FileIdentity,
    key::is_artifact_file_name,
    mac::MacKey,
    verified::{self, Record},
};

/// The prefix of the temporary files stores write before renaming them.
pub(crate) const TEMP_PREFIX: &str = ".wpa-tmp-";

/// How old a temporary file must be before eviction takes it for a crashed writer's leftover.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60 * 60);

/// A cache directory with a size limit.
///
/// Reading and writing entries takes the cache's [`MacKey`]: every entry is signed when it is
/// written and authenticated when it is read. Listing, evicting and clearing need no key.
#[derive(Clone, Debug)]
pub struct CacheStore {
    dir: PathBuf,
    limit: u64,
    shared: bool,
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
    /// When it was last stored or hit.
    used: SystemTime,
}

impl CacheStore {
    /// The default size limit: 1 GiB.
    pub const DEFAULT_LIMIT: u64 = 1 << 30;

    /// A store in `dir` with the default limit. Nothing is created until the first store.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            limit: Self::DEFAULT_LIMIT,
            shared: false,
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

    /// Makes new entries and records readable by others (0644 instead of 0600), for a cache
    /// deliberately shared by users who share its key.
    pub fn shared(mut self, shared: bool) -> Self {
        self.shared = shared;
        self
    }

    /// The permission bits of the files this store creates.
    fn file_mode(&self) -> u32 {
        if self.shared { 0o644 } else { 0o600 }
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

    /// The stat-validated digest index of this directory (see [`crate::digest_index`]).
    pub fn digest_index(&self) -> DigestIndex {
        DigestIndex::new(&self.dir, self.file_mode())
    }

    /// Where the artifact for `key` lives.
    pub fn path_for(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// Maps, validates and authenticates (with `mac_key`) the artifact for `key`, and marks it
    /// recently used.
    ///
    /// # Errors
    /// [`CacheError::InvalidArtifact`] for a corrupt, foreign or forged entry (recompile; the
    /// store replaces it); [`CacheError::Read`] when an existing entry cannot be opened or
    /// mapped.
    pub fn lookup(
        &self,
        key: &CacheKey,
        fingerprint: &str,
        mac_key: &MacKey,
    ) -> Result<Option<MappedArtifact>, CacheError> {
        let path = self.path_for(key);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Read { path, source }),
        };
        let read_error = |source| CacheError::Read {
            path: path.clone(),
            source,
        };
        let verified_at = SystemTime::now();
        let identity = FileIdentity::of(&file.metadata().map_err(read_error)?);
        let record_path = verified::record_path(&path);
        let record = Record::read(&record_path, &identity, mac_key);
        let check = record.vouched().map_or(MacCheck::Full, MacCheck::Vouched);
        let artifact = MappedArtifact::from_file(file, key, fingerprint, mac_key, check).map_err(
            |e| match e {
                ArtifactError::Io(source) => read_error(source),
                source => CacheError::InvalidArtifact {
                    path: path.clone(),
                    source,
                },
            },
        )?;
        record.after_hit(
            &record_path,
            &identity,
            artifact.mac(),
            verified_at,
            mac_key,
            self.file_mode(),
        );
        Ok(Some(artifact))
    }

    /// Writes the artifact for `key`, signed with `mac_key`, atomically, then evicts least-recently-used entries until
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
        mac_key: &MacKey,
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
        let path = self.path_for(key);
        self.write_atomically(&path, |file| {
            write_artifact(file, fingerprint, key, mac_key, meta, code)
        })?;
        let evicted = self.evict(self.limit, Some(&path))?;
        Ok(StoreOutcome::Stored {
            path,
            bytes,
            evicted,
        })
    }

    /// Creates the directory if needed, writes a temporary file with `write` and renames it to
    /// `path`; returns the renamed file, open for reading and writing.
    fn write_atomically(
        &self,
        path: &Path,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<File, CacheError> {
        let mut temp = self.temp_file()?;
        let write_error = |source| CacheError::Write {
            path: path.to_path_buf(),
            source,
        };
        // On any error `temp` is dropped, which deletes the temporary file.
        write(temp.as_file_mut()).map_err(write_error)?;
        temp.persist(path).map_err(|e| write_error(e.error))
    }

    /// Creates the directory if needed and a temporary file in it, deleted when dropped.
    pub(crate) fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        // Owner-only, like the entries (unless shared).
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|source| CacheError::CreateDir {
                path: self.dir.clone(),
                source,
            })?;
        tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .permissions(fs::Permissions::from_mode(self.file_mode()))
            .tempfile_in(&self.dir)
            .map_err(|source| CacheError::Write {
                path: self.dir.clone(),
                source,
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

    /// Removes every artifact and verification record, the digest index, and temporary files
    /// left by crashed writers.
    ///
    /// # Errors
    /// [`CacheError::List`] or [`CacheError::Remove`].
    pub fn clear(&self) -> Result<Removed, CacheError> {
        let removed = self.evict(0, None)?;
        let index = self.digest_index();
        index.remove().map_err(|source| CacheError::Remove {
            path: index.path().to_path_buf(),
            source,
        })?;
        Ok(removed)
    }

    /// Removes least-recently-used artifacts until they total at most `limit` bytes, and
    /// temporary files left by crashed writers.
    ///
    /// # Errors
    /// [`CacheError::List`] or [`CacheError::Remove`].
    pub fn evict_to(&self, limit: u64) -> Result<Removed, CacheError> {
        self.evict(limit, None)
    }

    pub(crate) fn evict(&self, limit: u64, keep: Option<&Path>) -> Result<Removed, CacheError> {
        let (mut entries, leftovers) = self.scan()?;
        for path in leftovers {
            remove(&path)?;
        }
        let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
        entries.sort_by(|a, b| (a.used, &a.path).cmp(&(b.used, &b.path)));
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
            remove(&verified::record_path(&entry.path))?;
            total -= entry.bytes;
        }
        Ok(removed)
    }

    /// The artifacts in the directory, and leftovers to delete: temporary files older than
    /// [`STALE_TEMP_AGE`] and verification records whose artifact is gone.
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
        let mut records = HashMap::new();
        let mut leftovers = Vec::new();
        for dir_entry in dir {
            let dir_entry = dir_entry.map_err(list_error)?;
            let name = dir_entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let kind = if is_artifact_file_name(name) {
                FileKind::Artifact
            } else if let Some(artifact) = name.strip_suffix(verified::SUFFIX)
                && is_artifact_file_name(artifact)
            {
                FileKind::Record(artifact.to_owned())
            } else if name.starts_with(TEMP_PREFIX) {
                FileKind::Temp
            } else {
                continue;
            };
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
            match kind {
                FileKind::Artifact => entries.push(Entry {
                    path: dir_entry.path(),
                    bytes: metadata.len(),
                    used: modified,
                }),
                FileKind::Record(artifact) => {
                    records.insert(artifact, (dir_entry.path(), modified));
                }
                FileKind::Temp => {
                    if now
                        .duration_since(modified)
                        .is_ok_and(|age| age > STALE_TEMP_AGE)
                    {
                        leftovers.push(dir_entry.path());
                    }
                }
            }
        }
        for entry in &mut entries {
            let name = entry.path.file_name().and_then(|n| n.to_str());
            if let Some((_, used)) = name.and_then(|n| records.remove(n)) {
                entry.used = entry.used.max(used);
            }
        }
        leftovers.extend(records.into_values().map(|(path, _)| path));
        Ok((entries, leftovers))
    }
}

/// What a file in the cache directory is.
enum FileKind {
    Artifact,
    /// The verification record of the named artifact.
    Record(String),
    Temp,
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
