//! What a guest program sees of the world — its arguments, environment, granted directories,
//! standard input and entry point — as the command line gives it ([`GuestArgs`], shared by
//! `run`, `phases` and the hidden `sample` that takes each of `phases`' samples) and as a
//! workload names it; and which exit code a run accepts ([`ExpectExit`]).

use std::{
    ffi::OsString,
    fmt,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use anyhow::{Context, bail, ensure};
use clap::Args;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use wasm_prof_wasi::{InputStream, OutputStream, WasiConfig};

/// The guest options on the command line.
#[derive(Debug, Clone, Default, Args)]
pub struct GuestArgs {
    /// Grant the guest a host directory, seen as GUEST (default: the host path as given).
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// Set an environment variable for the guest.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Feed this file to the guest's standard input.
    #[arg(long, value_name = "FILE")]
    pub stdin: Option<PathBuf>,
    /// Call this export (after `_initialize` when the module exports it) instead of `_start`.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,
    /// Give the guest a TCP socket listening on HOST:PORT (repeatable; port 0 picks a free
    /// port). It gets the descriptors after the granted directories. A guest given one is a
    /// server: `phases` sends it `--request`s and times `ready` and `first_response`.
    #[arg(long, value_name = "HOST:PORT")]
    pub tcplisten: Vec<String>,
    /// For a server (`phases` with --tcplisten): a URL path the harness GETs once the guest
    /// listens, in order on one connection (repeatable; default /).
    #[arg(long = "request", value_name = "PATH")]
    pub requests: Vec<String>,
    /// Arguments for the guest (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// A host directory granted to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirGrant {
    /// The directory on the host.
    pub host: PathBuf,
    /// The name the guest opens it by.
    pub guest: String,
}

/// A guest's world, parsed: what a sample or a run hands to WASI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Guest {
    /// Arguments after `argv[0]` (which is the module's file name).
    pub args: Vec<String>,
    /// Environment variables, in order.
    pub env: Vec<(String, String)>,
    /// Granted directories, in order (they get descriptors 3, 4, ...).
    pub dirs: Vec<DirGrant>,
    /// A file whose bytes are the guest's standard input.
    pub stdin: Option<PathBuf>,
    /// The export to call instead of `_start`.
    pub invoke: Option<String>,
    /// Addresses to listen on for the guest (port 0: any free port), in order after the
    /// directories.
    pub tcplisten: Vec<SocketAddr>,
    /// For a server, the URL paths the harness requests (empty: `/`).
    pub requests: Vec<String>,
}

impl GuestArgs {
    /// The options, parsed.
    ///
    /// # Errors
    /// When an `--env` has no `=` or a `--dir` has an empty side.
    pub fn guest(&self) -> anyhow::Result<Guest> {
        let env = self
            .env
            .iter()
            .map(|pair| parse_env(pair).with_context(|| format!("--env {pair}")))
            .collect::<anyhow::Result<_>>()?;
        let dirs = self
            .dirs
            .iter()
            .map(|dir| parse_dir(dir, Path::new("")).with_context(|| format!("--dir {dir}")))
            .collect::<anyhow::Result<_>>()?;
        let tcplisten = self
            .tcplisten
            .iter()
            .map(|addr| parse_listen(addr).with_context(|| format!("--tcplisten {addr}")))
            .collect::<anyhow::Result<_>>()?;
        for request in &self.requests {
            ensure!(
                request.starts_with('/'),
                "--request {request}: expected a URL path starting with /"
            );
        }
        Ok(Guest {
            args: self.args.clone(),
            env,
            dirs,
            stdin: self.stdin.clone(),
            invoke: self.invoke.clone(),
            tcplisten,
            requests: self.requests.clone(),
        })
    }
}

/// Parses a positive, finite number of seconds (a clap value parser).
///
/// # Errors
/// When it is not one.
pub fn parse_seconds(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && Duration::try_from_secs_f64(*s).is_ok())
        .ok_or_else(|| format!("`{text}` is not a positive, finite number of seconds"))
}

/// Parses `HOST:PORT` with a numeric host (`127.0.0.1:8080`, `[::1]:0`).
///
/// # Errors
/// When it is not a numeric socket address.
pub fn parse_listen(addr: &str) -> anyhow::Result<SocketAddr> {
    addr.parse()
        .map_err(|_| anyhow::anyhow!("expected HOST:PORT with a numeric host, like 127.0.0.1:8080"))
}

/// Splits `KEY=VALUE`.
///
/// # Errors
/// When there is no `=` or the key is empty.
pub fn parse_env(pair: &str) -> anyhow::Result<(String, String)> {
    match pair.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => bail!("expected KEY=VALUE"),
    }
}

