//! Named workloads: a program run, not just a module — module, arguments, granted
//! directories, environment, stdin, expected exit code and stdout digest — listed in
//! `corpora/workloads.toml` and run by `phases --workload NAME` and `phases --corpus`.

use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
};

use anyhow::{Context, ensure};
use serde::Deserialize;

use crate::{
    corpus::{Manifest, parse_toml},
    guest::{ExpectExit, Guest, parse_dir, parse_listen},
};

/// The workloads file, relative to the project root.
pub const WORKLOADS: &str = "corpora/workloads.toml";

/// The `module` value that names the workload embedded in the binary.
pub const EMBEDDED: &str = "embedded";

/// How a workload's module is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    /// A WASI command: `_start` runs to its exit.
    Command,
    /// A WASI reactor: `_initialize`, then the export named by `invoke`.
    Reactor,
    /// Exports driven by a host: compiled and instantiated only.
    Library,
    /// A WASI server: listens on preopened sockets (`tcplisten`) and is sent `requests`.
    Server,
}

impl WorkloadKind {
    /// The kind's name in the file.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Command => "command",
            WorkloadKind::Reactor => "reactor",
            WorkloadKind::Library => "library",
            WorkloadKind::Server => "server",
        }
    }
}

/// One `[[workload]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// The name `--workload` takes, and the name reports give the runs.
    pub name: String,
    /// What the workload does, in a sentence.
    #[serde(default)]
    pub description: Option<String>,
    /// A corpus name from `corpora/manifest.toml`, a path relative to the project root, or
    /// `embedded` for the workload built into the binary.
    pub module: String,
    /// How the module is used.
    pub kind: WorkloadKind,
    /// Arguments after `argv[0]` (which is the module's file name).
    #[serde(default)]
    pub args: Vec<String>,
    /// Granted directories, `HOST::GUEST`, the host side relative to the project root.
    #[serde(default)]
    pub dirs: Vec<String>,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A file (relative to the project root) fed to the guest's stdin.
    #[serde(default)]
    pub stdin: Option<String>,
    /// The exit code every sample must end with: a number (default 0) or `"any"`.
    #[serde(default)]
    pub expect_exit: ExpectExit,
    /// The SHA-256 every sample's stdout must have, lower-case hex.
    #[serde(default)]
    pub stdout_sha256: Option<String>,
    /// A reactor's export to call after `_initialize`.
    #[serde(default)]
    pub invoke: Option<String>,
    /// A server's listening sockets, `HOST:PORT`, preopened for it.
    #[serde(default)]
    pub tcplisten: Vec<String>,
    /// URL paths a server is sent once it listens.
    #[serde(default)]
    pub requests: Vec<String>,
}

/// Where a workload's module comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleSource {
    /// The workload built into the binary ([`crate::corpus::DEFAULT_WORKLOAD`]).
    Embedded,
    /// A file.
    File(PathBuf),
}

/// `corpora/workloads.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workloads {
    /// The `[[workload]]` entries, in order.
    #[serde(rename = "workload", default)]
    pub workloads: Vec<Workload>,
}

impl Workloads {
    /// Parses and checks a workloads file's text; `origin` names it in errors.
    ///
    /// # Errors
    /// One line naming the file (and the workload) when it is not valid.
    pub fn parse(text: &str, origin: &Path) -> anyhow::Result<Workloads> {
        let workloads: Workloads = parse_toml(text, origin)?;
        ensure!(
            !workloads.workloads.is_empty(),
            "{} lists no [[workload]]",
            origin.display()
        );
        let mut names = HashSet::new();
        for workload in &workloads.workloads {
            workload
                .validate()
                .with_context(|| format!("{}: workload `{}`", origin.display(), workload.name))?;
            ensure!(
                names.insert(workload.name.as_str()),
                "{}: the workload name `{}` is used twice",
                origin.display(),
                workload.name
            );
        }
        Ok(workloads)
    }

