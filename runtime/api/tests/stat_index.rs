//! The stat index end to end: an unchanged, settled module file is loaded without hashing it;
//! every way of changing the file — rewritten in place with its modification time put back,
//! replaced by a rename, truncated, touched, copied — and a file too young to trust is hashed
//! again, and no load ever runs another module's code. Processes racing on one index leave it
//! usable.

use std::{
    fs::{self, File},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{Arc, Barrier},
    thread,
    time::Duration,
};

use wasm_prof_runtime::{
    CacheOutcome, Config, Engine, Linker, Module, Store, Val,
    cache::{digest_index, verified::SETTLE},
    phases::{Phase, PhaseClock},
};

/// A module whose `answer` returns `n`; every `n` of the same number of digits gives a module
/// of the same size.
fn module_returning(n: i32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module (func (export "answer") (result i32) i32.const {n}))"#
    ))
    .unwrap()
}

fn engine(cache: &Path, stat_index: bool) -> Engine {
    let mut config = Config::new();
    config.cache_dir(cache).stat_index(stat_index);
    Engine::new(config).unwrap()
}

/// How a load went: whether it hashed the file, whether the cache hit, and what `answer`
/// returned (or the error).
#[derive(Debug, PartialEq, Eq)]
struct Load {
    hashed: bool,
    outcome: Option<CacheOutcome>,
    answer: Result<i32, String>,
}

fn load(engine: &Engine, path: &Path) -> Load {
    let mut clock = PhaseClock::enabled();
    let module = Module::from_file_with_clock(engine, path, &mut clock);
    let hashed = clock.record().ran(Phase::Hash);
    let module = match module {
        Ok(module) => module,
        Err(e) => {
            return Load {
                hashed,
                outcome: None,
                answer: Err(e.to_string()),
            };
        }
    };
    let mut store = Store::new(engine);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let results = instance
        .get_func(&store, "answer")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    let [Val::I32(answer)] = results[..] else {
        panic!("answer returned {results:?}");
    };
    Load {
        hashed,
        outcome: Some(module.cache_outcome().clone()),
        answer: Ok(answer),
    }
}

/// The file at `path`, opened for writing in place.
fn writable(path: &Path) -> File {
    File::options().write(true).open(path).unwrap()
}

/// A directory with a cache and the module files `a.wasm` (answer 11), `b.wasm` (answer 22,
/// the same size), all settled: old enough for the index to take them.
struct Fixture {
    dir: tempfile::TempDir,
    engine: Engine,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.wasm"), module_returning(11)).unwrap();
        fs::write(dir.path().join("b.wasm"), module_returning(22)).unwrap();
        assert_eq!(module_returning(11).len(), module_returning(22).len());
        thread::sleep(SETTLE + Duration::from_millis(200));
        let engine = engine(&dir.path().join("cache"), true);
        Self { dir, engine }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Loads `a.wasm` twice: the first load hashes it and enters it into the index, the second
    /// takes its digest from the index.
    fn index_a(&self) {
        let first = load(&self.engine, &self.path("a.wasm"));
        assert!(first.hashed);
        assert_eq!(first.answer, Ok(11));
        let second = load(&self.engine, &self.path("a.wasm"));
        assert_eq!(
            second,
            Load {
                hashed: false,
                outcome: Some(CacheOutcome::Hit),
                answer: Ok(11)
            },
            "an indexed, unchanged file is not hashed"
        );
    }

    /// Puts `a.wasm` back as it was, lets it settle and indexes it again.
    fn restore_a(&self) {
        fs::write(self.path("a.wasm"), module_returning(11)).unwrap();
        thread::sleep(SETTLE + Duration::from_millis(200));
        self.index_a();
    }

    /// After a change to `a.wasm`, the next load hashes the file and answers `expected`.
    fn assert_hashed_again(&self, what: &str, expected: Result<i32, ()>) {
        let after = load(&self.engine, &self.path("a.wasm"));
        assert!(after.hashed, "{what}: the changed file was not hashed");
        assert_eq!(after.answer.map_err(drop), expected, "{what}");
    }
}

