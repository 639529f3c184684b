//! The compiled-module cache end to end: hits, self-repair after every kind of corruption,
//! key sensitivity, degraded directories and many processes compiling one module at once.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use wasm_prof_runtime::{
    CacheOutcome, Config, Engine, Linker, Module, OptLevel, Store, Val,
    cache::{HashAlgo, verified},
};
use wasm_prof_wasi::{self as wasi, OutputPipe, OutputStream, WasiConfig};

const GUEST: &str = r#"(module
  (memory (export "memory") 1)
  (data (i32.const 16) "cached")
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_u
    if (result i32) local.get 0
    else local.get 0 i32.const 1 i32.sub call $fib local.get 0 i32.const 2 i32.sub call $fib i32.add end)
  (func (export "peek") (param i32) (result i32) local.get 0 i32.load8_u))"#;

fn engine_in(dir: &Path) -> Engine {
    let mut config = Config::new();
    config.cache_dir(dir);
    Engine::new(config).unwrap()
}

fn guest() -> Vec<u8> {
    wat::parse_str(GUEST).unwrap()
}

/// Loads the guest and returns what its functions compute, with the cache outcome.
fn load_and_run(engine: &Engine, bytes: &[u8]) -> (CacheOutcome, Vec<String>, Vec<Val>) {
    let module = Module::new(engine, bytes).unwrap();
    let mut store = Store::new(engine);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let fib = instance.get_func(&store, "fib").unwrap();
    let peek = instance.get_func(&store, "peek").unwrap();
    let mut results = fib.call(&mut store, &[Val::I32(20)]).unwrap();
    results.extend(peek.call(&mut store, &[Val::I32(16)]).unwrap());
    (
        module.cache_outcome().clone(),
        module.cache_warnings().to_vec(),
        results,
    )
}

fn artifacts(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "wpa"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

const EXPECTED: [Val; 2] = [Val::I32(6765), Val::I32(b'c' as i32)];

#[test]
fn miss_then_hit_gives_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path());
    let (outcome, warnings, results) = load_and_run(&engine, &guest());
    assert_eq!((outcome, warnings.len()), (CacheOutcome::Miss, 0));
    assert_eq!(results, EXPECTED);
    assert_eq!(artifacts(dir.path()).len(), 1);
    let (outcome, warnings, results) = load_and_run(&engine, &guest());
    assert_eq!((outcome, warnings.len()), (CacheOutcome::Hit, 0));
    assert_eq!(results, EXPECTED);
}

/// Damages the one artifact in `dir` in some way.
type Corruption = fn(&Path);

fn corruptions() -> Vec<(&'static str, Corruption)> {
    vec![
        ("truncated", |p| {
            let len = fs::metadata(p).unwrap().len();
            fs::OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        }),
        ("zero-length", |p| fs::write(p, b"").unwrap()),
        ("bit flip in code", |p| {
            let mut bytes = fs::read(p).unwrap();
            let at = bytes.len() - 8;
            bytes[at] ^= 0x10;
            fs::write(p, bytes).unwrap();
        }),
        ("bit flip in header", |p| {
            let mut bytes = fs::read(p).unwrap();
            bytes[30] ^= 1;
            fs::write(p, bytes).unwrap();
        }),
        ("wrong version", |p| {
            let mut bytes = fs::read(p).unwrap();
            bytes[8..12].copy_from_slice(&999u32.to_le_bytes());
            fs::write(p, bytes).unwrap();
        }),
        ("unreadable", |p| {
            fs::remove_file(p).unwrap();
            fs::create_dir(p).unwrap();
        }),
    ]
}

#[test]
fn every_corruption_is_a_miss_that_repairs_the_entry() {
    for (what, corrupt) in corruptions() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine_in(dir.path());
        load_and_run(&engine, &guest());
        let entry = artifacts(dir.path()).pop().unwrap();
        corrupt(&entry);
        let (outcome, warnings, results) = load_and_run(&engine, &guest());
        assert_eq!(results, EXPECTED, "{what}: results after recompiling");
        assert_eq!(outcome, CacheOutcome::Miss, "{what}");
        assert!(!warnings.is_empty(), "{what}: a warning says what happened");
        if what == "unreadable" {
            // A directory in the entry's place cannot be replaced by a rename; the run goes on.
            continue;
        }
        let (outcome, warnings, results) = load_and_run(&engine, &guest());
        assert_eq!(
            (outcome, warnings),
            (CacheOutcome::Hit, vec![]),
            "{what}: entry healthy again"
        );
        assert_eq!(results, EXPECTED);
    }
}

