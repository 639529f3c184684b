//! The cache as an attacker who can write into its directory but does not hold its key finds
//! it. Every forgery tried here was accepted before entries carried a MAC; each must now be a
//! miss (`NotAuthentic`) that storing the module again repairs.
//!
//! The attacker knows the documented formats (`artifact.rs`, `verified.rs`) and recomputes every
//! checksum in them; what they lack is the secret.

use std::{
    fs::{self, File},
    os::unix::fs::{FileExt, MetadataExt},
    path::{Path, PathBuf},
    thread,
    time::Duration,
};

use tempfile::TempDir;
use wasm_prof_cache::{
    ArtifactError, CacheError, CacheKey, CacheStore, HashAlgo, MacKey, MappedArtifact,
    verified::{SETTLE, VOUCHES_AT, record_path},
    write_artifact,
};
use xxhash_rust::xxh3::Xxh3Default;

const FINGERPRINT: &str = "wasm-prof 0.1.0; cranelift 0.135.0; x86_64-unknown-linux-gnu; +avx2";

/// Where the artifact header keeps the module digest, the header checksum and the fingerprint
/// (see `artifact.rs`).
const DIGEST_AT: usize = 24;
const HEADER_CHECKSUM_AT: usize = 152;
const FINGERPRINT_AT: usize = 160;

/// The victim's cache: a directory, its key, and two entries — the code of a program the
/// attacker wants run ("trap") and of the program the victim will run ("args_env").
struct Victim {
    _dir: TempDir,
    store: CacheStore,
    mac_key: MacKey,
    trap: CacheKey,
    args_env: CacheKey,
}

fn key(module: &[u8]) -> CacheKey {
    let algo = HashAlgo::Blake3;
    CacheKey::new(algo, algo.digest(module).unwrap(), FINGERPRINT)
}

const TRAP_CODE: &[u8] = b"\x0f\x0b the attacker's code";
const ARGS_ENV_CODE: &[u8] = b"\xc3 the victim's code";

impl Victim {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = CacheStore::new(dir.path().join("cache"));
        let mac_key = MacKey::generate().unwrap().0;
        let (trap, args_env) = (key(b"trap.wasm"), key(b"args_env.wasm"));
        store
            .store(&trap, FINGERPRINT, &mac_key, b"trap meta", TRAP_CODE)
            .unwrap();
        store
            .store(
                &args_env,
                FINGERPRINT,
                &mac_key,
                b"args_env meta",
                ARGS_ENV_CODE,
            )
            .unwrap();
        Self {
            _dir: dir,
            store,
            mac_key,
            trap,
            args_env,
        }
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.store.path_for(key)
    }

    fn lookup_args_env(&self) -> Result<Option<MappedArtifact>, CacheError> {
        self.store
            .lookup(&self.args_env, FINGERPRINT, &self.mac_key)
    }

    /// The lookup refuses the entry as not authentic; storing the module again repairs it.
    fn assert_refused_then_repaired(&self, what: &str) {
        match self.lookup_args_env() {
            Err(CacheError::InvalidArtifact {
                source: ArtifactError::NotAuthentic,
                ..
            }) => {}
            Err(e) => panic!("{what}: refused, but not for its MAC: {e:?}"),
            Ok(Some(artifact)) => panic!(
                "{what}: the forged entry was loaded, code {:?}",
                String::from_utf8_lossy(artifact.code())
            ),
            Ok(None) => panic!("{what}: the forged entry vanished"),
        }
        self.store
            .store(
                &self.args_env,
                FINGERPRINT,
                &self.mac_key,
                b"args_env meta",
                ARGS_ENV_CODE,
            )
            .unwrap();
        let artifact = self.lookup_args_env().unwrap().expect("repaired");
        assert_eq!(artifact.code(), ARGS_ENV_CODE, "{what}");
    }
}

/// The attack the issue reports: the trap program's artifact, its module digest set to
/// args_env's and the header checksum recomputed.
fn forge_digest(trap_artifact: &[u8], args_env_artifact: &[u8]) -> Vec<u8> {
    let mut forged = trap_artifact.to_vec();
    forged[DIGEST_AT..DIGEST_AT + 32]
        .copy_from_slice(&args_env_artifact[DIGEST_AT..DIGEST_AT + 32]);
    let mut checksum = Xxh3Default::new();
    checksum.update(&forged[..HEADER_CHECKSUM_AT]);
    checksum.update(&forged[FINGERPRINT_AT..FINGERPRINT_AT + FINGERPRINT.len()]);
    forged[HEADER_CHECKSUM_AT..FINGERPRINT_AT].copy_from_slice(&checksum.digest().to_le_bytes());
    forged
}

/// Puts `bytes` under `path` as the attacker can: a new file renamed over the name.
fn rename_over(path: &Path, bytes: &[u8]) {
    let temp = path.with_extension("attacker");
    fs::write(&temp, bytes).unwrap();
    fs::rename(&temp, path).unwrap();
}

