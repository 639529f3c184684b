//! Bad input ends in one clear error naming the cause, never a panic or a crash.

use wasm_prof_runtime::{CacheOutcome, Config, Engine, Error, Linker, Module, Store};

fn engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).unwrap()
}

#[test]
fn malformed_and_invalid_modules_are_rejected_with_the_reason() {
    let engine = engine();
    let cases: [(&[u8], &str); 4] = [
        (b"", "unexpected end"),
        (b"\0asm\x02\0\0\0", "version"),
        (b"not wasm at all", "magic"),
        // (module (func (result i32))) with an empty body: type mismatch.
        (
            &wat::parse_str("(module (func (result i32) nop))").unwrap(),
            "type mismatch",
        ),
    ];
    for (bytes, reason) in cases {
        match Module::new(&engine, bytes) {
            Err(Error::Invalid(message)) => {
                assert!(
                    message.contains(reason),
                    "{message:?} should mention {reason:?}"
                )
            }
            Err(other) => panic!("expected an invalid-module error, got {other}"),
            Ok(_) => panic!("accepted a bad module"),
        }
    }
}

#[test]
fn unknown_imports_name_their_module_and_field() {
    let engine = engine();
    let bytes = wat::parse_str(r#"(module (import "env" "missing" (func)))"#).unwrap();
    let module = Module::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine);
    let err = Linker::new().instantiate(&mut store, &module).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Link { .. }), "{message}");
    assert!(message.contains("env::missing"), "{message}");
}

#[test]
fn resources_beyond_the_limits_are_refused() {
    let engine = engine();
    let bytes = wat::parse_str(
        r#"(module (table 1 funcref)
             (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow))"#,
    )
    .unwrap();
    let module = Module::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let grow = instance
        .get_func(&store, "grow")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    assert_eq!(
        grow.call(&mut store, 20_000_000).unwrap(),
        -1,
        "growth past the limit fails"
    );
    assert_eq!(
        grow.call(&mut store, 10).unwrap(),
        1,
        "the table is still usable"
    );
    // The largest memory a 32-bit module may declare is reserved, not committed.
    let bytes = wat::parse_str("(module (memory (export \"m\") 65536))").unwrap();
    let module = Module::new(&engine, &bytes).unwrap();
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let memory = instance.get_memory(&store, "m").unwrap();
    assert_eq!(memory.pages(&store), 65536);
}

#[test]
fn missing_files_give_a_read_error_with_the_path() {
    let err = Module::from_file(&engine(), "/nonexistent/app.wasm")
        .err()
        .unwrap();
    assert!(matches!(err, Error::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/app.wasm"));
}

/// A cache directory others can write to is not used: the module compiles without the cache,
/// and the warning names the directory and the fix; a deliberately shared cache is used.
#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let bytes = wat::parse_str("(module (func (export \"f\")))").unwrap();
    let mut config = Config::new();
    config.cache_dir(&cache).cache_shared(false);
    let module = Module::new(&Engine::new(config).unwrap(), &bytes).unwrap();
    assert_eq!(*module.cache_outcome(), CacheOutcome::Disabled);
    let warnings = module.cache_warnings().join("\n");
    assert!(
        warnings.contains("is not used") && warnings.contains("writable by group or others"),
        "{warnings}"
    );
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        0,
        "nothing was written"
    );

    let mut config = Config::new();
    config.cache_dir(&cache).cache_shared(true);
    let module = Module::new(&Engine::new(config).unwrap(), &bytes).unwrap();
    assert_eq!(*module.cache_outcome(), CacheOutcome::Miss);
}
