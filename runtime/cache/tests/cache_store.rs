//! The cache store on real directories.

use std::{
    fs::{self, File},
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Barrier},
    thread,
    time::{Duration, SystemTime},
};

use tempfile::TempDir;
use wasm_prof_cache::{
    ArtifactError, CacheError, CacheKey, CacheStore, HashAlgo, MacKey, MappedArtifact, Removed,
    StoreOutcome,
};

/// The key every entry in these tests is signed with.
fn mac_key() -> MacKey {
    MacKey::from_secret(&[7; MacKey::SECRET_LEN])
}

const FINGERPRINT: &str = "wasm-prof 0.1.0; cranelift 0.112.3; x86_64-unknown-linux-gnu; +avx2";

fn key(module: &[u8]) -> CacheKey {
    let algo = HashAlgo::Blake3;
    CacheKey::new(algo, algo.digest(module).unwrap(), FINGERPRINT)
}

fn store_ok(store: &CacheStore, key: &CacheKey, meta: &[u8], code: &[u8]) -> (u64, Removed) {
    match store
        .store(key, FINGERPRINT, &mac_key(), meta, code)
        .unwrap()
    {
        StoreOutcome::Stored {
            path,
            bytes,
            evicted,
        } => {
            assert_eq!(path, store.path_for(key));
            assert_eq!(fs::metadata(&path).unwrap().len(), bytes);
            (bytes, evicted)
        }
        outcome => panic!("not stored: {outcome:?}"),
    }
}

fn hit(store: &CacheStore, key: &CacheKey) -> MappedArtifact {
    store
        .lookup(key, FINGERPRINT, &mac_key())
        .unwrap()
        .expect("a hit")
}

