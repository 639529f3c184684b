//! Backfill: an artifact fetched from elsewhere, written in pieces into the cache directory (or
//! into memory), authenticated as it is written, then used.

use std::fs;

use tempfile::TempDir;
use wasm_prof_cache::{
    ArtifactError, Backfill, CacheError, CacheKey, CacheStore, HashAlgo, MacKey, StoreOutcome,
};

const FINGERPRINT: &str = "wasm-prof 0.1.0; cranelift 0.135.0; x86_64-unknown-linux-gnu";

fn mac_key() -> MacKey {
    MacKey::from_secret(&[9; MacKey::SECRET_LEN])
}

fn key(module: &[u8]) -> CacheKey {
    let algo = HashAlgo::Blake3;
    CacheKey::new(algo, algo.digest(module).unwrap(), FINGERPRINT)
}

/// The bytes of a real artifact for `key` (as another node's store wrote it) and its code.
fn artifact(key: &CacheKey) -> (Vec<u8>, Vec<u8>) {
    let elsewhere = TempDir::new().unwrap();
    let code: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let store = CacheStore::new(elsewhere.path());
    let outcome = store
        .store(key, FINGERPRINT, &mac_key(), b"metadata", &code)
        .unwrap();
    let StoreOutcome::Stored { path, .. } = outcome else {
        panic!("not stored: {outcome:?}");
    };
    (fs::read(path).unwrap(), code)
}

/// Writes `bytes` in pieces whose edges fall inside the header, its MAC and the body.
fn write_in_pieces(backfill: &mut Backfill, bytes: &[u8]) {
    let mut at = 0;
    for size in [7, 113, 1, 30, 9, 4096, 65_536] {
        let end = (at + size).min(bytes.len());
        backfill.write(&bytes[at..end]).unwrap();
        at = end;
    }
    backfill.write(&bytes[at..]).unwrap();
    assert_eq!(backfill.written(), bytes.len() as u64);
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn an_artifact_written_in_pieces_becomes_the_entry() {
    let k = key(b"module");
    let (bytes, code) = artifact(&k);
    let dir = TempDir::new().unwrap();
    let store = CacheStore::new(dir.path());
    let mut backfill = store.begin_backfill(&mac_key()).unwrap();
    assert!(!backfill.is_in_memory());
    write_in_pieces(&mut backfill, &bytes);
    let artifact = backfill.finish(&k, FINGERPRINT, &mac_key()).unwrap();
    assert_eq!(artifact.code(), code);
    assert_eq!(artifact.meta(), b"metadata");
    assert_eq!(files(dir.path()), [k.file_name()]);
    // A local hit from now on, by the full check of a lookup.
    let hit = store.lookup(&k, FINGERPRINT, &mac_key()).unwrap().unwrap();
    assert_eq!(hit.code(), code);
}

#[test]
fn a_changed_byte_anywhere_is_refused_and_nothing_is_kept() {
    let k = key(b"module");
    let (bytes, _) = artifact(&k);
    // In the header before the MAC, in the MAC, in the fingerprint, in the code.
    for at in [20, 125, 170, bytes.len() - 1] {
        let mut changed = bytes.clone();
        changed[at] ^= 1;
        let dir = TempDir::new().unwrap();
        let store = CacheStore::new(dir.path());
        let mut backfill = store.begin_backfill(&mac_key()).unwrap();
        write_in_pieces(&mut backfill, &changed);
        let err = backfill.finish(&k, FINGERPRINT, &mac_key()).unwrap_err();
        assert!(
            matches!(err, CacheError::InvalidArtifact { .. }),
            "byte {at}: {err:?}"
        );
        assert!(files(dir.path()).is_empty(), "byte {at}");
    }
    // Whole, but signed with another key.
    let dir = TempDir::new().unwrap();
    let mut backfill = CacheStore::new(dir.path())
        .begin_backfill(&MacKey::from_secret(&[1; MacKey::SECRET_LEN]))
        .unwrap();
    write_in_pieces(&mut backfill, &bytes);
    let err = backfill.finish(&k, FINGERPRINT, &mac_key()).unwrap_err();
    assert!(
        matches!(
            err,
            CacheError::InvalidArtifact {
                source: ArtifactError::NotAuthentic,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_node_that_cannot_write_its_cache_uses_the_artifact_from_memory() {
    let k = key(b"module");
    let (bytes, code) = artifact(&k);
    // An existing directory that refuses new files (root ignores permission bits).
    let read_only = CacheStore::new("/proc/self");
    let err = read_only.begin_backfill(&mac_key()).unwrap_err();
    assert!(matches!(err, CacheError::Write { .. }), "{err:?}");
    let mut backfill = Backfill::in_memory(&mac_key()).unwrap();
    assert!(backfill.is_in_memory());
    write_in_pieces(&mut backfill, &bytes);
    let artifact = backfill.finish(&k, FINGERPRINT, &mac_key()).unwrap();
    assert_eq!(artifact.code(), code);
    // And from memory too, a changed byte is refused.
    let mut changed = bytes;
    changed[5000] ^= 0x80;
    let mut backfill = Backfill::in_memory(&mac_key()).unwrap();
    write_in_pieces(&mut backfill, &changed);
    assert!(backfill.finish(&k, FINGERPRINT, &mac_key()).is_err());
}

#[test]
fn an_artifact_larger_than_the_limit_is_not_kept() {
    let k = key(b"module");
    let (bytes, _) = artifact(&k);
    let dir = TempDir::new().unwrap();
    let store = CacheStore::new(dir.path()).with_limit(1000);
    let mut backfill = store.begin_backfill(&mac_key()).unwrap();
    write_in_pieces(&mut backfill, &bytes);
    let err = backfill.finish(&k, FINGERPRINT, &mac_key()).unwrap_err();
    assert!(matches!(err, CacheError::TooLarge { .. }), "{err:?}");
    assert!(files(dir.path()).is_empty());
}
