//! Where the cache key comes from and the rules a key file must pass: created owner-only on
//! first use, the same key every time after (also when processes race to create it), refused
//! when others could read it or change it, or when it sits in a directory others can write.

use std::{
    ffi::OsString,
    fs,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{Arc, Barrier},
    thread,
};

use wasm_prof_cache::{
    CacheError, MacKey,
    key_file::{KEY_FILE_VAR, KEY_VAR, KeySource, key_from, load_key_file},
    mac::secret_to_hex,
};

/// An environment holding only `vars`.
fn env(vars: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> + use<> {
    let vars: Vec<(String, OsString)> = vars
        .iter()
        .map(|(name, value)| (name.to_string(), value.as_os_str().to_owned()))
        .collect();
    move |name| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Whether two keys are the same secret: they sign alike.
fn same_key(a: &MacKey, b: &MacKey) -> bool {
    let sign = |key: &MacKey| {
        let algo = wasm_prof_cache::HashAlgo::Blake3;
        let cache_key = wasm_prof_cache::CacheKey::new(algo, algo.digest(b"m").unwrap(), "fp");
        let mut out = Vec::new();
        wasm_prof_cache::write_artifact(&mut out, "fp", &cache_key, key, b"meta", b"code").unwrap();
        out
    };
    sign(a) == sign(b)
}

fn refusal(result: Result<impl Sized, CacheError>) -> String {
    match result {
        Ok(_) => panic!("the key was accepted"),
        Err(e @ CacheError::Key { .. }) => e.to_string(),
        Err(e) => panic!("not a key error: {e:?}"),
    }
}

/// A key file holding a fresh secret, with `mode`, in a fresh directory.
fn key_file_with_mode(mode: u32) -> (tempfile::TempDir, PathBuf, MacKey) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.key");
    let (key, secret) = MacKey::generate().unwrap();
    fs::write(&path, secret_to_hex(&secret)).unwrap();
    chmod(&path, mode);
    (dir, path, key)
}

#[test]
fn the_users_key_is_created_owner_only_once_and_then_reused() {
    let config = tempfile::tempdir().unwrap();
    let vars = env(&[("XDG_CONFIG_HOME", config.path())]);
    let (first, source) = key_from(&vars).unwrap();
    let path = config.path().join("wasm-prof/cache.key");
    assert_eq!(source, KeySource::Created(path.clone()));
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    assert_eq!(
        fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::read(&path).unwrap().len(),
        65,
        "64 hex digits and a newline"
    );
    let (again, source) = key_from(&vars).unwrap();
    assert_eq!(source, KeySource::File(path));
    assert!(same_key(&first, &again));

    // Without XDG_CONFIG_HOME the key is under HOME; another user's config dir is another key.
    let home = tempfile::tempdir().unwrap();
    let (other, source) = key_from(env(&[("HOME", home.path())])).unwrap();
    assert_eq!(
        source,
        KeySource::Created(home.path().join(".config/wasm-prof/cache.key"))
    );
    assert!(!same_key(&first, &other));
}

#[test]
fn processes_racing_to_create_the_key_all_get_the_same_one() {
    let config = tempfile::tempdir().unwrap();
    let config_path = config.path().to_path_buf();
    let barrier = Arc::new(Barrier::new(8));
    let keys: Vec<MacKey> = (0..8)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let config_path = config_path.clone();
            thread::spawn(move || {
                barrier.wait();
                key_from(env(&[("XDG_CONFIG_HOME", &config_path)]))
                    .unwrap()
                    .0
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert!(keys.iter().all(|k| same_key(k, &keys[0])));
    let leftovers: Vec<_> = fs::read_dir(config.path().join("wasm-prof"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["cache.key"], "no temporary files left behind");
}

#[test]
fn the_environment_chooses_the_key_before_the_users_file() {
    let config = tempfile::tempdir().unwrap();
    let (_dir, file, file_key) = key_file_with_mode(0o600);
    let (_, secret) = MacKey::generate().unwrap();
    let hex = PathBuf::from(secret_to_hex(&secret).trim());
    let (key, source) = key_from(env(&[
        (KEY_VAR, &hex),
        (KEY_FILE_VAR, &file),
        ("XDG_CONFIG_HOME", config.path()),
    ]))
    .unwrap();
    assert_eq!(source, KeySource::Environment);
    assert!(same_key(&key, &MacKey::from_secret(&secret)));
    let (key, source) = key_from(env(&[
        (KEY_FILE_VAR, &file),
        ("XDG_CONFIG_HOME", config.path()),
    ]))
    .unwrap();
    assert_eq!(source, KeySource::File(file));
    assert!(same_key(&key, &file_key));
    assert!(
        fs::read_dir(config.path()).unwrap().next().is_none(),
        "no user key was created while another key was chosen"
    );

    let message = refusal(key_from(env(&[(KEY_VAR, Path::new("not-a-key"))])));
    assert!(message.contains(KEY_VAR), "{message}");
    assert!(message.contains("openssl rand -hex 32"), "{message}");
    let missing = config.path().join("missing.key");
    let message = refusal(key_from(env(&[(KEY_FILE_VAR, &missing)])));
    assert!(message.contains("cannot be read"), "{message}");
    assert!(!missing.exists(), "a named key file is never created");
}

#[test]
fn key_files_others_could_read_or_change_are_refused() {
    for mode in [0o644, 0o604, 0o660, 0o620, 0o666, 0o700 | 0o010] {
        let (_dir, path, _) = key_file_with_mode(mode);
        let message = refusal(load_key_file(&path));
        assert!(message.contains("loose permissions"), "{mode:o}: {message}");
        assert!(message.contains(&*path.to_string_lossy()), "{message}");
        assert!(message.contains("chmod 600"), "{message}");
    }
    // Owner-only, and readable by the file's group (a key shared by a group of users).
    for mode in [0o600, 0o400, 0o640] {
        let (_dir, path, key) = key_file_with_mode(mode);
        assert!(same_key(&load_key_file(&path).unwrap(), &key), "{mode:o}");
    }
}

#[test]
fn a_key_file_in_a_directory_others_can_write_is_refused() {
    let (dir, path, _) = key_file_with_mode(0o600);
    chmod(dir.path(), 0o777);
    let message = refusal(load_key_file(&path));
    assert!(
        message.contains("others could use to replace it"),
        "{message}"
    );
    assert!(message.contains("writable by group or others"), "{message}");
}

#[test]
fn a_key_file_owned_by_another_user_is_refused() {
    let (_dir, path, _) = key_file_with_mode(0o600);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("note: not root: cannot give a file to another user; checked as root in CI");
        return;
    }
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    let message = refusal(load_key_file(&path));
    assert!(
        message.contains("owned by another user (uid 65534)"),
        "{message}"
    );
}

#[test]
fn a_key_file_without_a_key_is_refused() {
    for content in [&b""[..], b"short\n", &[b'z'; 64], &[0xff; 64]] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.key");
        fs::write(&path, content).unwrap();
        chmod(&path, 0o600);
        let message = refusal(load_key_file(&path));
        assert!(message.contains("holds no key"), "{message}");
    }
    let dir = tempfile::tempdir().unwrap();
    let message = refusal(load_key_file(dir.path()));
    assert!(message.contains("not a regular file"), "{message}");
}
