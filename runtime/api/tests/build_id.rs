//! The build id covers the code that decides what an artifact's machine code assumes: a change
//! to a vmctx offset, to the libcall table or to the lock file (another Cranelift) gives
//! another id, and with it another fingerprint — a clean miss, never stale machine code run
//! against a new runtime. Checked on a copy of this workspace's own sources.

#[path = "../build_id.rs"]
mod build_id;

use std::{
    fs,
    path::{Path, PathBuf},
};

use wasm_prof_runtime::{Config, Engine};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of the files the build id reads, in a fresh directory.
fn copy_of_sources() -> tempfile::TempDir {
    let (_, files) = build_id::build_id(&workspace()).unwrap();
    let copy = tempfile::tempdir().unwrap();
    for file in files {
        let to = copy.path().join(&file);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(workspace().join(&file), to).unwrap();
    }
    copy
}

/// Changes the first occurrence of `from` in `file` (relative to `root`) to `to`.
fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_id_covers_the_vmctx_layout_the_libcalls_and_the_lock_file() {
    let (id, files) = build_id::build_id(&workspace()).unwrap();
    for needed in [
        "Cargo.lock",
        "runtime/environ/src/vmoffsets.rs",
        "runtime/environ/src/libcall.rs",
        "runtime/compile/src/trampolines.rs",
        "runtime/vm/src/catch.c",
    ] {
        assert!(
            files.iter().any(|f| f == Path::new(needed)),
            "{needed} is not covered"
        );
    }
    let copy = copy_of_sources();
    assert_eq!(
        build_id::build_id(copy.path()).unwrap().0,
        id,
        "a copy has the same id"
    );
    let mut ids = vec![id];
    for (file, from, to) in [
        ("runtime/environ/src/vmoffsets.rs", "pub", "pub "),
        ("runtime/environ/src/libcall.rs", "pub", "pub "),
        ("Cargo.lock", "version", "version "),
    ] {
        edit(copy.path(), file, from, to);
        let changed = build_id::build_id(copy.path()).unwrap().0;
        assert!(
            !ids.contains(&changed),
            "a change to {file} kept an earlier id"
        );
        ids.push(changed);
    }
}

#[test]
fn the_fingerprint_carries_this_builds_id() {
    let engine = Engine::new(Config::new()).unwrap();
    let (id, _) = build_id::build_id(&workspace()).unwrap();
    assert!(
        engine
            .fingerprint()
            .ends_with(&format!("; build {id:#018x}")),
        "{} (sources changed since this test was built?)",
        engine.fingerprint()
    );
}
