//! The module corpus: `corpora/manifest.toml` names the modules, `corpora/fetched/` holds them.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};

/// The manifest, relative to the project root.
pub const MANIFEST: &str = "corpora/manifest.toml";

/// The embedded default workload, run when `phases` is given no module.
pub const DEFAULT_WORKLOAD: &[u8] = include_bytes!("../../corpora/wasm/workload.wasm");

/// The closest directory at or above the current one that holds `corpora/` (the project root),
/// or the current directory when none does.
pub fn project_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|dir| dir.join("corpora").is_dir())
        .map_or_else(|| cwd.clone(), Path::to_path_buf)
}

/// Names of the `[[module]]` entries of a manifest, in order. The manifest is TOML; this reads
/// only the `name = "..."` key of each `[[module]]` table, which is all the harness needs.
pub fn module_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_module = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_module = line == "[[module]]";
        } else if in_module
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "name"
        {
            names.push(value.trim().trim_matches('"').to_string());
        }
    }
    names
}

/// Paths of every fetched corpus module listed in the manifest under `root`.
///
/// # Errors
/// When the manifest is missing or a listed module has not been fetched.
pub fn fetched_modules(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let manifest = root.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest).with_context(|| {
        format!(
            "cannot read the corpus manifest {}; run wasm-prof from the project",
            manifest.display()
        )
    })?;
    let names = module_names(&text);
    ensure!(
        !names.is_empty(),
        "{} lists no [[module]]",
        manifest.display()
    );
    names
        .into_iter()
        .map(|name| {
            let path = root.join("corpora/fetched").join(format!("{name}.wasm"));
            ensure!(
                path.is_file(),
                "corpus module {} is missing; fetch it with scripts/fetch-corpus.sh",
                path.display()
            );
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_module_names_only_from_module_tables() {
        let manifest = r#"
# comment
[meta]
name = "not a module"

[[module]]
name = "zstd"
bytes = 251806

[[module]]
registry = "npm"
name = "sqlite"
"#;
        assert_eq!(module_names(manifest), ["zstd", "sqlite"]);
    }
}
