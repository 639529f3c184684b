//! The stat-validated digest index: a module file's digest without reading the file.
//!
//! On a cache hit, hashing the module is most of the work (7zip: 0.41 of 0.52 ms). The index
//! remembers, per cache directory, the digest of each module file by the file's identity
//! ([`FileIdentity`]: device, inode, size, modification and status-change times) and the boot,
//! as ccache's inode cache and git's index do. A later load whose file has the very same
//! identity in the same boot takes the digest from the index and never reads the file.
//!
//! A digest is entered only for a file whose status-change time was at least
//! [`SETTLE`](crate::file_identity::SETTLE) old before it was hashed, and whose identity was the
//! same after hashing as before (see [`crate::file_identity`] for why that makes any later
//! change visible). Any mismatch means hashing the bytes, as without the index.
//!
//! The file `digest-index` in the cache directory is a table of [`SLOTS`] fixed-size entries,
//! one slot per (device, inode, algorithm) by hash; a collision only replaces the older entry.
//! An entry is read and written with one positioned read or write of [`ENTRY_LEN`] bytes, and
//! carries a MAC made with the cache's key: an entry torn by two concurrent writers, damaged on
//! disk or written by someone without the key fails its MAC and is ignored — the file is hashed
//! and the entry written anew. Without the MAC, whoever can write into the directory could
//! point a module file at another module's (genuine, signed) artifact.

use std::{
    fs::{self, File, OpenOptions},
    io,
    os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt},
    path::{Path, PathBuf},
    time::SystemTime,
};

use xxhash_rust::xxh3::xxh3_64;

use crate::{
    file_identity::{FileIdentity, boot_id},
    hash::{Digest, HashAlgo},
    mac::{Mac, MacKey},
};

/// The index's file name in a cache directory.
pub const FILE_NAME: &str = "digest-index";

/// The number of entries the index holds.
pub const SLOTS: u64 = 4096;

/// The length of one entry in bytes:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `WPROFDI1` |
/// | 8 | 16 | boot id |
/// | 24 | 56 | file identity ([`FileIdentity::to_bytes`]) |
/// | 80 | 1 | hash algorithm code |
/// | 81 | 1 | digest length |
/// | 82 | 6 | zero |
/// | 88 | 32 | digest, zero-padded |
/// | 120 | 8 | zero |
/// | 128 | 32 | MAC of bytes 0..128 |
pub const ENTRY_LEN: usize = 160;

const MAGIC: [u8; 8] = *b"WPROFDI1";
const MAC_AT: usize = ENTRY_LEN - Mac::LEN;

/// The digest index of one cache directory.
#[derive(Clone, Debug)]
pub struct DigestIndex {
    path: PathBuf,
    mode: u32,
}

impl DigestIndex {
    /// The index in the cache directory `dir`, whose file is created with `mode` when first
    /// written.
    pub fn new(dir: &Path, mode: u32) -> Self {
        Self {
            path: dir.join(FILE_NAME),
            mode,
        }
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The digest under `algo` of the file with `identity`, if the index holds a valid entry
    /// made with `mac_key` for this very file in this boot.
    pub fn lookup(
        &self,
        identity: &FileIdentity,
        algo: HashAlgo,
        mac_key: &MacKey,
    ) -> Option<Digest> {
        let file = File::open(&self.path).ok()?;
        let mut entry = [0; ENTRY_LEN];
        file.read_exact_at(&mut entry, slot_offset(identity, algo))
            .ok()?;
        let mac = Mac::from_bytes(entry[MAC_AT..].try_into().ok()?);
        if mac_key.index_mac(&entry[..MAC_AT]) != mac {
            return None;
        }
        let digest_len = usize::from(entry[81]).min(32);
        let digest = Digest::new(&entry[88..88 + digest_len]);
        (entry[..MAC_AT] == fields(identity, algo, &digest)?).then_some(digest)
    }

    /// Enters `digest`, computed under `algo` from the file that had `identity` both before
    /// and after it was read, which started at `read_at`. Returns whether an entry was
    /// written: not for a file changed less than
    /// [`SETTLE`](crate::file_identity::SETTLE) before `read_at`, nor where the kernel does not
    /// name the boot.
    ///
    /// # Errors
    /// When the index file cannot be opened or written (the caller carries on: the index only
    /// saves time).
    pub fn insert(
        &self,
        identity: &FileIdentity,
        algo: HashAlgo,
        digest: &Digest,
        read_at: SystemTime,
        mac_key: &MacKey,
    ) -> io::Result<bool> {
        if !identity.settled(read_at) {
            return Ok(false);
        }
        let Some(fields) = fields(identity, algo, digest) else {
            return Ok(false);
        };
        let mut entry = [0; ENTRY_LEN];
        entry[..MAC_AT].copy_from_slice(&fields);
        entry[MAC_AT..].copy_from_slice(mac_key.index_mac(&fields).as_bytes());
        let open = || {
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(self.mode)
                .open(&self.path)
        };
        let file = match open() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Before the first store: the directory, owner-only as the store makes it.
                if let Some(dir) = self.path.parent() {
                    fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(dir)?;
                }
                open()?
            }
            opened => opened?,
        };
        file.write_all_at(&entry, slot_offset(identity, algo))?;
        Ok(true)
    }

    /// Removes the index file; `Ok(false)` if there was none.
    ///
    /// # Errors
    /// When it exists but cannot be removed.
    pub fn remove(&self) -> io::Result<bool> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Where the entry for `identity` under `algo` lies in the file.