/// Waits until the files written so far count as settled for verification records.
fn settle() {
    thread::sleep(SETTLE + Duration::from_millis(200));
}

#[test]
fn the_reported_attack_is_refused() {
    let victim = Victim::new();
    let forged = forge_digest(
        &fs::read(victim.path(&victim.trap)).unwrap(),
        &fs::read(victim.path(&victim.args_env)).unwrap(),
    );
    rename_over(&victim.path(&victim.args_env), &forged);
    victim.assert_refused_then_repaired("digest forged, checksums recomputed");

    // The same with the trap entry's own verification record copied beside it.
    settle();
    victim
        .store
        .lookup(&victim.trap, FINGERPRINT, &victim.mac_key)
        .unwrap()
        .unwrap();
    rename_over(&victim.path(&victim.args_env), &forged);
    fs::copy(
        record_path(&victim.path(&victim.trap)),
        record_path(&victim.path(&victim.args_env)),
    )
    .unwrap();
    victim.assert_refused_then_repaired("with the trap entry's record");
}

#[test]
fn a_well_formed_entry_signed_with_another_key_is_refused() {
    let victim = Victim::new();
    // The attacker builds a perfect artifact for args_env's key around the trap code, signed
    // with the only key they have: their own.
    let theirs = MacKey::generate().unwrap().0;
    let mut forged = Vec::new();
    write_artifact(
        &mut forged,
        FINGERPRINT,
        &victim.args_env,
        &theirs,
        b"trap meta",
        TRAP_CODE,
    )
    .unwrap();
    rename_over(&victim.path(&victim.args_env), &forged);
    victim.assert_refused_then_repaired("signed with the attacker's key");
}

#[test]
fn an_entry_copied_from_another_users_cache_is_refused() {
    let victim = Victim::new();
    let other_user = Victim::new();
    fs::copy(
        other_user.path(&other_user.trap),
        victim.path(&victim.args_env),
    )
    .unwrap();
    // Their entry for the very same module, too: valid in their cache, not in this one.
    let theirs = fs::read(other_user.path(&other_user.args_env)).unwrap();
    match victim.lookup_args_env() {
        Err(CacheError::InvalidArtifact { .. }) => {}
        other => panic!("another user's entry under this name: {other:?}"),
    }
    rename_over(&victim.path(&victim.args_env), &theirs);
    victim.assert_refused_then_repaired("another user's entry for the same module");
}

/// The identity fields of a verification record for the file at `path` (see `verified.rs`).
fn identity_fields(path: &Path) -> [u8; 56] {
    let m = fs::metadata(path).unwrap();
    let fields = [
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime() as u64,
        m.mtime_nsec() as u64,
        m.ctime() as u64,
        m.ctime_nsec() as u64,
    ];
    let mut bytes = [0; 56];
    for (i, field) in fields.iter().enumerate() {
        bytes[i * 8..i * 8 + 8].copy_from_slice(&field.to_le_bytes());
    }
    bytes
}

#[test]
fn a_record_rewritten_for_a_forged_file_vouches_for_nothing() {
    let victim = Victim::new();
    settle();
    let genuine = victim.lookup_args_env().unwrap().unwrap();
    drop(genuine);
    let record = record_path(&victim.path(&victim.args_env));
    let mut forged_record = fs::read(&record).unwrap();
    assert_eq!(forged_record[VOUCHES_AT], 1, "the genuine record vouches");

    // A forged artifact whose MAC field is the genuine one, and a record that names the forged
    // file and that MAC: were records not signed, the hit would skip the MAC and run the trap.
    let genuine_bytes = fs::read(victim.path(&victim.args_env)).unwrap();
    let mut forged = genuine_bytes.clone();
    let code_at = forged.len() - ARGS_ENV_CODE.len();
    forged[code_at..code_at + 2].copy_from_slice(b"\x0f\x0b");
    rename_over(&victim.path(&victim.args_env), &forged);
    forged_record[24..80].copy_from_slice(&identity_fields(&victim.path(&victim.args_env)));
    rename_over(&record, &forged_record);
    victim.assert_refused_then_repaired("record rewritten for the forged file");
}

#[test]
fn a_file_changed_in_place_with_its_times_restored_is_refused() {
    let victim = Victim::new();
    settle();
    victim.lookup_args_env().unwrap().unwrap();
    let path = victim.path(&victim.args_env);
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    // The same length, the same inode, the modification time put back: only the ctime, which
    // nobody can set, tells.
    let file = File::options().write(true).open(&path).unwrap();
    let code_at = fs::metadata(&path).unwrap().len() - ARGS_ENV_CODE.len() as u64;
    file.write_all_at(b"\x0f\x0b", code_at).unwrap();
    file.set_modified(mtime).unwrap();
    drop(file);
    victim.assert_refused_then_repaired("rewritten in place, mtime restored");
}
