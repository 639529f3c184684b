//! The build id: one hash of every source that decides what machine code an engine generates
//! and how it is laid out — the runtime's code-generating crates and the lock file, which pins
//! Cranelift and every other dependency. Shared by `build.rs`, which puts the id into the
//! engine fingerprint, and by the test that changes a source and expects another id.

use std::{
    fs,
    hash::{DefaultHasher, Hash, Hasher},
    io,
    path::{Path, PathBuf},
};

/// The runtime crates whose sources the id covers, relative to the `runtime/` directory.
pub const CRATES: &[&str] = &["environ", "compile", "vm", "cache", "phases", "api"];

/// The id of the sources under `workspace` (the directory holding `Cargo.lock` and
/// `runtime/`), and the files it covers, relative to `workspace`, in the order hashed.
///
/// # Errors
/// When a directory or file cannot be read.
pub fn build_id(workspace: &Path) -> io::Result<(u64, Vec<PathBuf>)> {
    let mut files = vec![PathBuf::from("Cargo.lock")];
    for krate in CRATES {
        let root = Path::new("runtime").join(krate);
        files.push(root.join("Cargo.toml"));
        for optional in ["build.rs", "build_id.rs"] {
            if workspace.join(&root).join(optional).is_file() {
                files.push(root.join(optional));
            }
        }
        collect(workspace, &root.join("src"), &mut files)?;
    }
    let mut hasher = DefaultHasher::new();
    for file in &files {
        file.hash(&mut hasher);
        fs::read(workspace.join(file))?.hash(&mut hasher);
    }
    Ok((hasher.finish(), files))
}

/// Every file under `dir` (relative to `workspace`), sorted, into `files`.
fn collect(workspace: &Path, dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(workspace.join(dir))?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<io::Result<_>>()?;
    entries.sort();
    for name in entries {
        let path = dir.join(name);
        if workspace.join(&path).is_dir() {
            collect(workspace, &path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}
