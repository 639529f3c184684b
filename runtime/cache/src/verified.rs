//! Verification records: proof that an artifact was authenticated before and that the file has
//! not changed since, so later hits can skip its MAC (computed over 51 MB of code for ruby).
//!
//! The record `<artifact>.verified` holds the artifact file's identity (device, inode, size,
//! modification and status-change times), the boot it was verified in and the artifact's MAC,
//! all under a MAC of the record's own made with the cache's secret ([`crate::mac`]): whoever
//! can write into the directory but lacks the secret cannot vouch for a file they put there.
//! Writing or truncating a file, or renaming another over its name, gives the name a new inode
//! or a new status-change time (ctime), which no unprivileged process can set back, so a record
//! matches only the very file that was verified. Two ways a file can change without that are
//! excluded:
//! - a change within the timestamp granularity of the verification keeps the ctime: a record
//!   vouches only for a file whose ctime was at least [`SETTLE`] old when it was verified (git
//!   calls this the "racy" case and treats it the same way);
//! - a crash can lose written blocks without touching the inode: a record names the boot it was
//!   made in (Linux's `boot_id`), and one from another boot vouches for nothing.
//!
//! Left unguarded is silent corruption of the disk itself after the first verification in a
//! boot, which the file system's and the disk's own checks are there for.
//!
//! The record's modification time is also the entry's recency for eviction: a hit never touches
//! the artifact, since changing any of its times would change its ctime.

use std::{
    fs::{self, File},
    io::{self, Read, Write},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    time::SystemTime,
};

pub use crate::file_identity::SETTLE;
use crate::{
    file_identity::{FileIdentity, boot_id},
    mac::{Mac, MacKey},
};

/// The suffix of a record's file name, after the artifact's name.
pub const SUFFIX: &str = ".verified";

const MAGIC: [u8; 8] = *b"WPROFVR2";
const LEN: usize = 152;
/// Where the artifact's MAC lies in a record.
const ARTIFACT_MAC_AT: usize = 80;
/// The record byte that is 1 when the record vouches for its artifact (0 when it only marks
/// recency).
pub const VOUCHES_AT: usize = ARTIFACT_MAC_AT + Mac::LEN;
const RECORD_MAC_AT: usize = LEN - Mac::LEN;

/// Where the record for the artifact at `artifact` lives.
pub fn record_path(artifact: &Path) -> PathBuf {
    let mut name = artifact.as_os_str().to_owned();
    name.push(SUFFIX);
    PathBuf::from(name)
}

/// An opened record, as a hit found it.
pub(crate) struct Record {
    file: Option<File>,
    vouched: Option<Mac>,
}

impl Record {
    /// Reads the record at `path` for the artifact file with `identity`. A missing, unreadable,
    /// corrupt, forged, foreign or stale record vouches for nothing.
    pub fn read(path: &Path, identity: &FileIdentity, mac_key: &MacKey) -> Self {
        let Ok(mut file) = File::open(path) else {
            return Self {
                file: None,
                vouched: None,
            };
        };
        // One byte more than a record, so that a longer file is seen to be no record.
        let mut bytes = Vec::with_capacity(LEN + 1);
        let vouched = (&mut file)
            .take(LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .ok()
            .filter(|n| *n == LEN)
            .and_then(|_| parse(&bytes, identity, mac_key));
        Self {
            file: Some(file),
            vouched,
        }
    }

    /// The artifact MAC the record vouches for, when it vouches for this file.
    pub fn vouched(&self) -> Option<Mac> {
        self.vouched
    }

    /// After a hit on the artifact with `identity` (taken before it was verified, at or after
    /// `verified_at`): marks the entry recently used and, when the artifact was authenticated
    /// now and the file is settled, writes a record that vouches for it (with `mode`).
    /// Failures only cost speed, so they are ignored.
    pub fn after_hit(
        self,
        path: &Path,
        identity: &FileIdentity,
        artifact_mac: Mac,
        verified_at: SystemTime,
        mac_key: &MacKey,
        mode: u32,
    ) {
        if self.vouched.is_some() {
            if let Some(file) = self.file {
                let _ = file.set_modified(SystemTime::now());
            }
            return;
        }
        let vouches = identity.settled(verified_at);
        let _ = write(
            path,
            &encode(identity, artifact_mac, vouches, mac_key),
            mode,
        );
    }
}

fn encode(
    identity: &FileIdentity,
    artifact_mac: Mac,
    vouches: bool,
    mac_key: &MacKey,
) -> [u8; LEN] {
    let mut bytes = [0; LEN];
    bytes[..RECORD_MAC_AT].copy_from_slice(&fields(identity, artifact_mac, vouches));
    let record_mac = mac_key.record_mac(&bytes[..RECORD_MAC_AT]);
    bytes[RECORD_MAC_AT..].copy_from_slice(record_mac.as_bytes());
    bytes
}

/// A record's bytes before its MAC.
fn fields(identity: &FileIdentity, artifact_mac: Mac, vouches: bool) -> [u8; RECORD_MAC_AT] {
    let boot = boot_id();
    let mut bytes = [0; RECORD_MAC_AT];
    bytes[..8].copy_from_slice(&MAGIC);
    bytes[8..24].copy_from_slice(&boot.unwrap_or_default());
    bytes[24..80].copy_from_slice(&identity.to_bytes());
    bytes[ARTIFACT_MAC_AT..VOUCHES_AT].copy_from_slice(artifact_mac.as_bytes());
    bytes[VOUCHES_AT] = u8::from(vouches && boot.is_some());
    bytes
}

/// The artifact MAC `bytes` vouch for, if they are a record made with `mac_key` that vouches
/// for the file with `identity` in this boot.
fn parse(bytes: &[u8], identity: &FileIdentity, mac_key: &MacKey) -> Option<Mac> {
    boot_id()?;
    let record_mac = Mac::from_bytes(bytes[RECORD_MAC_AT..].try_into().ok()?);
    if mac_key.record_mac(&bytes[..RECORD_MAC_AT]) != record_mac || bytes[VOUCHES_AT] != 1 {
        return None;
    }
    let artifact_mac = Mac::from_bytes(bytes[ARTIFACT_MAC_AT..VOUCHES_AT].try_into().ok()?);
    (bytes[..RECORD_MAC_AT] == fields(identity, artifact_mac, true)).then_some(artifact_mac)
}

/// Writes `bytes` to `path` with `mode` through a temporary file and a rename, so readers never
/// see half a record.
fn write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(super::store::TEMP_PREFIX)
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key() -> MacKey {
        MacKey::from_secret(&[3; 32])
    }