#[test]
fn a_settled_entry_is_vouched_for_and_corruption_is_still_caught() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path());
    load_and_run(&engine, &guest());
    let entry = artifacts(dir.path()).pop().unwrap();
    let record = PathBuf::from(format!("{}{}", entry.display(), verified::SUFFIX));
    let vouches = || fs::read(&record).is_ok_and(|r| r.get(verified::VOUCHES_AT) == Some(&1));

    let (outcome, _, _) = load_and_run(&engine, &guest());
    assert_eq!(outcome, CacheOutcome::Hit);
    assert!(
        !vouches(),
        "an entry younger than SETTLE is not vouched for"
    );
    std::thread::sleep(verified::SETTLE + Duration::from_millis(200));
    for _ in 0..2 {
        let (outcome, warnings, results) = load_and_run(&engine, &guest());
        assert_eq!(
            (outcome, warnings, results),
            (CacheOutcome::Hit, vec![], EXPECTED.to_vec())
        );
        assert!(vouches(), "the settled entry was verified and vouched for");
    }

    for (what, corrupt) in corruptions() {
        if what == "unreadable" {
            continue;
        }
        corrupt(&entry);
        let (outcome, warnings, results) = load_and_run(&engine, &guest());
        assert_eq!(
            outcome,
            CacheOutcome::Miss,
            "{what} after the entry was vouched for"
        );
        assert!(!warnings.is_empty(), "{what}");
        assert_eq!(results, EXPECTED, "{what}");
    }
}

/// Runs the WASI command `wasm` with `args` on `engine`: cache outcome, warnings, exit code and
/// standard output.
fn run_command(engine: &Engine, wasm: &Path, args: &[&str]) -> (CacheOutcome, usize, i32, String) {
    let module = Module::from_file(engine, wasm).unwrap();
    let stdout = OutputPipe::new();
    let mut config = WasiConfig::new();
    config
        .args(args.iter().copied())
        .stdout(OutputStream::Pipe(stdout.clone()));
    let status = wasi::run_command(engine, &module, &config).unwrap();
    (
        module.cache_outcome().clone(),
        module.cache_warnings().len(),
        status.code,
        String::from_utf8(stdout.contents()).unwrap(),
    )
}

/// Every corruption kind, and a foreign fingerprint, on the artifacts of real programs: the
/// project's embedded workload (a C program built from corpora/src/workload) and, when fetched,
/// the third-party `boolector`. Each damaged entry is recompiled with a warning, the program
/// prints exactly what it printed before, and the entry is healthy again afterwards.
#[test]
fn real_programs_survive_every_corruption_of_their_entry() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workload = repo.join("corpora/wasm/workload.wasm");
    let boolector = repo.join("corpora/fetched/boolector.wasm");
    let mut programs = vec![(workload, vec!["workload"], None)];
    if boolector.exists() {
        // Compiling boolector takes seconds: two kinds of damage are enough for a second
        // real program.
        programs.push((
            boolector,
            vec!["boolector", "--version"],
            Some(["bit flip in code", "truncated"]),
        ));
    } else {
        eprintln!("note: boolector not fetched; run scripts/fetch-corpus.sh --only boolector");
    }
    let mut config = Config::new();
    config.cache(false);
    let uncached = Engine::new(config).unwrap();
    let mut kinds = corruptions();
    kinds.push(("foreign fingerprint", |_| {}));
    for (wasm, args, only) in programs {
        let (_, _, code, expected) = run_command(&uncached, &wasm, &args);
        assert_eq!(code, 0, "{}", wasm.display());
        assert!(!expected.is_empty());
        for (what, corrupt) in &kinds {
            if only.is_some_and(|only| !only.contains(what)) {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            let engine = engine_in(dir.path());
            let first = run_command(&engine, &wasm, &args);
            assert_eq!(
                first,
                (CacheOutcome::Miss, 0, 0, expected.clone()),
                "{what}"
            );
            let entry = artifacts(dir.path()).pop().unwrap();
            if *what == "foreign fingerprint" {
                let mut config = Config::new();
                config.cache_dir(dir.path()).opt_level(OptLevel::None);
                run_command(&Engine::new(config).unwrap(), &wasm, &args);
                let foreign = artifacts(dir.path())
                    .into_iter()
                    .find(|p| *p != entry)
                    .unwrap();
                fs::rename(foreign, &entry).unwrap();
            } else {
                corrupt(&entry);
            }
            let (outcome, warnings, code, output) = run_command(&engine, &wasm, &args);
            assert_eq!(outcome, CacheOutcome::Miss, "{what}: {}", wasm.display());
            assert!(warnings >= 1, "{what}: a warning says what happened");
            assert_eq!((code, output), (0, expected.clone()), "{what}: same output");
            if *what == "unreadable" {
                continue;
            }
            let healthy = run_command(&engine, &wasm, &args);
            assert_eq!(
                healthy,
                (CacheOutcome::Hit, 0, 0, expected.clone()),
                "{what}: the entry is healthy again"
            );
        }
    }
}

