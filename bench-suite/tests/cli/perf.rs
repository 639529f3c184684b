//! Profiling guest code with Linux `perf`: `run --perfmap` and `run --jitdump` name the guest's
//! functions, and `perf record` on a guest that spins in one function reports that function
//! by name — through the perf map, through `perf inject --jit`, and in call stacks walked by
//! frame pointers.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use crate::util::text;

/// A WASI-less command that spends about half a second in `spinner::spin_loop` (a mangled
/// Rust name), called through `spin_caller`, and has a function with a mangled C++ name that
/// it never calls; `SPINS` is patched in.
const SPINNER: &str = r#"
(module $spinner
  (func $_ZN7spinner9spin_loop17h0123456789abcdefE (param $n i64) (result i64)
    (local $x i64)
    (loop $again
      local.get $x
      i64.const 6364136223846793005
      i64.mul
      i64.const 1442695040888963407
      i64.add
      local.set $x
      local.get $n
      i64.const 1
      i64.sub
      local.tee $n
      i64.const 0
      i64.ne
      br_if $again)
    local.get $x)
  (func $spin_caller (param $n i64)
    local.get $n
    call $_ZN7spinner9spin_loop17h0123456789abcdefE
    drop)
  (func (export "_start")
    i64.const SPINS
    call $spin_caller)
  (func $_ZN7spinner5Clock4tickEi (param i32) (result i32)
    local.get 0))
"#;

/// The spinner spinning `spins` times, written to `dir/spinner.wasm`.
fn spinner(dir: &Path, spins: u64) -> PathBuf {
    let path = dir.join("spinner.wasm");
    let wat = SPINNER.replace("SPINS", &spins.to_string());
    fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    path
}

/// About half a second of spinning on this machine.
const HALF_A_SECOND: u64 = 300_000_000;

/// `perf` with `args` in `dir`; its absence is a failure that says what to install.
fn perf(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new("perf")
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run perf ({e}): install linux-perf (scripts/install-deps.sh does)")
        });
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "perf {args:?} failed: {stdout}\n{stderr}"
    );
    output
}

/// `perf record` (software clock events, no hardware counters needed) of `wasm-prof run
/// RUN_ARGS` into `dir/perf.data`.
fn record(dir: &Path, perf_args: &[&str], run_args: &[&str]) {
    let wasm_prof = env!("CARGO_BIN_EXE_wasm-prof");
    let mut args = vec![
        "record",
        "-e",
        "cpu-clock",
        "-F",
        "10000",
        "-o",
        "perf.data",
    ];
    args.extend_from_slice(perf_args);
    args.extend_from_slice(&["--", wasm_prof, "run"]);
    args.extend_from_slice(run_args);
    perf(dir, &args);
}

/// `perf report` of `data` as text, by symbol, self time only.
fn report(dir: &Path, data: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "report",
        "-i",
        data,
        "--stdio",
        "--no-children",
        "--sort",
        "sym",
    ];
    args.extend_from_slice(extra);
    String::from_utf8_lossy(&perf(dir, &args).stdout).into_owned()
}

/// The pid of the process `dir/perf.data` recorded, whose perf map the test removes.
fn recorded_pid(dir: &Path) -> u32 {
    let out = perf(dir, &["script", "-i", "perf.data", "-F", "pid"]);
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("perf recorded no sample: {text}"))
}

