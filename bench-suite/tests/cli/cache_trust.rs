//! `wasm-prof run` against a cache someone else has written into: the attack of issue 17 with
//! the real programs (the trap program's entry forged into args_env's), another user's entry, a
//! key file with loose permissions, the user's key created on first use, and one cache shared by
//! two users through a shared key.

use std::{
    fs,
    os::unix::{
        fs::{MetadataExt, PermissionsExt},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Command, Output},
};

use xxhash_rust::xxh3::Xxh3Default;

use crate::util::text;

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../corpora/wasm/wasi-tests/{name}.wasm"))
}

fn expected(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../corpora/src/wasi-tests/{name}.expected"));
    fs::read(path).unwrap()
}

/// The arguments args_env is run with in every test, and the environment its expected output
/// names.
const ARGS: [&str; 3] = ["alpha", "beta gamma", "--delta=1"];

/// Runs `wasm-prof run --profile P --cache-dir CACHE` on `wasm` with `env` (and only the cache
/// variables set here: the test's own environment's keys are removed); returns the output and
/// the profile's path (`cold` or `cached`).
fn run(cache: &Path, wasm: &Path, env: &[(&str, &Path)], as_user: Option<u32>) -> (Output, String) {
    let profile_dir = tempfile::tempdir().unwrap();
    if as_user.is_some() {
        fs::set_permissions(profile_dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    }
    let profile = profile_dir.path().join("profile.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_wasm-prof"));
    command
        .arg("run")
        .arg("--cache-dir")
        .arg(cache)
        .arg("--profile")
        .arg(&profile)
        .args(["--env", "GREETING=hello", "--env", "WASM_PROF=1"])
        .arg(wasm)
        .arg("--")
        .args(ARGS)
        .env_remove("WASM_PROF_CACHE_KEY")
        .env_remove("WASM_PROF_CACHE_KEY_FILE")
        .env_remove("WASM_PROF_CACHE_SHARED");
    for (name, value) in env {
        command.env(name, value);
    }
    if let Some(uid) = as_user {
        command.uid(uid).gid(uid).env("HOME", "/nonexistent");
    }
    let output = command.output().expect("wasm-prof runs");
    let path = fs::read(&profile)
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|report| report["runs"][0]["path"].as_str().map(str::to_string))
        .unwrap_or_else(|| "no profile".into());
    (output, path)
}

/// args_env ran as itself: its own output, exit 0.
fn assert_args_env_ran(output: &Output, what: &str) {
    assert_eq!(output.status.code(), Some(0), "{what}: {:?}", text(output));
    assert_eq!(
        output.stdout,
        expected("args_env"),
        "{what}: {:?}",
        text(output)
    );
}