    fn mac(n: u8) -> Mac {
        Mac::from_bytes([n; Mac::LEN])
    }

    fn identity_of(path: &Path) -> FileIdentity {
        FileIdentity::of(&fs::metadata(path).unwrap())
    }

    /// A stand-in artifact holding `bytes` in a fresh directory, and its record's path.
    fn artifact_with(bytes: &[u8]) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let artifact = dir.path().join("a.wpa");
        fs::write(&artifact, bytes).unwrap();
        let record = record_path(&artifact);
        (dir, artifact, record)
    }

    /// The identity of the file at `path`, and a time at which that file counts as settled.
    fn settled_identity(path: &Path) -> (FileIdentity, SystemTime) {
        let identity = identity_of(path);
        (
            identity,
            SystemTime::now() + SETTLE + Duration::from_secs(1),
        )
    }

    #[test]
    fn a_settled_file_is_vouched_for_until_it_changes() {
        let (_dir, artifact, record) = artifact_with(b"artifact bytes");
        let (identity, later) = settled_identity(&artifact);

        let first = Record::read(&record, &identity, &key());
        assert_eq!(first.vouched(), None, "no record yet");
        first.after_hit(&record, &identity, mac(42), later, &key(), 0o600);
        assert_eq!(
            Record::read(&record, &identity, &key()).vouched(),
            Some(mac(42))
        );

        // Rewriting the artifact in place changes its ctime: the record no longer applies.
        std::thread::sleep(Duration::from_millis(20));
        fs::write(&artifact, b"artifact bytez").unwrap();
        assert_eq!(
            Record::read(&record, &identity_of(&artifact), &key()).vouched(),
            None
        );
    }

    #[test]
    fn a_young_file_is_not_vouched_for() {
        let (_dir, artifact, record) = artifact_with(b"artifact");
        let identity = identity_of(&artifact);
        Record::read(&record, &identity, &key()).after_hit(
            &record,
            &identity,
            mac(7),
            SystemTime::now(),
            &key(),
            0o600,
        );
        assert!(record.exists(), "the record still marks recency");
        assert_eq!(Record::read(&record, &identity, &key()).vouched(), None);
    }

    #[test]
    fn damaged_or_foreign_records_vouch_for_nothing() {
        let (dir, artifact, record) = artifact_with(b"artifact");
        let (identity, later) = settled_identity(&artifact);
        Record::read(&record, &identity, &key()).after_hit(
            &record,
            &identity,
            mac(9),
            later,
            &key(),
            0o600,
        );
        let good = fs::read(&record).unwrap();
        assert_eq!(good.len(), LEN);
        for at in 0..LEN {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            fs::write(&record, &bad).unwrap();
            assert_eq!(
                Record::read(&record, &identity, &key()).vouched(),
                None,
                "byte {at}"
            );
        }
        fs::write(&record, &good[..LEN - 1]).unwrap();
        assert_eq!(Record::read(&record, &identity, &key()).vouched(), None);
        fs::write(&record, [good.as_slice(), b"x"].concat()).unwrap();
        assert_eq!(Record::read(&record, &identity, &key()).vouched(), None);

        // A record of another file (here: another inode) does not apply.
        fs::write(&record, &good).unwrap();
        let other = dir.path().join("b.wpa");
        fs::write(&other, b"artifact").unwrap();
        assert_eq!(
            Record::read(&record, &identity_of(&other), &key()).vouched(),
            None
        );
    }

    #[test]
    fn a_record_made_with_another_key_vouches_for_nothing() {
        let (_dir, artifact, record) = artifact_with(b"artifact");
        let (identity, later) = settled_identity(&artifact);
        let theirs = MacKey::from_secret(&[4; 32]);
        Record::read(&record, &identity, &theirs).after_hit(
            &record,
            &identity,
            mac(1),
            later,
            &theirs,
            0o600,
        );
        assert_eq!(
            Record::read(&record, &identity, &theirs).vouched(),
            Some(mac(1))
        );
        assert_eq!(Record::read(&record, &identity, &key()).vouched(), None);
    }
}
