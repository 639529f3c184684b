//! Bounded fuzzing of the parser, validator, compiler and instantiation with modules that
//! wasm-smith generates from a fixed seed: every valid module within the runtime's feature set
//! compiles, nothing panics or crashes, and a module loaded from the cache instantiates to the
//! same memories as one compiled without it. Deterministic, so a failure reproduces.

use arbitrary::Unstructured;
use wasm_prof_runtime::{
    CacheOutcome, Config, Engine, Error, Extern, Linker, Module, Store, config::wasm_features,
};

use wasm_prof_differential::smith::{Bytes, runtime_config as smith_config};

#[test]
fn generated_modules_compile_and_instantiate_without_panicking() {
    let mut config = Config::new();
    config.cache(false);
    let engine = Engine::new(config).unwrap();
    let mut source = Bytes(0x5eed_cafe_f00d_0001);
    let mut compiled = 0;
    for case in 0..300 {
        let mut raw = vec![0u8; 2048 + case * 16];
        source.fill(&mut raw);
        let Ok(generated) = wasm_smith::Module::new(smith_config(), &mut Unstructured::new(&raw))
        else {
            continue;
        };
        let bytes = generated.to_bytes();
        // wasm-smith is newer than the runtime's wasmparser and may use encodings the older
        // validator calls invalid; the runtime must agree with its validator either way.
        let valid = wasmparser::Validator::new_with_features(wasm_features())
            .validate_all(&bytes)
            .is_ok();
        let module = match (valid, Module::new(&engine, &bytes)) {
            (true, Ok(module)) => module,
            (false, Err(Error::Invalid(_))) => continue,
            (true, Err(e)) => panic!("case {case}: a valid module was rejected: {e}"),
            (false, other) => panic!("case {case}: an invalid module gave {:?}", other.err()),
        };
        compiled += 1;
        let mut store = Store::new(&engine);
        let mut linker = Linker::new();
        linker
            .define_unknown_imports_as_traps(&mut store, &module)
            .unwrap();
        // A module may import one name twice with two types; one stub cannot match both.
        let imports = &module.info().imports;
        let duplicate_names = (1..imports.len()).any(|i| {
            imports[..i]
                .iter()
                .any(|j| (&j.module, &j.name) == (&imports[i].module, &imports[i].name))
        });
        match linker.instantiate(&mut store, &module) {
            Ok(_) | Err(Error::Trap(_)) | Err(Error::Limit(_)) => {}
            Err(Error::Link { .. }) if duplicate_names => {}
            Err(e) => panic!("case {case}: instantiation failed: {e}"),
        }
    }
    assert!(compiled > 200, "only {compiled} modules were generated");
}

/// Instantiates `module` with trapping stubs for its imports; `None` when it cannot be.
fn instantiate(engine: &Engine, module: &Module) -> Option<(Store, wasm_prof_runtime::Instance)> {
    let mut store = Store::new(engine);
    let mut linker = Linker::new();
    linker
        .define_unknown_imports_as_traps(&mut store, module)
        .ok()?;
    let instance = linker.instantiate(&mut store, module).ok()?;
    Some((store, instance))
}

#[test]
fn cache_hits_instantiate_the_same_memories() {
    let mut config = Config::new();
    config.cache(false);
    let uncached = Engine::new(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new();
    config.cache_dir(dir.path());
    let cached = Engine::new(config).unwrap();
    let smith = wasm_smith::Config {
        export_everything: true,
        min_memories: 1,
        min_data_segments: 1,
        ..smith_config()
    };
    let mut source = Bytes(0x5eed_cafe_f00d_0003);
    let mut compared = 0;
    for case in 0..150 {
        let mut raw = vec![0u8; 2048 + case * 16];
        source.fill(&mut raw);
        let Ok(generated) = wasm_smith::Module::new(smith.clone(), &mut Unstructured::new(&raw))
        else {
            continue;
        };
        let bytes = generated.to_bytes();
        let Ok(reference) = Module::new(&uncached, &bytes) else {
            continue;
        };
        Module::new(&cached, &bytes).unwrap();
        let hit = Module::new(&cached, &bytes).unwrap();
        assert_eq!(hit.cache_outcome(), &CacheOutcome::Hit, "case {case}");
        let (Some((ref_store, ref_instance)), Some((hit_store, hit_instance))) = (
            instantiate(&uncached, &reference),
            instantiate(&cached, &hit),
        ) else {
            continue;
        };
        for (name, export) in ref_instance.exports(&ref_store) {
            let Extern::Memory(memory) = export else {
                continue;
            };
            let other = hit_instance.get_memory(&hit_store, name).unwrap();
            assert!(
                memory.data(&ref_store) == other.data(&hit_store),
                "case {case}: memory {name} differs after a cache hit"
            );
            compared += 1;
        }
    }
    assert!(compared > 30, "only {compared} memories were compared");
}

#[test]
fn corrupted_modules_are_rejected_cleanly() {
    let mut config = Config::new();
    config.cache(false);
    let engine = Engine::new(config).unwrap();
    let mut source = Bytes(0x0bad_c0de_0000_0002);
    let mut raw = vec![0u8; 4096];
    source.fill(&mut raw);
    let valid = wasm_smith::Module::new(smith_config(), &mut Unstructured::new(&raw))
        .unwrap()
        .to_bytes();
    let mut flip = [0u8; 8];
    for _ in 0..300 {
        source.fill(&mut flip);
        let mut bytes = valid.clone();
        let at = u64::from_le_bytes(flip) as usize % bytes.len();
        bytes[at] ^= 1 << (flip[0] % 8);
        if let Err(e) = Module::new(&engine, &bytes) {
            assert!(
                matches!(e, Error::Invalid(_) | Error::Unsupported(_)),
                "a corrupted module gives a clear error, not {e:?}"
            );
        }
    }
    let truncated = Module::new(&engine, &valid[..valid.len() / 2]);
    assert!(matches!(truncated, Err(Error::Invalid(_))));
}
