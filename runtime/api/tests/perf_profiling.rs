//! Telling `perf` where guest code lies: the perf map lines and jitdump records a module's load
//! writes, read back and checked against where the module's code really is — compiled (cold)
//! and mapped from the cache (cached), which puts it at another address.

use std::{collections::BTreeMap, fs, ops::Range, path::Path};

use linux_perf_data::jitdump::{JitDumpReader, JitDumpRecord};
use wasm_prof_runtime::{
    CacheOutcome, Config, Engine, Module, PerfProfiling, environ::code_layout,
};

/// Two named functions (one with a mangled Rust name), one without a name, and an import, so
/// the module has host-to-wasm and wasm-to-host trampolines.
const GUEST: &str = r#"
(module $guest
  (import "env" "report" (func $report (param i32)))
  (func $_ZN5guest9spin_loop17h0123456789abcdefE (export "spin") (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add)
  (func $outer (export "outer") (param i32)
    local.get 0
    call $_ZN5guest9spin_loop17h0123456789abcdefE
    call $report)
  (func (export "anonymous") (result i64)
    i64.const 7))
"#;

/// What `perf` should be told about the module's defined functions: start, length, name.
fn expected_functions(module: &Module, stem: &str) -> Vec<(usize, usize, String)> {
    let base = module.code_range().start;
    let names = [
        format!("{stem}!guest::spin_loop"),
        format!("{stem}!outer"),
        format!("{stem}!wasm-function[3]"),
    ];
    let funcs = &module.layout().funcs;
    assert_eq!(funcs.len(), names.len());
    funcs
        .iter()
        .zip(names)
        .map(|(&(offset, len), name)| (base + offset as usize, len as usize, name))
        .collect()
}

/// The distinct trampoline addresses of the module's layout.
fn expected_trampolines(module: &Module) -> Vec<usize> {
    let layout = module.layout();
    let mut starts: Vec<usize> = layout
        .entry_trampolines
        .iter()
        .chain(&layout.host_trampolines)
        .filter(|o| **o != code_layout::NONE)
        .map(|o| module.code_range().start + *o as usize)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// Checks the symbols `perf` was told about for `module` (start → length and name): each
/// function exactly as the layout has it, one symbol per distinct trampoline, all inside the
/// module's code and none overlapping another.
fn check_symbols(module: &Module, stem: &str, symbols: &BTreeMap<usize, (usize, String)>) {
    let code = module.code_range();
    let functions = expected_functions(module, stem);
    let trampolines = expected_trampolines(module);
    assert!(trampolines.len() >= 2, "expected both kinds of trampoline");
    assert_eq!(
        symbols.len(),
        functions.len() + trampolines.len(),
        "{symbols:#?}"
    );
    for (start, len, name) in functions {
        assert_eq!(symbols.get(&start), Some(&(len, name.clone())), "{name}");
    }
    for start in trampolines {
        let (_, name) = &symbols[&start];
        assert!(
            name.starts_with(&format!("{stem}!")) && name.contains("-trampoline[type "),
            "{name}"
        );
    }
    let mut end_of_previous = code.start;
    for (&start, (len, name)) in symbols {
        assert!(*len > 0, "{name} is empty");
        assert!(
            start >= end_of_previous,
            "{name} overlaps the symbol before it"
        );
        assert!(
            start + len <= code.end,
            "{name} ends outside the module's code"
        );
        end_of_previous = start + len;
    }
}

/// The perf map's lines from byte `from` on that name `stem`'s code: start → length, name.
fn perf_map_symbols(path: &Path, from: usize, stem: &str) -> BTreeMap<usize, (usize, String)> {
    let text = fs::read_to_string(path).expect("the perf map exists");
    text[from..]
        .lines()
        .filter(|line| line.contains(&format!(" {stem}!")))
        .map(|line| {
            let mut fields = line.splitn(3, ' ');
            let mut hex = || usize::from_str_radix(fields.next().unwrap(), 16).unwrap();
            let (start, len) = (hex(), hex());
            (start, (len, fields.next().unwrap().to_string()))
        })
        .collect()
}

fn engine(cache: &Path, strategy: PerfProfiling) -> Engine {
    let mut config = Config::new();
    config.cache_dir(cache).perf_profiling(strategy);
    Engine::new(config).unwrap()
}

/// A module's load appends a line per function and trampoline to `/tmp/perf-PID.map`, at the
/// addresses the code really has, on a compile and again on a cache hit.
#[test]
fn the_perf_map_names_every_function_and_trampoline_where_it_lies_cold_and_cached() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perfmap_guest.wasm");
    fs::write(&path, wat::parse_str(GUEST).unwrap()).unwrap();
    let engine = engine(&dir.path().join("cache"), PerfProfiling::PerfMap);
    let map = Path::new("/tmp").join(format!("perf-{}.map", std::process::id()));
    let mut loaded = Vec::new();
    for outcome in [CacheOutcome::Miss, CacheOutcome::Hit] {
        let before = fs::metadata(&map).map_or(0, |m| m.len() as usize);
        let module = Module::from_file(&engine, &path).unwrap();
        assert_eq!(module.cache_outcome(), &outcome);
        assert_eq!(module.profiling_warning(), None);
        let symbols = perf_map_symbols(&map, before, "perfmap_guest");
        check_symbols(&module, "perfmap_guest", &symbols);
        assert_eq!(
            mapping_of(module.code_range().start),
            "",
            "perf reads the map only for code in anonymous memory"
        );
        loaded.push(module);
    }
    assert_ne!(
        loaded[0].code_range(),
        loaded[1].code_range(),
        "the hit must have been mapped elsewhere"
    );
    let _ = fs::remove_file(&map);
}

/// The path of the mapping that holds `address` in this process (empty for anonymous memory).
fn mapping_of(address: usize) -> String {
    let maps = fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            let range =
                usize::from_str_radix(start, 16).ok()?..usize::from_str_radix(end, 16).ok()?;
            range
                .contains(&address)
                .then(|| fields.nth(4).unwrap_or_default().to_string())
        })
        .unwrap_or_else(|| panic!("{address:#x} is not mapped"))
}