/// Splits `HOST[::GUEST]`; a relative host path is taken relative to `base`.
///
/// # Errors
/// When either side is empty.
pub fn parse_dir(spec: &str, base: &Path) -> anyhow::Result<DirGrant> {
    let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
    ensure!(
        !host.is_empty() && !guest.is_empty(),
        "expected HOST[::GUEST] with neither side empty"
    );
    Ok(DirGrant {
        host: base.join(host),
        guest: guest.to_string(),
    })
}

impl Guest {
    /// Whether nothing was asked for: no arguments, environment, directories, stdin or entry.
    pub fn is_empty(&self) -> bool {
        *self == Guest::default()
    }

    /// Checks, before any sample runs, that every granted directory is a directory and the
    /// stdin file can be read, so that a typo fails in one line rather than in a child.
    ///
    /// # Errors
    /// Naming the first missing directory or file.
    pub fn check(&self) -> anyhow::Result<()> {
        for dir in &self.dirs {
            ensure!(
                dir.host.is_dir(),
                "the directory {} granted to the guest as {} does not exist",
                dir.host.display(),
                dir.guest
            );
        }
        if let Some(stdin) = &self.stdin {
            std::fs::File::open(stdin)
                .with_context(|| format!("cannot read {}, the guest's stdin", stdin.display()))?;
        }
        Ok(())
    }

    /// The options that hand this guest to `wasm-prof sample` (or `run`): the inverse of
    /// [`GuestArgs::guest`].
    pub fn to_args(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = Vec::new();
        for dir in &self.dirs {
            let mut spec = dir.host.clone().into_os_string();
            spec.push("::");
            spec.push(&dir.guest);
            out.extend(["--dir".into(), spec]);
        }
        for (key, value) in &self.env {
            out.extend(["--env".into(), format!("{key}={value}").into()]);
        }
        if let Some(stdin) = &self.stdin {
            out.extend(["--stdin".into(), stdin.into()]);
        }
        if let Some(invoke) = &self.invoke {
            out.extend(["--invoke".into(), invoke.into()]);
        }
        for addr in &self.tcplisten {
            out.extend(["--tcplisten".into(), addr.to_string().into()]);
        }
        for request in &self.requests {
            out.extend(["--request".into(), request.into()]);
        }
        if !self.args.is_empty() {
            out.push("--".into());
            out.extend(self.args.iter().map(OsString::from));
        }
        out
    }

    /// Whether the guest is a server: it is given listening sockets.
    pub fn is_server(&self) -> bool {
        !self.tcplisten.is_empty()
    }

    /// The URL paths a server is sent: its `requests`, or `/` when none were given.
    pub fn probe_paths(&self) -> Vec<String> {
        if self.requests.is_empty() {
            vec!["/".to_string()]
        } else {
            self.requests.clone()
        }
    }

    /// Binds a listening socket for each `tcplisten` address, in order.
    ///
    /// # Errors
    /// Naming the address that cannot be listened on (in use, not local, ...).
    pub fn listen(&self) -> anyhow::Result<Vec<TcpListener>> {
        self.tcplisten
            .iter()
            .map(|addr| TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}")))
            .collect()
    }

    /// The WASI configuration of this guest: `argv[0]` is `program`, stdin the `--stdin` file
    /// or else `stdin`, the output streams as given, and `listeners` (from [`Guest::listen`])
    /// preopened after the directories.
    ///
    /// # Errors
    /// When the stdin file cannot be read.
    pub fn wasi_config(
        &self,
        program: &str,
        stdin: InputStream,
        stdout: OutputStream,
        stderr: OutputStream,
        listeners: Vec<TcpListener>,
    ) -> anyhow::Result<WasiConfig> {
        let mut config = WasiConfig::new();
        config.arg(program).args(self.args.iter().cloned());
        for (key, value) in &self.env {
            config.env(key, value);
        }
        for dir in &self.dirs {
            config.preopen_dir(&dir.host, &dir.guest);
        }
        for listener in listeners {
            config.preopen_listener(listener);
        }
        let stdin =
            match &self.stdin {
                Some(path) => InputStream::Bytes(std::fs::read(path).with_context(|| {
                    format!("cannot read {}, the guest's stdin", path.display())
                })?),
                None => stdin,
            };
        config.stdin(stdin).stdout(stdout).stderr(stderr);
        Ok(config)
    }
}