/// `run --perfmap` writes `/tmp/perf-PID.map` naming the guest's functions (Rust and C++ names
/// demangled, with the module's file stem) and its trampolines, with the code's addresses and
/// sizes.
#[test]
fn run_perfmap_names_the_guest_functions_and_trampolines() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = spinner(dir.path(), 1_000);
    let cache = dir.path().join("cache");
    for _ in ["cold", "cached"] {
        let child = Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
            .args(["run", "--perfmap", "--cache-dir"])
            .args([&cache, &wasm])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
        let output = child.wait_with_output().unwrap();
        let (_, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        let lines = fs::read_to_string(&map).unwrap();
        let _ = fs::remove_file(&map);
        let names: Vec<&str> = lines
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.splitn(3, ' ').collect();
                assert_eq!(fields.len(), 3, "{line}");
                for hex in &fields[..2] {
                    assert!(u64::from_str_radix(hex, 16).unwrap() > 0, "{line}");
                }
                fields[2]
            })
            .collect();
        for name in [
            "spinner!spinner::spin_loop",
            "spinner!spin_caller",
            "spinner!wasm-function[2]",
            "spinner!host-to-wasm-trampoline[type 2]",
            "spinner!spinner::Clock::tick(int)",
        ] {
            assert!(names.contains(&name), "{name} is not in\n{lines}");
        }
    }
}

/// A strategy named in `WASM_PROF_PERF` that does not exist is one line saying which exist.
#[test]
fn an_unknown_profiling_strategy_in_the_environment_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = spinner(dir.path(), 1);
    let output = Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
        .args(["run", "--disable-cache"])
        .arg(&wasm)
        .env("WASM_PROF_PERF", "vtune")
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("perfmap, jitdump or none"), "{stderr}");
}

/// A jitdump that cannot be created (a temporary directory that does not exist) stops the run
/// before anything runs, in one line naming the file.
#[test]
fn a_jitdump_that_cannot_be_created_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = spinner(dir.path(), 1);
    let missing = dir.path().join("missing");
    let output = Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
        .args(["run", "--jitdump", "--disable-cache"])
        .arg(&wasm)
        .env("TMPDIR", &missing)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{}/jit-", missing.display())),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}

/// `perf report` of a guest that spins in one function names that function, from the perf map,
/// and its callers appear in the call stacks `perf record -g` takes by frame pointers — compiled
/// and from the cache.
#[test]
fn perf_report_names_the_guest_function_a_program_spends_its_time_in() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = spinner(dir.path(), HALF_A_SECOND);
    let (cache, wasm) = (dir.path().join("cache"), wasm.to_str().unwrap().to_string());
    for path in ["cold", "cached"] {
        record(
            dir.path(),
            &["-g"],
            &["--perfmap", "--cache-dir", cache.to_str().unwrap(), &wasm],
        );
        let pid = recorded_pid(dir.path());
        let flat = report(dir.path(), "perf.data", &["-g", "none"]);
        let stacks = report(dir.path(), "perf.data", &["-g", "caller"]);
        let _ = fs::remove_file(format!("/tmp/perf-{pid}.map"));
        assert!(
            top_symbol(&flat).ends_with("spinner!spinner::spin_loop"),
            "{path}: the top symbol is not the guest's spin loop:\n{flat}"
        );
        assert!(
            stacks.contains("spinner!spin_caller"),
            "{path}: the spin loop's caller is not in its call stacks:\n{stacks}"
        );
    }
}

/// The first line of a `perf report` table: the symbol with the most samples.
fn top_symbol(report: &str) -> &str {
    report
        .lines()
        .find(|line| line.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_default()
}

/// With `--jitdump` under `perf record -k 1`, `perf inject --jit` turns the dump into ELF images
/// and the report names the guest function.
#[test]
fn perf_inject_jit_names_the_guest_function_from_the_jitdump() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = spinner(dir.path(), HALF_A_SECOND);
    let wasm = wasm.to_str().unwrap().to_string();
    record(
        dir.path(),
        &["-k", "1"],
        &["--jitdump", "--disable-cache", &wasm],
    );
    let pid = recorded_pid(dir.path());
    assert!(
        dir.path().join(format!("jit-{pid}.dump")).is_file(),
        "no jitdump in TMPDIR"
    );
    perf(
        dir.path(),
        &["inject", "--jit", "-i", "perf.data", "-o", "perf.jit.data"],
    );
    let flat = report(dir.path(), "perf.jit.data", &[]);
    assert!(
        top_symbol(&flat).ends_with("spinner!spinner::spin_loop"),
        "the top symbol is not the guest's spin loop:\n{flat}"
    );
}