/// The `.wpa` entries in `cache`.
fn artifacts(cache: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(cache)
        .map(|dir| {
            dir.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "wpa"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// A fresh key file (0600) in a fresh directory.
fn key_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.key");
    let secret: String = (0..32).map(|_| format!("{:02x}", rand_byte())).collect();
    fs::write(&path, secret + "\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    (dir, path)
}

/// A byte from the operating system's random source.
fn rand_byte() -> u8 {
    let mut byte = [0];
    std::io::Read::read_exact(&mut fs::File::open("/dev/urandom").unwrap(), &mut byte).unwrap();
    byte[0]
}

/// The attack as reported: the trap program's artifact with its module digest set to
/// args_env's and the header checksum recomputed (offsets from `artifact.rs`: digest at 24,
/// header checksum at 152 over bytes 0..152 and the fingerprint, which starts at 160 and whose
/// length is at 72).
fn forge(trap: &[u8], args_env: &[u8]) -> Vec<u8> {
    let mut forged = trap.to_vec();
    forged[24..56].copy_from_slice(&args_env[24..56]);
    let fingerprint_len = u32::from_le_bytes(forged[72..76].try_into().unwrap()) as usize;
    let mut checksum = Xxh3Default::new();
    checksum.update(&forged[..152]);
    checksum.update(&forged[160..160 + fingerprint_len]);
    forged[152..160].copy_from_slice(&checksum.digest().to_le_bytes());
    forged
}

#[test]
fn the_forged_entry_attack_runs_none_of_the_attackers_code() {
    let (_key_dir, key) = key_file();
    let env = [("WASM_PROF_CACHE_KEY_FILE", key.as_path())];
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (trap_run, _) = run(&cache, &program("trap"), &env, None);
    assert!(
        String::from_utf8_lossy(&trap_run.stdout).starts_with("about to trap"),
        "{:?}",
        text(&trap_run)
    );
    let trap_entry = artifacts(&cache).pop().expect("the trap program's entry");
    let (first, path) = run(&cache, &program("args_env"), &env, None);
    assert_args_env_ran(&first, "cold");
    assert_eq!(path, "cold");
    let args_env_entry = artifacts(&cache)
        .into_iter()
        .find(|p| *p != trap_entry)
        .expect("args_env's entry");

    let forged = forge(
        &fs::read(&trap_entry).unwrap(),
        &fs::read(&args_env_entry).unwrap(),
    );
    let temp = cache.join("forged");
    fs::write(&temp, &forged).unwrap();
    fs::rename(&temp, &args_env_entry).unwrap();

    let (attacked, path) = run(&cache, &program("args_env"), &env, None);
    assert_args_env_ran(&attacked, "after the forgery");
    let stderr = String::from_utf8_lossy(&attacked.stderr);
    assert!(stderr.contains("MAC mismatch"), "{stderr}");
    assert!(stderr.contains("recompiled and replaced"), "{stderr}");
    assert_eq!(path, "cold", "the forged entry was not used");
    let (repaired, path) = run(&cache, &program("args_env"), &env, None);
    assert_args_env_ran(&repaired, "after the repair");
    assert_eq!(path, "cached");
    assert!(repaired.stderr.is_empty(), "{:?}", text(&repaired));
}

#[test]
fn another_users_entry_is_a_miss_that_is_replaced() {
    let (_mine_dir, mine) = key_file();
    let (_theirs_dir, theirs) = key_file();
    let dir = tempfile::tempdir().unwrap();
    let (my_cache, their_cache) = (dir.path().join("mine"), dir.path().join("theirs"));
    let (out, _) = run(
        &their_cache,
        &program("args_env"),
        &[("WASM_PROF_CACHE_KEY_FILE", &theirs)],
        None,
    );
    assert_args_env_ran(&out, "their cold run");
    fs::create_dir(&my_cache).unwrap();
    let entry = artifacts(&their_cache).pop().unwrap();
    fs::copy(&entry, my_cache.join(entry.file_name().unwrap())).unwrap();

    let env = [("WASM_PROF_CACHE_KEY_FILE", mine.as_path())];
    let (out, path) = run(&my_cache, &program("args_env"), &env, None);
    assert_args_env_ran(&out, "with their entry in my cache");
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAC mismatch"));
    assert_eq!(path, "cold");
    let (out, path) = run(&my_cache, &program("args_env"), &env, None);
    assert_args_env_ran(&out, "after the repair");
    assert_eq!(path, "cached");
}

#[test]
fn a_key_file_with_loose_permissions_turns_the_cache_off_with_a_warning() {
    let (_key_dir, key) = key_file();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (out, path) = run(
        &cache,
        &program("args_env"),
        &[("WASM_PROF_CACHE_KEY_FILE", &key)],
        None,
    );
    assert_args_env_ran(&out, "with a loose key file");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loose permissions"), "{stderr}");
    assert!(stderr.contains("running without the cache"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert_eq!(path, "nocache");
    assert!(artifacts(&cache).is_empty(), "nothing was cached");
}

#[test]
fn the_users_key_is_created_on_first_use_and_signs_later_hits() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, config) = (dir.path().join("cache"), dir.path().join("config"));
    let env = [("XDG_CONFIG_HOME", config.as_path())];
    let (out, path) = run(&cache, &program("args_env"), &env, None);
    assert_args_env_ran(&out, "first run");
    assert_eq!(path, "cold");
    let key = config.join("wasm-prof/cache.key");
    assert_eq!(fs::metadata(&key).unwrap().mode() & 0o777, 0o600);
    let (out, path) = run(&cache, &program("args_env"), &env, None);
    assert_args_env_ran(&out, "second run");
    assert_eq!(path, "cached");
    // A new key (the old one lost) makes every entry a miss, never a wrong load.
    fs::remove_file(&key).unwrap();
    let (out, path) = run(&cache, &program("args_env"), &env, None);
    assert_args_env_ran(&out, "with a new key");
    assert_eq!(path, "cold");
}

#[test]
fn a_shared_cache_with_a_shared_key_works_for_two_users() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("note: not root: cannot run as a second user; checked as root in CI");
        return;
    }
    const NOBODY: u32 = 65534;
    // A world-traversable place: the shared cache (writable by everyone, as deliberately shared
    // caches are), a key readable by root and the nobody group, and the programs.
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let cache = dir.path().join("shared-cache");
    fs::create_dir(&cache).unwrap();
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o777)).unwrap();
    let (key_dir, key) = key_file();
    fs::set_permissions(key_dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&key, Some(0), Some(NOBODY)).unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
    let mut programs = Vec::new();
    for name in ["args_env", "exit_code"] {
        let copy = dir.path().join(format!("{name}.wasm"));
        fs::copy(program(name), &copy).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o644)).unwrap();
        programs.push(copy);
    }
    let shared = Path::new("1");
    let env = [
        ("WASM_PROF_CACHE_KEY_FILE", key.as_path()),
        ("WASM_PROF_CACHE_SHARED", shared),
    ];

    // Root compiles args_env; nobody hits it.
    let (out, path) = run(&cache, &programs[0], &env, None);
    assert_args_env_ran(&out, "root, cold");
    assert_eq!(path, "cold");
    let (out, path) = run(&cache, &programs[0], &env, Some(NOBODY));
    assert_args_env_ran(&out, "nobody, from root's entry");
    assert_eq!(path, "cached", "{:?}", text(&out));
    // Nobody compiles exit_code (its entry readable by root); root hits it.
    let (out, path) = run(&cache, &programs[1], &env, Some(NOBODY));
    assert_eq!(path, "cold", "{:?}", text(&out));
    let (out, path) = run(&cache, &programs[1], &env, None);
    assert_eq!(path, "cached", "{:?}", text(&out));
    assert!(out.stderr.is_empty(), "{:?}", text(&out));
    let owners: Vec<u32> = artifacts(&cache)
        .iter()
        .map(|p| fs::metadata(p).unwrap().uid())
        .collect();
    assert!(
        owners.contains(&0) && owners.contains(&NOBODY),
        "{owners:?}"
    );

    // Without the shared key, the same users and the same directory share nothing.
    let (_own_dir, own_key) = key_file();
    let (out, path) = run(
        &cache,
        &programs[0],
        &[
            ("WASM_PROF_CACHE_KEY_FILE", own_key.as_path()),
            ("WASM_PROF_CACHE_SHARED", shared),
        ],
        None,
    );
    assert_args_env_ran(&out, "root with another key");
    assert_eq!(path, "cold");
}

#[test]
fn cache_key_says_where_the_key_comes_from_and_never_prints_it() {
    let config = tempfile::tempdir().unwrap();
    let key_command = |env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wasm-prof"));
        command
            .args(["cache", "key"])
            .env_remove("WASM_PROF_CACHE_KEY")
            .env_remove("WASM_PROF_CACHE_KEY_FILE")
            .env("XDG_CONFIG_HOME", config.path());
        for (name, value) in env {
            command.env(name, value);
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let key = config.path().join("wasm-prof/cache.key");
    assert_eq!(
        key_command(&[]),
        format!("key  {} (created now)\n", key.display())
    );
    assert_eq!(key_command(&[]), format!("key  {}\n", key.display()));
    let secret = fs::read_to_string(&key).unwrap();
    let from_env = key_command(&[("WASM_PROF_CACHE_KEY", secret.trim())]);
    assert_eq!(
        from_env,
        "key  the environment variable WASM_PROF_CACHE_KEY\n"
    );
    assert!(!from_env.contains(secret.trim()));
}