fn slot_offset(identity: &FileIdentity, algo: HashAlgo) -> u64 {
    let identity = identity.to_bytes();
    let mut key = [0; 17];
    // Device and inode: the slot stays the file's however it changes.
    key[..16].copy_from_slice(&identity[..16]);
    key[16] = algo.code();
    (xxh3_64(&key) % SLOTS) * ENTRY_LEN as u64
}

/// An entry's bytes before its MAC, or `None` where the kernel does not name the boot.
fn fields(identity: &FileIdentity, algo: HashAlgo, digest: &Digest) -> Option<[u8; MAC_AT]> {
    let mut fields = [0; MAC_AT];
    fields[..8].copy_from_slice(&MAGIC);
    fields[8..24].copy_from_slice(&boot_id()?);
    fields[24..80].copy_from_slice(&identity.to_bytes());
    fields[80] = algo.code();
    let digest = digest.as_bytes();
    // A digest is at most 32 bytes.
    fields[81] = digest.len() as u8;
    fields[88..88 + digest.len()].copy_from_slice(digest);
    Some(fields)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::file_identity::SETTLE;

    fn key() -> MacKey {
        MacKey::from_secret(&[9; 32])
    }

    /// A module file in a fresh cache directory's parent, its identity, a time at which it
    /// counts as settled, and the index.
    fn module(
        bytes: &[u8],
    ) -> (
        tempfile::TempDir,
        PathBuf,
        FileIdentity,
        SystemTime,
        DigestIndex,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wasm");
        fs::write(&path, bytes).unwrap();
        let identity = FileIdentity::of(&fs::metadata(&path).unwrap());
        let later = SystemTime::now() + SETTLE + Duration::from_secs(1);
        let index = DigestIndex::new(dir.path(), 0o600);
        (dir, path, identity, later, index)
    }

    #[test]
    fn a_settled_file_is_found_under_its_algorithm_only() {
        let (_dir, _path, identity, later, index) = module(b"module");
        let digest = HashAlgo::Blake3.digest(b"module").unwrap();
        assert_eq!(index.lookup(&identity, HashAlgo::Blake3, &key()), None);
        assert!(
            index
                .insert(&identity, HashAlgo::Blake3, &digest, later, &key())
                .unwrap()
        );
        assert_eq!(
            index.lookup(&identity, HashAlgo::Blake3, &key()),
            Some(digest)
        );
        assert_eq!(index.lookup(&identity, HashAlgo::Sha256, &key()), None);
        let other_key = MacKey::from_secret(&[8; 32]);
        assert_eq!(index.lookup(&identity, HashAlgo::Blake3, &other_key), None);
    }

    #[test]
    fn a_young_file_is_not_entered() {
        let (_dir, _path, identity, _, index) = module(b"module");
        let digest = HashAlgo::Blake3.digest(b"module").unwrap();
        assert!(
            !index
                .insert(
                    &identity,
                    HashAlgo::Blake3,
                    &digest,
                    SystemTime::now(),
                    &key()
                )
                .unwrap()
        );
        assert!(!index.path().exists());
    }

    #[test]
    fn an_entry_from_another_boot_or_with_any_byte_changed_is_ignored() {
        let (_dir, _path, identity, later, index) = module(b"module");
        let digest = HashAlgo::Blake3.digest(b"module").unwrap();
        index
            .insert(&identity, HashAlgo::Blake3, &digest, later, &key())
            .unwrap();
        let offset = slot_offset(&identity, HashAlgo::Blake3);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(index.path())
            .unwrap();
        let mut good = [0; ENTRY_LEN];
        file.read_exact_at(&mut good, offset).unwrap();
        for at in 0..ENTRY_LEN {
            let mut bad = good;
            bad[at] ^= 0x04;
            file.write_all_at(&bad, offset).unwrap();
            assert_eq!(
                index.lookup(&identity, HashAlgo::Blake3, &key()),
                None,
                "byte {at}"
            );
        }
        // Another boot, signed with the right key: still not this boot's.
        let mut other_boot = good;
        other_boot[8] ^= 1;
        let mac = key().index_mac(&other_boot[..MAC_AT]);
        other_boot[MAC_AT..].copy_from_slice(mac.as_bytes());
        file.write_all_at(&other_boot, offset).unwrap();
        assert_eq!(index.lookup(&identity, HashAlgo::Blake3, &key()), None);
        // Half an entry, as a crash mid-write leaves it.
        file.set_len(offset + ENTRY_LEN as u64 / 2).unwrap();
        assert_eq!(index.lookup(&identity, HashAlgo::Blake3, &key()), None);
    }
}