/// `argv[0]` for a module: its file name, so that a program's output does not depend on
/// where the module lies.
pub fn program_name(module: &Path) -> String {
    module.file_name().map_or_else(
        || "module".to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The exit code a run accepts: a number, or `any` (hyperfine's `--ignore-failure`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectExit {
    /// Exactly this code.
    Code(i32),
    /// Every code.
    Any,
}

impl Default for ExpectExit {
    fn default() -> Self {
        ExpectExit::Code(0)
    }
}

impl ExpectExit {
    /// Whether `code` is accepted.
    pub fn accepts(self, code: i32) -> bool {
        match self {
            ExpectExit::Code(expected) => code == expected,
            ExpectExit::Any => true,
        }
    }
}

impl fmt::Display for ExpectExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectExit::Code(code) => write!(f, "{code}"),
            ExpectExit::Any => f.write_str("any"),
        }
    }
}

impl FromStr for ExpectExit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("any") {
            return Ok(ExpectExit::Any);
        }
        text.parse()
            .map(ExpectExit::Code)
            .map_err(|_| format!("`{text}` is neither an exit code nor `any`"))
    }
}

impl Serialize for ExpectExit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ExpectExit::Code(code) => serializer.serialize_i32(*code),
            ExpectExit::Any => serializer.serialize_str("any"),
        }
    }
}

impl<'de> Deserialize<'de> for ExpectExit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Code(i64),
            Text(String),
        }
        match Repr::deserialize(deserializer)? {
            Repr::Code(code) => i32::try_from(code)
                .map(ExpectExit::Code)
                .map_err(|_| serde::de::Error::custom(format!("exit code {code} is out of range"))),
            Repr::Text(text) if text == "any" => Ok(ExpectExit::Any),
            Repr::Text(text) => Err(serde::de::Error::custom(format!(
                "expected an exit code or \"any\", found \"{text}\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_through_the_child_command_line() {
        let args = GuestArgs {
            dirs: vec!["data::/in".into(), "/tmp".into()],
            env: vec!["A=1".into(), "B=x=y".into()],
            stdin: Some("input.txt".into()),
            invoke: Some("run".into()),
            tcplisten: vec!["127.0.0.1:0".into(), "[::1]:8080".into()],
            requests: vec!["/".into(), "/a b".into()],
            args: vec!["-v".into(), "two words".into()],
        };
        let guest = args.guest().unwrap();
        assert_eq!(guest.env[1], ("B".into(), "x=y".into()));
        assert_eq!(
            guest.dirs[1],
            DirGrant {
                host: "/tmp".into(),
                guest: "/tmp".into()
            }
        );
        #[derive(clap::Parser)]
        struct Child {
            #[command(flatten)]
            guest: GuestArgs,
        }
        let argv = std::iter::once(OsString::from("child")).chain(guest.to_args());
        let again = <Child as clap::Parser>::try_parse_from(argv).unwrap();
        assert_eq!(again.guest.guest().unwrap(), guest);
        assert!(Guest::default().to_args().is_empty());
    }

    #[test]
    fn bad_options_are_refused_with_the_option_named() {
        let bad_env = GuestArgs {
            env: vec!["NOVALUE".into()],
            ..GuestArgs::default()
        };
        assert_eq!(
            format!("{:#}", bad_env.guest().unwrap_err()),
            "--env NOVALUE: expected KEY=VALUE"
        );
        assert!(parse_dir("::/x", Path::new("")).is_err());
        let bad_listen = GuestArgs {
            tcplisten: vec!["localhost:80".into()],
            ..GuestArgs::default()
        };
        assert!(
            format!("{:#}", bad_listen.guest().unwrap_err())
                .starts_with("--tcplisten localhost:80: expected HOST:PORT")
        );
        let bad_request = GuestArgs {
            requests: vec!["index.html".into()],
            ..GuestArgs::default()
        };
        assert!(bad_request.guest().is_err());
        let missing = Guest {
            dirs: vec![parse_dir("/no/such/dir::/d", Path::new("")).unwrap()],
            ..Guest::default()
        };
        assert!(
            missing
                .check()
                .unwrap_err()
                .to_string()
                .contains("/no/such/dir")
        );
    }

    #[test]
    fn expected_exit_codes_parse_from_flags_and_toml() {
        assert_eq!("10".parse(), Ok(ExpectExit::Code(10)));
        assert_eq!("any".parse(), Ok(ExpectExit::Any));
        assert!("ten".parse::<ExpectExit>().is_err());
        assert!(ExpectExit::Any.accepts(3) && !ExpectExit::Code(0).accepts(3));
        #[derive(Deserialize)]
        struct T {
            e: ExpectExit,
        }
        assert_eq!(
            toml::from_str::<T>("e = 20").unwrap().e,
            ExpectExit::Code(20)
        );
        assert_eq!(
            toml::from_str::<T>("e = \"any\"").unwrap().e,
            ExpectExit::Any
        );
        assert!(toml::from_str::<T>("e = \"all\"").is_err());
        assert_eq!(serde_json::to_string(&ExpectExit::Any).unwrap(), "\"any\"");
    }
}