#[test]
fn foreign_fingerprint_under_this_keys_name_is_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    let fast = engine_in(dir.path());
    let mut config = Config::new();
    config.cache_dir(dir.path()).opt_level(OptLevel::None);
    let unoptimized = Engine::new(config).unwrap();
    load_and_run(&fast, &guest());
    let fast_entry = artifacts(dir.path()).pop().unwrap();
    load_and_run(&unoptimized, &guest());
    let other_entry = artifacts(dir.path())
        .into_iter()
        .find(|p| *p != fast_entry)
        .expect("a different fingerprint gives a different entry");
    fs::copy(&other_entry, &fast_entry).unwrap();
    let (outcome, warnings, results) = load_and_run(&fast, &guest());
    assert_eq!(outcome, CacheOutcome::Miss);
    assert!(!warnings.is_empty());
    assert_eq!(results, EXPECTED);
}

#[test]
fn keys_change_with_module_bytes_algorithm_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path());
    load_and_run(&engine, &guest());
    // The same module with one more byte in a custom section.
    let mut other = guest();
    other.extend_from_slice(&[0, 2, 1, b'x']);
    let (outcome, _, results) = load_and_run(&engine, &other);
    assert_eq!((outcome, results), (CacheOutcome::Miss, EXPECTED.to_vec()));
    for algo in HashAlgo::ALL
        .into_iter()
        .filter(|a| a.check_supported().is_ok())
    {
        let mut config = Config::new();
        config.cache_dir(dir.path()).hash_algo(algo);
        let engine = Engine::new(config).unwrap();
        let first = load_and_run(&engine, &guest()).0;
        let second = load_and_run(&engine, &guest()).0;
        assert_eq!(second, CacheOutcome::Hit, "{algo}");
        if algo != HashAlgo::Blake3 {
            assert_eq!(
                first,
                CacheOutcome::Miss,
                "{algo} keys differ from blake3 keys"
            );
        }
    }
    let mut config = Config::new();
    config.cache_dir(dir.path()).epoch_interruption(true);
    let engine = Engine::new(config).unwrap();
    assert_eq!(load_and_run(&engine, &guest()).0, CacheOutcome::Miss);
}

#[test]
fn disabled_cache_touches_nothing_and_unwritable_cache_degrades() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let mut config = Config::new();
    config.cache(false).cache_dir(&cache_dir);
    let engine = Engine::new(config).unwrap();
    let (outcome, warnings, results) = load_and_run(&engine, &guest());
    assert_eq!(
        (outcome, warnings, results),
        (CacheOutcome::Disabled, vec![], EXPECTED.to_vec())
    );
    assert!(!cache_dir.exists());

    let blocker = dir.path().join("file");
    fs::write(&blocker, b"not a directory").unwrap();
    let engine = engine_in(&blocker.join("cache"));
    let (outcome, warnings, results) = load_and_run(&engine, &guest());
    assert_eq!(results, EXPECTED);
    assert_eq!(outcome, CacheOutcome::Miss);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("continuing without caching")),
        "{warnings:?}"
    );
}

const CHILD_DIR: &str = "WASM_PROF_TEST_CACHE_CHILD_DIR";

/// Run by `many_processes_share_one_entry` in child processes.
#[test]
#[ignore = "run as a child process by many_processes_share_one_entry"]
fn child_loads_module() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let (_, warnings, results) = load_and_run(&engine_in(Path::new(&dir)), &guest());
    assert_eq!(results, EXPECTED);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn many_processes_share_one_entry() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(&exe)
                .args(["--ignored", "--exact", "child_loads_module", "--nocapture"])
                .env(CHILD_DIR, dir.path())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let entries = artifacts(dir.path());
    assert_eq!(entries.len(), 1, "{entries:?}");
    // Children that found the entry already stored hit it and wrote its verification record.
    let record = format!("{}.verified", entries[0].display());
    let leftovers: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| *p != entries[0] && p.to_str() != Some(&record))
        .collect();
    assert_eq!(
        leftovers,
        Vec::<PathBuf>::new(),
        "no temporary files are left behind"
    );
    let (outcome, _, results) = load_and_run(&engine_in(dir.path()), &guest());
    assert_eq!((outcome, results), (CacheOutcome::Hit, EXPECTED.to_vec()));
}
