//! Every module of the developer corpus (fetched by `scripts/fetch-corpus.sh`) parses,
//! validates, compiles, caches, loads from the cache and instantiates, with imports the runtime
//! does not provide stubbed, and its memory starts as its data segments say.
//!
//! A module that has not been fetched is a failure, unless the run skips the fetched corpus
//! deliberately (`WASM_PROF_SKIP_CORPUS=1`), which each such test then says.

use std::path::PathBuf;

use wasm_prof_runtime::{CacheOutcome, Config, Engine, Linker, Module, Store, environ::ExternKind};

fn corpus_module(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpora/fetched")
        .join(format!("{name}.wasm"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("WASM_PROF_SKIP_CORPUS").as_deref() == Ok("1"),
        "{} is missing: run scripts/fetch-corpus.sh (or set WASM_PROF_SKIP_CORPUS=1 to skip \
         the fetched corpus deliberately)",
        path.display()
    );
    eprintln!("note: WASM_PROF_SKIP_CORPUS=1: skipping {}", path.display());
    None
}

/// Compiles the module into an empty cache, loads it again from there, and instantiates both:
/// every export is present and the memory starts with exactly what the data segments say.
fn compile_and_instantiate(name: &str) {
    let Some(path) = corpus_module(name) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let mut config = Config::new();
    config.cache_dir(cache.path());
    let engine = Engine::new(config).unwrap();
    let expected_memory = initial_memory(&std::fs::read(&path).unwrap());
    for outcome in [CacheOutcome::Miss, CacheOutcome::Hit] {
        let module = Module::from_file(&engine, &path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(module.cache_outcome(), &outcome, "{name}");
        assert!(module.cache_warnings().is_empty(), "{name}");
        assert!(
            module.info().num_defined_funcs() > 100,
            "{name} has real code"
        );
        assert!(
            module.code_size() > module.info().num_defined_funcs(),
            "{name} produced code"
        );
        let mut store = Store::new(&engine);
        let mut linker = Linker::new();
        linker
            .define_unknown_imports_as_traps(&mut store, &module)
            .unwrap();
        let instance = linker
            .instantiate(&mut store, &module)
            .unwrap_or_else(|e| panic!("{name}: instantiate: {e}"));
        for export in &module.info().exports {
            assert!(
                instance.get_export(&store, &export.name).is_some(),
                "{name}: export {} missing",
                export.name
            );
        }
        let (Some(expected), Some(memory_export)) = (&expected_memory, memory_zero_export(&module))
        else {
            continue;
        };
        let memory = instance.get_memory(&store, &memory_export).unwrap();
        assert!(
            memory.data(&store) == &expected[..],
            "{name} ({outcome:?}): the initial memory differs from the data segments"
        );
        // A write to one instance's memory reaches neither the next instance nor the cache.
        memory.data_mut(&mut store)[expected.len() / 2] ^= 0xff;
        let second = linker.instantiate(&mut store, &module).unwrap();
        let second = second.get_memory(&store, &memory_export).unwrap();
        assert!(
            second.data(&store) == &expected[..],
            "{name} ({outcome:?}): a second instance sees the first one's write"
        );
    }
}

/// The name under which the module exports its memory 0, if it does.
fn memory_zero_export(module: &Module) -> Option<String> {
    let info = module.info();
    info.exports
        .iter()
        .find(|e| e.kind == ExternKind::Memory && e.index == 0)
        .map(|e| e.name.clone())
}

/// Memory 0's initial contents according to the module's data segments, computed here
/// independently of the runtime; `None` when memory 0 is imported or an offset is not a
/// constant.
fn initial_memory(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut memory = None;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            wasmparser::Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    if matches!(import.unwrap().ty, wasmparser::TypeRef::Memory(_)) {
                        return None;
                    }
                }
            }
            wasmparser::Payload::MemorySection(memories) => {
                let first = memories.into_iter().next()?.unwrap();
                memory = Some(vec![0u8; (first.initial << 16) as usize]);
            }
            wasmparser::Payload::DataSection(segments) => {
                for segment in segments {
                    let segment = segment.unwrap();
                    let wasmparser::DataKind::Active {
                        memory_index: 0,
                        offset_expr,
                    } = segment.kind
                    else {
                        continue;
                    };
                    let wasmparser::Operator::I32Const { value } =
                        offset_expr.get_operators_reader().read().unwrap()
                    else {
                        return None;
                    };
                    let at = value as u32 as usize;
                    memory.as_mut()?[at..at + segment.data.len()].copy_from_slice(segment.data);
                }
            }
            _ => {}
        }
    }
    memory
}

macro_rules! corpus_tests {
    ($($name:ident),*) => {
        $(#[test] fn $name() { compile_and_instantiate(stringify!($name)); })*
    };
}

corpus_tests!(zstd, sqlite, graphviz, boolector, esbuild, ruby);

#[test]
fn sevenzip() {
    compile_and_instantiate("7zip");
}