#[test]
fn an_unchanged_settled_file_is_not_hashed_and_every_change_is() {
    let fixture = Fixture::new();
    let a = fixture.path("a.wasm");

    fixture.index_a();
    // Rewritten in place with b's bytes (same size), its modification time put back: only the
    // status-change time differs.
    let mtime = fs::metadata(&a).unwrap().modified().unwrap();
    let file = writable(&a);
    file.write_all_at(&module_returning(22), 0).unwrap();
    file.set_modified(mtime).unwrap();
    drop(file);
    fixture.assert_hashed_again("rewritten in place, mtime restored", Ok(22));

    fixture.restore_a();
    fs::copy(fixture.path("b.wasm"), fixture.path("b-copy.wasm")).unwrap();
    fs::rename(fixture.path("b-copy.wasm"), &a).unwrap();
    fixture.assert_hashed_again("replaced by a rename", Ok(22));

    fixture.restore_a();
    // Mid-way through the type section: malformed.
    writable(&a).set_len(11).unwrap();
    fixture.assert_hashed_again("truncated", Err(()));

    fixture.restore_a();
    writable(&a)
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    fixture.assert_hashed_again("touched", Ok(11));
}

#[test]
fn a_copy_and_a_young_file_are_hashed() {
    let fixture = Fixture::new();
    fixture.index_a();
    let copy = fixture.path("a-copy.wasm");
    fs::copy(fixture.path("a.wasm"), &copy).unwrap();
    // A new inode, and too young to enter: hashed on every load until it settles.
    for _ in 0..2 {
        let loaded = load(&fixture.engine, &copy);
        assert!(loaded.hashed, "the copy was not hashed");
        assert_eq!(loaded.answer, Ok(11));
    }
    thread::sleep(SETTLE + Duration::from_millis(200));
    assert!(load(&fixture.engine, &copy).hashed, "entered now");
    assert!(!load(&fixture.engine, &copy).hashed, "found now");
}

#[test]
fn the_switch_turns_the_index_off_and_clear_removes_it() {
    let fixture = Fixture::new();
    fixture.index_a();
    let off = engine(&fixture.path("cache"), false);
    let loaded = load(&off, &fixture.path("a.wasm"));
    assert!(loaded.hashed, "--no-stat-index hashes");
    assert_eq!(loaded.outcome, Some(CacheOutcome::Hit));
    let index = fixture.path("cache").join(digest_index::FILE_NAME);
    assert!(index.exists());
    fixture.engine.cache_store().unwrap().clear().unwrap();
    assert!(!index.exists());
}

#[test]
fn loads_racing_on_one_index_all_answer_right_and_leave_it_usable() {
    let fixture = Fixture::new();
    let names = ["a.wasm", "b.wasm"];
    let barrier = Arc::new(Barrier::new(8));
    let fixture = Arc::new(fixture);
    let answers: Vec<Vec<Result<i32, String>>> = (0..8)
        .map(|t| {
            let (barrier, fixture) = (Arc::clone(&barrier), Arc::clone(&fixture));
            thread::spawn(move || {
                // An engine of its own, as another process would have.
                let engine = engine(&fixture.path("cache"), true);
                barrier.wait();
                (0..20)
                    .map(|i| load(&engine, &fixture.path(names[(t + i) % 2])).answer)
                    .collect()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    for (t, answers) in answers.iter().enumerate() {
        for (i, answer) in answers.iter().enumerate() {
            let expected = if (t + i) % 2 == 0 { 11 } else { 22 };
            assert_eq!(*answer, Ok(expected), "thread {t} load {i}");
        }
    }
    for (name, expected) in [("a.wasm", 11), ("b.wasm", 22)] {
        let loaded = load(&fixture.engine, &fixture.path(name));
        assert_eq!(loaded.answer, Ok(expected));
        if loaded.hashed {
            assert!(!load(&fixture.engine, &fixture.path(name)).hashed, "{name}");
        }
    }
}

#[test]
fn bytes_in_memory_are_always_hashed() {
    let fixture = Fixture::new();
    fixture.index_a();
    let mut clock = PhaseClock::enabled();
    let module =
        Module::from_bytes_with_clock(&fixture.engine, &module_returning(11), &mut clock).unwrap();
    assert_eq!(*module.cache_outcome(), CacheOutcome::Hit);
    assert!(clock.record().ran(Phase::Hash));
    assert!(!clock.record().ran(Phase::KeyLookup));
}