fn set_mtime(path: &Path, time: SystemTime) {
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

/// The file names a hit entry has: the artifact and its verification record.
fn entry_and_record(key: &CacheKey) -> [String; 2] {
    [key.file_name(), format!("{}.verified", key.file_name())]
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn miss_store_hit() {
    let tmp = TempDir::new().unwrap();
    let store = CacheStore::new(tmp.path().join("cache"));
    let k = key(b"module");

    assert!(store.lookup(&k, FINGERPRINT, &mac_key()).unwrap().is_none());
    assert_eq!(store.stats().unwrap().entries, 0);
    assert!(
        !store.dir().exists(),
        "lookup and stats must not create the directory"
    );

    let code: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let (bytes, evicted) = store_ok(&store, &k, b"meta", &code);
    assert_eq!(evicted, Removed::default());
    let artifact = hit(&store, &k);
    assert_eq!(artifact.meta(), b"meta");
    assert_eq!(artifact.code(), &code[..]);

    let stats = store.stats().unwrap();
    assert_eq!((stats.entries, stats.total_bytes), (1, bytes));
    assert_eq!(stats.dir, store.dir());
    assert_eq!(stats.limit, CacheStore::DEFAULT_LIMIT);

    // Another module, or the same module under another engine, is a miss.
    assert!(
        store
            .lookup(&key(b"other"), FINGERPRINT, &mac_key())
            .unwrap()
            .is_none()
    );
    let other = CacheKey::new(HashAlgo::Blake3, k.module_digest(), "another engine");
    assert!(
        store
            .lookup(&other, "another engine", &mac_key())
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_mapping_outlives_the_replacement_of_its_file() {
    let tmp = TempDir::new().unwrap();
    let store = CacheStore::new(tmp.path());
    let k = key(b"module");
    store_ok(&store, &k, b"old", &[1; 5000]);
    let old = hit(&store, &k);
    store_ok(&store, &k, b"new", &[2; 3000]);
    assert_eq!((old.meta(), old.code()), (&b"old"[..], &[1; 5000][..]));
    let new = hit(&store, &k);
    assert_eq!((new.meta(), new.code()), (&b"new"[..], &[2; 3000][..]));
}

#[test]
fn corrupt_entries_are_errors_and_a_store_replaces_them() {
    let tmp = TempDir::new().unwrap();
    let store = CacheStore::new(tmp.path());
    let k = key(b"module");
    store_ok(&store, &k, b"meta", &[0xc3; 100]);
    let path = store.path_for(&k);
    let good = fs::read(&path).unwrap();

    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 4;
    for (bytes, what) in [
        (&[][..], "empty"),
        (&good[..good.len() / 2], "truncated"),
        (&good[..good.len() - 1], "one byte short"),
        (&flipped[..], "bit flip"),
        (b"not an artifact at all", "foreign"),
    ] {
        fs::write(&path, bytes).unwrap();
        let err = store.lookup(&k, FINGERPRINT, &mac_key()).unwrap_err();
        assert!(
            matches!(err, CacheError::InvalidArtifact { .. }),
            "{what}: {err:?}"
        );
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        store_ok(&store, &k, b"meta", &[0xc3; 100]);
        assert_eq!(hit(&store, &k).meta(), b"meta", "{what}");
    }

    // An artifact copied under another key's name is refused, not loaded.
    let other = key(b"other module");
    fs::copy(&path, store.path_for(&other)).unwrap();
    let err = store.lookup(&other, FINGERPRINT, &mac_key()).unwrap_err();
    assert!(matches!(
        err,
        CacheError::InvalidArtifact {
            source: ArtifactError::KeyMismatch,
            ..
        }
    ));
}

#[test]
fn eviction_keeps_the_limit_and_removes_the_least_recently_used() {
    let tmp = TempDir::new().unwrap();
    let size = CacheStore::new(tmp.path())
        .store(&key(b"probe"), FINGERPRINT, &mac_key(), b"meta", &[0; 100])
        .map(|outcome| match outcome {
            StoreOutcome::Stored { bytes, .. } => bytes,
            outcome => panic!("{outcome:?}"),
        })
        .unwrap();
    CacheStore::new(tmp.path()).clear().unwrap();

    let store = CacheStore::new(tmp.path()).with_limit(3 * size + size / 2);
    let keys: Vec<CacheKey> = (0..6u8).map(|i| key(&[i])).collect();
    let base = SystemTime::now() - Duration::from_secs(3600);
    let mut expected_evictions = [0, 0, 0, 1, 1].into_iter();
    for (i, k) in keys[..5].iter().enumerate() {
        let (_, evicted) = store_ok(&store, k, b"meta", &[0; 100]);
        assert_eq!(evicted.entries, expected_evictions.next().unwrap());
        set_mtime(
            &store.path_for(k),
            base + Duration::from_secs(i as u64 * 60),
        );
        assert!(store.stats().unwrap().total_bytes <= store.limit());
    }
    let present = |k: &CacheKey| store.path_for(k).exists();
    assert!(!present(&keys[0]) && !present(&keys[1]));
    assert!(keys[2..5].iter().all(present));

    // A hit makes keys[2] the most recently used, so keys[3] goes next.
    hit(&store, &keys[2]);
    let (_, evicted) = store_ok(&store, &keys[5], b"meta", &[0; 100]);
    assert_eq!(
        evicted,
        Removed {
            entries: 1,
            bytes: size
        }
    );
    assert!(!present(&keys[3]));
    assert!([2, 4, 5].iter().all(|&i| present(&keys[i])));

    // A write's mtime comes from the kernel's coarse clock, a hit's from the precise one, so
    // two "now"s milliseconds apart may compare either way: age keys[5] explicitly.
    set_mtime(&store.path_for(&keys[5]), base + Duration::from_secs(600));
    assert_eq!(store.evict_to(size).unwrap().entries, 2);
    assert_eq!(store.stats().unwrap().entries, 1);
    assert!(present(&keys[2]), "the most recently used survives");
}

#[test]
fn the_entry_just_written_is_never_evicted() {
    let tmp = TempDir::new().unwrap();
    let store = CacheStore::new(tmp.path());
    let old = key(b"old");
    let (size, _) = store_ok(&store, &old, b"", &[0; 10]);
    // Recency from a clock that ran ahead: the existing entry looks newer than any new one.
    set_mtime(
        &store.path_for(&old),
        SystemTime::now() + Duration::from_secs(86_400),
    );
    let store = store.with_limit(size);
    let new = key(b"new");
    let (_, evicted) = store_ok(&store, &new, b"", &[0; 10]);
    assert_eq!(evicted.entries, 1);
    assert!(store.path_for(&new).exists() && !store.path_for(&old).exists());
}

#[test]
fn an_artifact_larger_than_the_limit_is_not_written() {
    let tmp = TempDir::new().unwrap();
    let store = CacheStore::new(tmp.path().join("cache")).with_limit(1000);
    let outcome = store
        .store(&key(b"big"), FINGERPRINT, &mac_key(), b"", &[0; 1000])
        .unwrap();
    assert!(matches!(
        outcome,
        StoreOutcome::TooLarge { limit: 1000, .. }
    ));
    assert!(!store.dir().exists());
}

#[test]
fn clear_removes_artifacts_and_stale_temporaries_only() {
    let tmp = TempDir::new().unwrap();
    let store = CacheStore::new(tmp.path());
    let mut total = 0;
    for i in 0..3u8 {
        total += store_ok(&store, &key(&[i]), b"m", &[i; 50]).0;
    }
    let stale = tmp.path().join(".wpa-tmp-stale");
    let fresh = tmp.path().join(".wpa-tmp-fresh");
    for path in [&stale, &fresh] {
        fs::write(path, b"partial").unwrap();
    }
    set_mtime(&stale, SystemTime::now() - Duration::from_secs(2 * 3600));
    fs::write(tmp.path().join("notes.txt"), b"mine").unwrap();
    fs::write(tmp.path().join("foo.wpa"), b"mine too").unwrap();
    fs::create_dir(tmp.path().join(key(b"dir").file_name())).unwrap();

    assert_eq!(store.stats().unwrap().total_bytes, total);
    assert_eq!(
        store.clear().unwrap(),
        Removed {
            entries: 3,
            bytes: total
        }
    );
    let mut left = names(tmp.path());
    left.retain(|n| !n.starts_with("blake3-"));
    assert_eq!(left, [".wpa-tmp-fresh", "foo.wpa", "notes.txt"]);
    assert_eq!(store.stats().unwrap().entries, 0);
}

#[test]
fn verification_records_go_with_their_artifacts() {
    let tmp = TempDir::new().unwrap();
    let store = CacheStore::new(tmp.path());
    let (a, b) = (key(b"a"), key(b"b"));
    store_ok(&store, &a, b"meta", &[1; 100]);
    store_ok(&store, &b, b"meta", &[2; 100]);
    hit(&store, &a);
    hit(&store, &b);
    let mut both = entry_and_record(&a).to_vec();
    both.extend(entry_and_record(&b));
    both.sort();
    assert_eq!(names(tmp.path()), both);
    assert_eq!(store.stats().unwrap().entries, 2, "records are not entries");

    // A record whose artifact is gone is removed by the next eviction.
    fs::remove_file(store.path_for(&a)).unwrap();
    assert_eq!(store.evict_to(u64::MAX).unwrap(), Removed::default());
    assert_eq!(names(tmp.path()), entry_and_record(&b));

    // Evicting an entry removes its record; so does a clear.
    store_ok(&store, &a, b"meta", &[1; 100]);
    hit(&store, &a);
    assert_eq!(store.clear().unwrap().entries, 2);
    assert_eq!(names(tmp.path()), Vec::<String>::new());
}

#[test]
fn concurrent_stores_of_one_key_leave_one_whole_entry() {
    let tmp = TempDir::new().unwrap();
    let store = Arc::new(CacheStore::new(tmp.path().join("cache")));
    let k = key(b"module");
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                for round in 0..20u8 {
                    let code = vec![t ^ round; 20_000 + usize::from(t) * 1000];
                    store
                        .store(&k, FINGERPRINT, &mac_key(), &[t, round], &code)
                        .unwrap();
                    // Every reader sees a whole artifact from one of the writers.
                    let artifact = store.lookup(&k, FINGERPRINT, &mac_key()).unwrap().unwrap();
                    let [w, r] = artifact.meta() else {
                        panic!("meta {:?}", artifact.meta())
                    };
                    assert_eq!(
                        artifact.code(),
                        vec![w ^ r; 20_000 + usize::from(*w) * 1000]
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(names(store.dir()), entry_and_record(&k));
    hit(&store, &k);
}

/// Run by [`concurrent_processes_store_one_key`] in child processes; does nothing on its own.
#[test]
#[ignore = "a child process of concurrent_processes_store_one_key"]
fn child_store_worker() {
    let Some(dir) = std::env::var_os("WASM_PROF_TEST_CHILD_DIR") else {
        return;
    };
    let store = CacheStore::new(dir);
    let k = key(b"module");
    for round in 0..50u8 {
        store
            .store(&k, FINGERPRINT, &mac_key(), &[round], &[round; 30_000])
            .unwrap();
        let artifact = store.lookup(&k, FINGERPRINT, &mac_key()).unwrap().unwrap();
        assert_eq!(artifact.code(), [artifact.meta()[0]; 30_000]);
    }
}

#[test]
fn concurrent_processes_store_one_key() {
    let tmp = TempDir::new().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "child_store_worker", "--ignored", "--quiet"])
                .env("WASM_PROF_TEST_CHILD_DIR", tmp.path())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let store = CacheStore::new(tmp.path());
    assert_eq!(names(tmp.path()), entry_and_record(&key(b"module")));
    hit(&store, &key(b"module"));
}

#[test]
fn an_unwritable_directory_is_an_error_that_names_it() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, b"").unwrap();
    // Root ignores permission bits, so use paths no one can create directories in.
    for dir in [file.join("cache"), "/proc/wasm-prof-cache-test".into()] {
        let store = CacheStore::new(&dir);
        let err = store
            .store(&key(b"m"), FINGERPRINT, &mac_key(), b"", b"")
            .unwrap_err();
        assert!(matches!(err, CacheError::CreateDir { .. }), "{err:?}");
        assert!(err.to_string().contains(&*dir.to_string_lossy()), "{err}");
    }
    // An existing directory that refuses new files.
    let store = CacheStore::new("/proc/self");
    let err = store
        .store(&key(b"m"), FINGERPRINT, &mac_key(), b"", b"")
        .unwrap_err();
    assert!(matches!(err, CacheError::Write { .. }), "{err:?}");

    // Lookups and listings through a file are errors, not misses.
    let store = CacheStore::new(&file);
    assert!(matches!(
        store.lookup(&key(b"m"), FINGERPRINT, &mac_key()),
        Err(CacheError::Read { .. })
    ));
    assert!(matches!(store.stats(), Err(CacheError::List { .. })));
}
