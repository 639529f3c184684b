//! Building another revision of the project to measure next to the current build: a temporary
//! `git worktree` of the revision, built in a target directory of its own that later baseline
//! builds reuse (`target/gate-baseline/target`), its binary kept under `target/gate-baseline/`
//! for the next run.
//!
//! Not the project's own target directory: cargo names a workspace crate's build by its path
//! relative to the workspace root, the same in the worktree as here, so a baseline build there
//! replaced the current crates' artifacts with the revision's and the next `cargo build` of the
//! project took them as up to date — it failed to compile against them, or linked old code.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail, ensure};

/// Where built baselines are kept, relative to the project root.
pub const STORE: &str = "target/gate-baseline";

/// The target directory baseline builds share, inside [`STORE`].
const TARGET: &str = "target";

/// A built revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaselineBuild {
    /// The full commit hash.
    pub commit: String,
    /// Its `wasm-prof` binary.
    pub bin: PathBuf,
}

impl BaselineBuild {
    /// How reports name this build as a baseline measured in this run.
    pub fn measured_now(&self) -> String {
        format!("a build of {} measured now", &self.commit[..12])
    }
}

/// Runs git in `root` and returns its trimmed stdout.
fn git(root: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("cannot run git: is it installed?")?;
    ensure!(
        out.status.success(),
        "`git {}` failed in {}: {}",
        args.join(" "),
        root.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The commit `rev` names.
///
/// # Errors
/// When `root` is not a git checkout or `rev` names no commit there.
pub fn resolve(root: &Path, rev: &str) -> anyhow::Result<String> {
    git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .with_context(|| format!("`{rev}` is not a commit of {}", root.display()))
}

/// The last commit that changed `file` (the revision a committed baseline was measured at).
///
/// # Errors
/// When git fails or no commit changed the file (an uncommitted or shallow-cloned baseline).
pub fn last_change(root: &Path, file: &str) -> anyhow::Result<String> {
    let commit = git(root, &["log", "-1", "--format=%H", "--", file])?;
    ensure!(
        !commit.is_empty(),
        "no commit changed {file} (is it committed, and the clone deep enough?): give the \
         revision to compare with as --against REV"
    );
    Ok(commit)
}

/// A worktree that removes itself.
struct Worktree<'a> {
    root: &'a Path,
    path: PathBuf,
}

impl Drop for Worktree<'_> {
    fn drop(&mut self) {
        let path = self.path.display().to_string();
        if let Err(e) = git(self.root, &["worktree", "remove", "--force", &path]) {
            eprintln!("warning: cannot remove the worktree {path}: {e:#}");
        }
    }
}

/// Builds the `wasm-prof` binary of `commit`, or finds the one an earlier run built.
///
/// # Errors
/// When the worktree cannot be made or the build fails.
pub fn build(root: &Path, commit: &str) -> anyhow::Result<BaselineBuild> {
    let store = root.join(STORE);
    let bin = store.join(format!("wasm-prof-{}", &commit[..commit.len().min(12)]));
    if bin.is_file() {
        eprintln!("gate: using {} (built earlier)", bin.display());
        return Ok(BaselineBuild {
            commit: commit.to_string(),
            bin,
        });
    }
    std::fs::create_dir_all(&store)
        .with_context(|| format!("cannot create {}", store.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("wasm-prof-gate-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let worktree = Worktree {
        root,
        path: scratch.path().join("src"),
    };
    git(
        root,
        &[
            "worktree",
            "add",
            "--detach",
            &worktree.path.display().to_string(),
            commit,
        ],
    )?;
    let target = store.join(TARGET);
    eprintln!(
        "gate: building {commit} in {} (into {}; the first build there compiles the \
         dependencies too)",
        worktree.path.display(),
        target.display()
    );
    let status = Command::new("cargo")
        .args([
            "build",
            "--release",
            "-p",
            "wasm-prof",
            "--bin",
            "wasm-prof",
        ])
        .current_dir(&worktree.path)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .context("cannot run cargo")?;
    let moved = status.success() && std::fs::rename(target.join("release/wasm-prof"), &bin).is_ok();
    if !status.success() {
        bail!("the build of {commit} failed ({status}); its output is above");
    }
    ensure!(
        moved,
        "cannot move the build of {commit} to {}",
        bin.display()
    );
    Ok(BaselineBuild {
        commit: commit.to_string(),
        bin,
    })
}
