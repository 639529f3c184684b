//! `wasm-prof run` on the project's own WASI programs: output byte for byte and exit codes on
//! the cold, cached and nocache paths, traps with backtraces, timeouts, profiles.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use crate::util::text;

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../corpora/wasm/wasi-tests/{name}.wasm"))
}

fn expected(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../corpora/src/wasi-tests/{name}.expected"));
    std::fs::read(path).unwrap()
}

/// Runs `wasm-prof run` with `args`, feeding `stdin`.
fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
        .arg("run")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// The cache flags for each path: cold (empty dir), cached (the same dir again), nocache.
fn paths(cache: &Path) -> [Vec<String>; 3] {
    let dir = vec!["--cache-dir".to_string(), cache.display().to_string()];
    [dir.clone(), dir, vec!["--disable-cache".to_string()]]
}

#[test]
fn programs_print_the_same_output_on_every_path() {
    let cache = tempfile::tempdir().unwrap();
    for flags in paths(cache.path()) {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let args_env = program("args_env").display().to_string();
        let mut args = flags.clone();
        args.extend([
            "--env",
            "GREETING=hello",
            "--env",
            "WASM_PROF=1",
            args_env.as_str(),
            "--",
            "alpha",
            "beta gamma",
            "--delta=1",
        ]);
        let out = run_with_stdin(&args, b"");
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        assert_eq!(out.stdout, expected("args_env"), "{flags:?}");

        let stdin_echo = program("stdin_echo").display().to_string();
        let mut args = flags.clone();
        args.push(&stdin_echo);
        let out = run_with_stdin(&args, b"hello wasm\nsecond line\n");
        assert_eq!(out.stdout, expected("stdin_echo"), "{flags:?}");

        let exit_code = program("exit_code").display().to_string();
        let mut args = flags.clone();
        args.extend([exit_code.as_str(), "--", "42"]);
        let out = run_with_stdin(&args, b"");
        assert_eq!(out.status.code(), Some(42), "{flags:?}");

        let sandbox = tempfile::tempdir().unwrap();
        let grant = format!("{}::/sandbox", sandbox.path().display());
        for name in ["files", "dirs"] {
            let wasm = program(name).display().to_string();
            let mut args = flags.clone();
            args.extend(["--dir", grant.as_str(), wasm.as_str(), "--", "/sandbox"]);
            let out = run_with_stdin(&args, b"");
            assert_eq!(out.status.code(), Some(0), "{name}: {:?}", text(&out));
            assert_eq!(out.stdout, expected(name), "{name} {flags:?}");
        }
    }
    let artifacts = std::fs::read_dir(cache.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "wpa")
        })
        .count();
    assert_eq!(artifacts, 5, "one cache entry per program");
}

#[test]
fn stdin_comes_from_a_file_with_the_stdin_option() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.txt");
    std::fs::write(&input, b"hello wasm\nsecond line\n").unwrap();
    // The pipe the test offers stays silent: the guest must read the file instead.
    let out = run_with_stdin(
        &[
            "--disable-cache",
            "--stdin",
            input.to_str().unwrap(),
            program("stdin_echo").to_str().unwrap(),
        ],
        b"not this\n",
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(out.stdout, expected("stdin_echo"));
}

#[test]
fn a_trap_prints_its_kind_and_backtrace_and_fails() {
    let out = run_with_stdin(&["--disable-cache", program("trap").to_str().unwrap()], b"");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(134), "{stderr}");
    assert!(stdout.starts_with("about to trap"), "{stdout}");
    assert!(stderr.contains("trapped: unreachable"), "{stderr}");
    let inner = stderr.find("trap_inner").expect("innermost frame named");
    let middle = stderr.find("trap_middle").expect("caller named");
    assert!(inner < middle, "{stderr}");
}

#[test]
fn timeout_stops_a_guest_that_loops_forever() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("spin.wasm");
    let bytes = wat::parse_str(r#"(module (func (export "_start") (loop br 0)))"#).unwrap();
    std::fs::write(&wasm, bytes).unwrap();
    let out = run_with_stdin(
        &[
            "--disable-cache",
            "--timeout",
            "0.2",
            wasm.to_str().unwrap(),
        ],
        b"",
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(124), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn timeout_stops_a_guest_blocked_on_a_silent_stdin() {
    // stdin_echo blocks in fd_read; the test keeps the pipe open and writes nothing.
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
        .args(["run", "--disable-cache", "--timeout", "0.3"])
        .arg(program("stdin_echo"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("--timeout 0.3 did not stop a guest blocked on stdin within 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(124), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn profile_writes_a_phases_report_with_execute() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.json");
    let out = run_with_stdin(
        &[
            "--disable-cache",
            "--profile",
            profile.to_str().unwrap(),
            program("exit_code").to_str().unwrap(),
            "--",
            "0",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&profile).unwrap()).unwrap();
    assert_eq!(json["schema"], "wasm-prof/phases/v2");
    let run = &json["runs"][0];
    assert_eq!(run["path"], "nocache");
    for phase in [
        "read",
        "parse_validate",
        "codegen",
        "instantiate",
        "execute",
    ] {
        assert!(
            run["phases"][phase]["median_ns"].as_f64().unwrap() > 0.0,
            "{phase}"
        );
    }
    assert!(
        run["phases"].get("hash").is_none(),
        "no hashing without a cache"
    );
}

#[test]
fn a_timeout_that_is_not_a_positive_finite_number_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let program = crate::util::repo_root().join("corpora/wasm/wasi-tests/clocks.wasm");
    for timeout in ["inf", "NaN", "0", "1e300"] {
        let output = crate::util::run(
            dir.path(),
            &["run", "--timeout", timeout, program.to_str().unwrap()],
        );
        let (_, stderr) = crate::util::text(&output);
        assert_eq!(
            output.status.code(),
            Some(1),
            "--timeout {timeout}: {stderr}"
        );
        let lines = crate::util::error_lines(&stderr);
        assert_eq!(lines.len(), 1, "--timeout {timeout}: {stderr}");
        assert!(lines[0].contains("positive, finite"), "{stderr}");
    }
}
