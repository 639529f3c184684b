//! The module corpus: `corpora/manifest.toml` names the modules, `corpora/fetched/` holds them.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use serde::Deserialize;

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

/// `corpora/manifest.toml`: the third-party modules, fetched by `scripts/fetch-corpus.sh`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The `[[module]]` entries, in order.
    #[serde(rename = "module")]
    pub modules: Vec<CorpusModule>,
}

/// One `[[module]]` of the manifest.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusModule {
    /// Short name; the file is `corpora/fetched/NAME.wasm`.
    pub name: String,
    /// `npm` or `pypi`.
    pub registry: String,
    /// The package in that registry.
    pub package: String,
    /// Its exact version.
    pub version: String,
    /// Where the module lies inside the package.
    pub path: String,
    /// Exact size in bytes.
    pub bytes: u64,
    /// Full lower-case hex SHA-256.
    pub sha256: String,
    /// A directory of the package the program needs at run time, fetched to
    /// `corpora/fetched/NAME-DIRNAME` (PyPI only).
    pub resources: Option<String>,
    /// SHA-256 over that directory's files (see the manifest's header).
    pub resources_sha256: Option<String>,
    /// What the module imports, in words.
    pub imports: String,
    /// How a host uses it: `command`, `reactor` or `library`.
    pub kind: String,
}

impl Manifest {
    /// Parses a manifest's text; `origin` names it in errors.
    ///
    /// # Errors
    /// One line with the file, line and column when the text is not a valid manifest.
    pub fn parse(text: &str, origin: &Path) -> anyhow::Result<Manifest> {
        let manifest: Manifest = parse_toml(text, origin)?;
        ensure!(
            !manifest.modules.is_empty(),
            "{} lists no [[module]]",
            origin.display()
        );
        Ok(manifest)
    }

    /// Reads the manifest under the project root `root`.
    ///
    /// # Errors
    /// When it cannot be read or parsed.
    pub fn load(root: &Path) -> anyhow::Result<Manifest> {
        let path = root.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read the corpus manifest {}; run wasm-prof from the project",
                path.display()
            )
        })?;
        Manifest::parse(&text, &path)
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&CorpusModule> {
        self.modules.iter().find(|m| m.name == name)
    }
}

impl CorpusModule {
    /// Where the fetched module lies under the project root `root`.
    ///
    /// # Errors
    /// When it has not been fetched.
    pub fn fetched_path(&self, root: &Path) -> anyhow::Result<PathBuf> {
        let path = root
            .join("corpora/fetched")
            .join(format!("{}.wasm", self.name));
        ensure!(
            path.is_file(),
            "corpus module {} is missing; fetch it with scripts/fetch-corpus.sh",
            path.display()
        );
        Ok(path)
    }
}

/// Parses a TOML file into `T`; an error is one line: `FILE:LINE:COLUMN: what is wrong`.
///
/// # Errors
/// When the text is not valid TOML or does not match `T`.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &Path) -> anyhow::Result<T> {
    toml::from_str(text).map_err(|e| {
        let place = e.span().map_or_else(String::new, |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!(":{line}:{column}")
        });
        let message = e.message().trim().replace('\n', " ");
        anyhow::anyhow!("{}{place}: {message}", origin.display())
    })
}

/// Paths of every fetched corpus module listed in the manifest under `root`.
///
/// # Errors
/// When the manifest is missing or bad, or a listed module has not been fetched.
pub fn fetched_modules(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Manifest::load(root)?
        .modules
        .iter()
        .map(|m| m.fetched_path(root))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = r#"
registry = "npm"
package = "p"
version = "1"
path = "a.wasm"
bytes = 1
sha256 = "00"
imports = "wasi"
kind = "command"
"#;

    #[test]
    fn reads_the_modules_and_refuses_unknown_keys_in_one_line() {
        let text = format!(
            "# comment\n[[module]]\nname = \"zstd\"{ENTRY}\n[[module]]\nname = \"sqlite\"{ENTRY}"
        );
        let manifest = Manifest::parse(&text, Path::new("m.toml")).unwrap();
        let names: Vec<&str> = manifest.modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["zstd", "sqlite"]);
        assert_eq!(manifest.get("sqlite").unwrap().kind, "command");

        let bad = format!("[[module]]\nname = \"x\"\ncolour = \"red\"{ENTRY}");
        let error = Manifest::parse(&bad, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("m.toml:3:1: unknown field `colour`"),
            "{error}"
        );
        assert!(!error.contains('\n'), "{error}");
        let error = Manifest::parse("[[module]\n", Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("m.toml:1:"), "{error}");
        assert!(Manifest::parse("", Path::new("m.toml")).is_err());
    }

    #[test]
    fn the_projects_manifest_parses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let manifest = Manifest::load(&root).unwrap();
        assert_eq!(manifest.modules.len(), 10);
        assert!(manifest.get("boolector").is_some());
    }
}