    /// Reads the workloads file under the project root `root`.
    ///
    /// # Errors
    /// When it cannot be read or is not valid.
    pub fn load(root: &Path) -> anyhow::Result<Workloads> {
        let path = root.join(WORKLOADS);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read the workloads file {}; run wasm-prof from the project",
                path.display()
            )
        })?;
        Workloads::parse(&text, &path)
    }

    /// The workload called `name`.
    ///
    /// # Errors
    /// When there is none, listing the names there are.
    pub fn get(&self, name: &str) -> anyhow::Result<&Workload> {
        self.workloads
            .iter()
            .find(|w| w.name == name)
            .with_context(|| {
                let known: Vec<&str> = self.workloads.iter().map(|w| w.name.as_str()).collect();
                format!(
                    "there is no workload `{name}` in {WORKLOADS} (there are: {})",
                    known.join(", ")
                )
            })
    }
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Workload {
    /// Checks what serde cannot: names, digests, and which fields each kind allows.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            !self.name.is_empty()
                && self
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')),
            "the name must be letters, digits, `-`, `_` or `.`"
        );
        ensure!(!self.module.is_empty(), "`module` is empty");
        if let Some(digest) = &self.stdout_sha256 {
            ensure!(
                is_sha256_hex(digest),
                "`stdout_sha256` must be 64 lower-case hex digits, not `{digest}`"
            );
        }
        for key in self.env.keys() {
            ensure!(
                !key.is_empty() && !key.contains('='),
                "the environment variable name `{key}` is not valid"
            );
        }
        for dir in &self.dirs {
            parse_dir(dir, Path::new("")).with_context(|| format!("dirs: `{dir}`"))?;
        }
        let kind = self.kind.name();
        let runs_nothing = |field: &str, set: bool| -> anyhow::Result<()> {
            ensure!(
                !set,
                "`{field}` means nothing for kind = \"{kind}\" (a library is compiled and \
                 instantiated only)"
            );
            Ok(())
        };
        let not_a_server = |field: &str, set: bool| -> anyhow::Result<()> {
            ensure!(!set, "`{field}` is for kind = \"server\" only");
            Ok(())
        };
        match self.kind {
            WorkloadKind::Command => {
                ensure!(
                    self.invoke.is_none(),
                    "`invoke` is for kind = \"reactor\"; a command runs `_start`"
                );
            }
            WorkloadKind::Reactor => {
                ensure!(
                    self.invoke.as_deref().is_some_and(|i| !i.is_empty()),
                    "kind = \"reactor\" needs `invoke`, the export to call after `_initialize`"
                );
            }
            WorkloadKind::Library => {
                runs_nothing("args", !self.args.is_empty())?;
                runs_nothing("dirs", !self.dirs.is_empty())?;
                runs_nothing("env", !self.env.is_empty())?;
                runs_nothing("stdin", self.stdin.is_some())?;
                runs_nothing("invoke", self.invoke.is_some())?;
                runs_nothing("stdout_sha256", self.stdout_sha256.is_some())?;
                runs_nothing("expect_exit", self.expect_exit != ExpectExit::default())?;
            }
            WorkloadKind::Server => {
                ensure!(
                    !self.tcplisten.is_empty(),
                    "kind = \"server\" needs `tcplisten`, its listening sockets (HOST:PORT)"
                );
                for listen in &self.tcplisten {
                    parse_listen(listen).with_context(|| format!("tcplisten: `{listen}`"))?;
                }
                for request in &self.requests {
                    ensure!(
                        request.starts_with('/'),
                        "requests: `{request}` is not a URL path (it must start with /)"
                    );
                }
                ensure!(self.invoke.is_none(), "`invoke` is for kind = \"reactor\"");
            }
        }
        if self.kind != WorkloadKind::Server {
            not_a_server("tcplisten", !self.tcplisten.is_empty())?;
            not_a_server("requests", !self.requests.is_empty())?;
        }
        Ok(())
    }

    /// Where the module comes from: `embedded`, a corpus name (which must have been
    /// fetched), or a file under the project root `root`.
    ///
    /// # Errors
    /// When the corpus module is not fetched or the file does not exist.
    pub fn module_source(&self, root: &Path, manifest: &Manifest) -> anyhow::Result<ModuleSource> {
        if self.module == EMBEDDED {
            return Ok(ModuleSource::Embedded);
        }
        if let Some(entry) = manifest.get(&self.module) {
            return entry
                .fetched_path(root)
                .with_context(|| format!("workload {}", self.name))
                .map(ModuleSource::File);
        }
        let path = root.join(&self.module);
        ensure!(
            path.is_file(),
            "workload {}: its module `{}` is neither `{EMBEDDED}`, a corpus name from \
             corpora/manifest.toml, nor a file ({} does not exist)",
            self.name,
            self.module,
            path.display()
        );
        Ok(ModuleSource::File(path))
    }

    /// The guest this workload runs, host paths resolved under the project root `root` and
    /// checked to exist.
    ///
    /// # Errors
    /// When a granted directory or the stdin file is missing.
    pub fn guest(&self, root: &Path) -> anyhow::Result<Guest> {
        let dirs = self
            .dirs
            .iter()
            .map(|dir| parse_dir(dir, root))
            .collect::<anyhow::Result<_>>()?;
        let guest = Guest {
            args: self.args.clone(),
            env: self
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            dirs,
            stdin: self.stdin.as_ref().map(|s| root.join(s)),
            invoke: self.invoke.clone(),
            tcplisten: self
                .tcplisten
                .iter()
                .map(|addr| parse_listen(addr))
                .collect::<anyhow::Result<_>>()
                .with_context(|| format!("workload {}: tcplisten", self.name))?,
            requests: self.requests.clone(),
        };
        guest
            .check()
            .with_context(|| format!("workload {}", self.name))?;
        Ok(guest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Workloads> {
        Workloads::parse(text, Path::new("w.toml"))
    }

    fn error(text: &str) -> String {
        let e = format!("{:#}", parse(text).unwrap_err());
        assert!(!e.contains('\n'), "one line: {e}");
        e
    }

    #[test]
    fn every_kind_parses_with_its_fields() {
        let w = parse(
            r#"
[[workload]]
name = "solve"
module = "boolector"
kind = "command"
args = ["-d", "/in/p.smt2"]
dirs = ["corpora/src/boolector::/in"]
env = { LANG = "C" }
expect_exit = 10
stdout_sha256 = "95414309fa5540c5a0ccfdae553167a692e5f0f918690e3903335c7f0691b6c2"

[[workload]]
name = "any"
module = "embedded"
kind = "command"
expect_exit = "any"
stdin = "input.txt"

[[workload]]
name = "version"
module = "ruby"
kind = "reactor"
invoke = "show-version"

[[workload]]
name = "lib"
module = "zstd"
kind = "library"

[[workload]]
name = "web"
module = "nginx.wasm"
kind = "server"
tcplisten = ["127.0.0.1:8080"]
requests = ["/", "/index.html"]
"#,
        )
        .unwrap();
        assert_eq!(w.workloads.len(), 5);
        let solve = w.get("solve").unwrap();
        assert_eq!(solve.expect_exit, ExpectExit::Code(10));
        assert_eq!(solve.env["LANG"], "C");
        assert_eq!(w.get("any").unwrap().expect_exit, ExpectExit::Any);
        assert_eq!(w.get("lib").unwrap().expect_exit, ExpectExit::Code(0));
        assert_eq!(w.get("web").unwrap().kind, WorkloadKind::Server);
        let web = w.get("web").unwrap().guest(Path::new(".")).unwrap();
        assert!(web.is_server());
        assert_eq!(
            web.tcplisten,
            ["127.0.0.1:8080".parse::<std::net::SocketAddr>().unwrap()]
        );
        assert_eq!(web.requests, ["/", "/index.html"]);
        let e = w.get("nope").unwrap_err().to_string();
        assert!(
            e.contains("no workload `nope`") && e.contains("solve, any"),
            "{e}"
        );
    }

    #[test]
    fn mistakes_are_one_line_naming_the_file_and_workload() {
        let head = "[[workload]]\nname = \"x\"\nmodule = \"embedded\"\n";
        assert!(
            error(&format!("{head}kind = \"command\"\ncolour = 1\n"))
                .contains("unknown field `colour`")
        );
        assert!(error(&format!("{head}kind = \"daemon\"\n")).contains("unknown variant `daemon`"));
        assert!(
            error(&format!(
                "{head}kind = \"command\"\nexpect_exit = \"all\"\n"
            ))
            .contains("\"any\"")
        );
        assert!(
            error(&format!("{head}kind = \"command\"\nexpect_exit = true\n"))
                .starts_with("w.toml:")
        );
        assert!(error(&format!("{head}kind = \"reactor\"\n")).contains("needs `invoke`"));
        assert!(
            error(&format!("{head}kind = \"command\"\ninvoke = \"f\"\n"))
                .contains("`invoke` is for")
        );
        assert!(
            error(&format!("{head}kind = \"library\"\nargs = [\"a\"]\n"))
                .contains("`args` means nothing")
        );
        assert!(error(&format!("{head}kind = \"server\"\n")).contains("needs `tcplisten`"));
        assert!(
            error(&format!(
                "{head}kind = \"server\"\ntcplisten = [\"8080\"]\n"
            ))
            .contains("expected HOST:PORT")
        );
        assert!(
            error(&format!("{head}kind = \"command\"\nrequests = [\"/\"]\n"))
                .contains("server\" only")
        );
        assert!(
            error(&format!(
                "{head}kind = \"command\"\nstdout_sha256 = \"AB\"\n"
            ))
            .contains("64 lower-case")
        );
        assert!(
            error(&format!("{head}kind = \"command\"\ndirs = [\"::/x\"]\n"))
                .contains("dirs: `::/x`")
        );
        let twice = format!("{head}kind = \"command\"\n{head}kind = \"command\"\n");
        assert!(error(&twice).contains("used twice"));
        assert!(error("[[workload]\n").starts_with("w.toml:1:"));
        assert!(error("").contains("lists no [[workload]]"));
        let e = error(&format!("{head}kind = \"reactor\"\n"));
        assert!(e.starts_with("w.toml: workload `x`: "), "{e}");
    }

    #[test]
    fn modules_resolve_to_the_embedded_workload_corpus_files_or_paths() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let manifest = Manifest::load(&root).unwrap();
        let w = |module: &str| Workload {
            name: "w".into(),
            description: None,
            module: module.into(),
            kind: WorkloadKind::Command,
            args: vec![],
            dirs: vec![],
            env: BTreeMap::new(),
            stdin: None,
            expect_exit: ExpectExit::default(),
            stdout_sha256: None,
            invoke: None,
            tcplisten: vec![],
            requests: vec![],
        };
        assert_eq!(
            w(EMBEDDED).module_source(&root, &manifest).unwrap(),
            ModuleSource::Embedded
        );
        assert_eq!(
            w("corpora/wasm/workload.wasm")
                .module_source(&root, &manifest)
                .unwrap(),
            ModuleSource::File(root.join("corpora/wasm/workload.wasm"))
        );
        let e = w("nothing.wasm")
            .module_source(&root, &manifest)
            .unwrap_err();
        assert!(e.to_string().contains("neither `embedded`"), "{e}");
        let mut with_dir = w(EMBEDDED);
        with_dir.dirs = vec!["corpora/src::/src".into()];
        with_dir.stdin = Some("corpora/manifest.toml".into());
        let guest = with_dir.guest(&root).unwrap();
        assert_eq!(guest.dirs[0].host, root.join("corpora/src"));
        with_dir.dirs = vec!["corpora/none::/src".into()];
        assert!(with_dir.guest(&root).is_err());
    }

    #[test]
    fn the_projects_workloads_file_is_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let workloads = Workloads::load(&root).unwrap();
        assert!(workloads.get("boolector").is_ok());
        assert!(workloads.get("workload").is_ok());
    }
}
