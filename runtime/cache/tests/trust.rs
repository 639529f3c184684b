//! Cache directories others could write to are not trusted with machine code: a directory (or
//! one above it) writable by group or others, or owned by another user, is refused naming it;
//! the store creates its directories owner-only. Runs as root in CI, where `chown` works.

use std::{
    fs,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::Path,
};

use wasm_prof_cache::{CacheError, CacheKey, CacheStore, HashAlgo, MacKey, trust::check_trusted};

/// The key every entry in these tests is signed with.
fn mac_key() -> MacKey {
    MacKey::from_secret(&[7; MacKey::SECRET_LEN])
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn refused(dir: &Path) -> (String, CacheError) {
    let err = check_trusted(dir).expect_err("an untrusted directory was trusted");
    (err.to_string(), err)
}

#[test]
fn an_owner_only_directory_under_tmp_is_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    check_trusted(tmp.path()).unwrap();
    // Not created yet: its existing ancestors decide.
    check_trusted(&tmp.path().join("not/yet")).unwrap();
}

#[test]
fn a_directory_writable_by_group_or_others_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    fs::create_dir(&cache).unwrap();
    for mode in [0o770, 0o707, 0o777, 0o1777] {
        chmod(&cache, mode);
        let (message, err) = refused(&cache);
        assert!(matches!(err, CacheError::Untrusted { .. }), "{err:?}");
        assert!(message.contains("writable by group or others"), "{message}");
        assert!(message.contains("chmod go-w"), "{message}");
    }
    chmod(&cache, 0o755);
    check_trusted(&cache).unwrap();
}

#[test]
fn a_parent_writable_by_others_is_refused_even_for_an_owner_only_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("shared");
    let cache = parent.join("cache");
    fs::create_dir_all(&cache).unwrap();
    chmod(&parent, 0o777);
    let (message, _) = refused(&cache);
    assert!(message.contains(&*parent.to_string_lossy()), "{message}");
}

#[test]
fn a_directory_owned_by_another_user_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("theirs");
    fs::create_dir(&cache).unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("note: not root: cannot give a directory to another user; checked as root in CI");
        return;
    }
    std::os::unix::fs::chown(&cache, Some(65534), Some(65534)).unwrap();
    let (message, _) = refused(&cache);
    assert!(
        message.contains("owned by another user (uid 65534)"),
        "{message}"
    );
}

#[test]
fn the_store_creates_owner_only_directories_and_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/cache");
    let store = CacheStore::new(&dir);
    let key = CacheKey::new(
        HashAlgo::Blake3,
        HashAlgo::Blake3.digest(b"m").unwrap(),
        "fp",
    );
    store
        .store(&key, "fp", &mac_key(), b"meta", b"code")
        .unwrap();
    for created in [tmp.path().join("a"), tmp.path().join("a/b"), dir.clone()] {
        assert_eq!(
            created.metadata().unwrap().mode() & 0o777,
            0o700,
            "{created:?}"
        );
    }
    assert_eq!(
        store.path_for(&key).metadata().unwrap().mode() & 0o777,
        0o600
    );
    check_trusted(&dir).unwrap();
}
