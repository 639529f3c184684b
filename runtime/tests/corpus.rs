//! Every module of the developer corpus (fetched by `scripts/fetch-corpus.sh`) parses,
//! validates, compiles and instantiates, with imports the runtime does not provide stubbed.
//!
//! Without the corpus the tests print a note and pass, unless `WASM_PROF_REQUIRE_CORPUS=1`
//! (set by CI), which turns a missing module into a failure.

use std::path::PathBuf;

use wasm_prof_runtime::{CacheOutcome, Config, Engine, Linker, Module, Store};

fn corpus_module(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpora/fetched")
        .join(format!("{name}.wasm"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("WASM_PROF_REQUIRE_CORPUS").as_deref() != Ok("1"),
        "{} is missing: run scripts/fetch-corpus.sh",
        path.display()
    );
    eprintln!(
        "note: {} not fetched; skipping (run scripts/fetch-corpus.sh)",
        path.display()
    );
    None
}

fn compile_and_instantiate(name: &str) {
    let Some(path) = corpus_module(name) else {
        return;
    };
    let mut config = Config::new();
    config.cache(false);
    let engine = Engine::new(config).unwrap();
    let module = Module::from_file(&engine, &path).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(module.cache_outcome(), &CacheOutcome::Disabled);
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