/// A module's load appends a code-load record per function and trampoline to the jitdump file,
/// with the bytes that lie at its address, on a compile and again on a cache hit.
#[test]
fn the_jitdump_records_every_function_and_trampoline_with_its_code_cold_and_cached() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jitdump_guest.wasm");
    fs::write(&path, wat::parse_str(GUEST).unwrap()).unwrap();
    let engine = engine(&dir.path().join("cache"), PerfProfiling::JitDump);
    let dump = std::env::temp_dir().join(format!("jit-{}.dump", std::process::id()));
    let cold = Module::from_file(&engine, &path).unwrap();
    let cached = Module::from_file(&engine, &path).unwrap();
    assert_eq!(cached.cache_outcome(), &CacheOutcome::Hit);

    let mut reader = JitDumpReader::new(fs::File::open(&dump).unwrap()).unwrap();
    let header = reader.header().clone();
    assert_eq!(
        header.magic,
        0x4A69_5444u32.to_ne_bytes(),
        "the specification's magic, in this machine's byte order"
    );
    assert_eq!(header.version, 1);
    assert_eq!(header.pid, std::process::id());
    let mut loads: Vec<(usize, Vec<u8>, String, u64)> = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        let JitDumpRecord::CodeLoad(load) = record.parse().unwrap() else {
            panic!("only code loads are written");
        };
        assert_eq!(load.pid, std::process::id());
        assert_eq!(load.vma, load.code_addr);
        let name = String::from_utf8(load.function_name.as_slice().to_vec()).unwrap();
        let bytes = load.code_bytes.as_slice().to_vec();
        loads.push((load.code_addr as usize, bytes, name, load.code_index));
    }
    let mut indices: Vec<u64> = loads.iter().map(|l| l.3).collect();
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), loads.len(), "code indices must be unique");

    for module in [&cold, &cached] {
        let code = module.code_range();
        let symbols: BTreeMap<usize, (usize, String)> = loads
            .iter()
            .filter(|(start, ..)| code.contains(start))
            .map(|(start, bytes, name, _)| (*start, (bytes.len(), name.clone())))
            .collect();
        check_symbols(module, "jitdump_guest", &symbols);
        for (start, bytes, name, _) in loads.iter().filter(|(start, ..)| code.contains(start)) {
            assert_eq!(
                bytes.as_slice(),
                mapped(*start..start + bytes.len()),
                "{name}: the record's code is not the code at its address"
            );
        }
    }
    drop((cold, cached));
    let _ = fs::remove_file(&dump);
}

/// The bytes at `range` of a live module's executable code.
fn mapped(range: Range<usize>) -> &'static [u8] {
    // SAFETY: the callers pass ranges inside the text of a module they keep alive, which is
    // mapped readable and never written while it is.
    unsafe { std::slice::from_raw_parts(range.start as *const u8, range.len()) }
}

/// A strategy named by the variable or the command line parses; anything else is one clear
/// error naming the choices.
#[test]
fn profiling_strategies_parse_and_unknown_names_are_refused() {
    assert_eq!(
        "perfmap".parse::<PerfProfiling>().unwrap(),
        PerfProfiling::PerfMap
    );
    assert_eq!(
        "JitDump".parse::<PerfProfiling>().unwrap(),
        PerfProfiling::JitDump
    );
    assert_eq!(
        "none".parse::<PerfProfiling>().unwrap(),
        PerfProfiling::None
    );
    let error = "vtune".parse::<PerfProfiling>().unwrap_err().to_string();
    assert!(error.contains("perfmap, jitdump or none"), "{error}");
}
