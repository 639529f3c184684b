//! The threads proposal's atomic operators on an unshared memory: narrow operators cut their
//! operands and zero-extend the old value, misaligned addresses trap before out-of-bounds
//! ones, `notify` wakes no one, `wait` traps, and shared memories are refused at load.

#[path = "support/guest.rs"]
mod guest;

use wasm_prof_runtime::{Config, Engine, Error, Instance, Module, Store, TrapKind, Val};

fn engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).unwrap()
}

/// A one-page memory and one export per operator under test.
const ATOMICS: &str = r#"
(module
  (memory 1 1)
  (func (export "load32") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "load32_offset2") (param i32) (result i32)
    (i32.atomic.load offset=2 (local.get 0)))
  (func (export "or8") (param i32 i32) (result i32) (i32.atomic.rmw8.or_u (local.get 0) (local.get 1)))
  (func (export "xchg16") (param i32 i64) (result i64)
    (i64.atomic.rmw16.xchg_u (local.get 0) (local.get 1)))
  (func (export "cmpxchg8") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
  (func (export "add64") (param i32 i64) (result i64) (i64.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "notify") (param i32) (result i32) (memory.atomic.notify (local.get 0) (i32.const 1)))
  (func (export "wait32") (param i32) (result i32)
    (atomic.fence)
    (memory.atomic.wait32 (local.get 0) (i32.const 0) (i64.const 0))))
"#;

fn instantiate() -> (Store, Instance) {
    guest::instantiate(&engine(), ATOMICS)
}

fn call(store: &mut Store, instance: Instance, name: &str, args: &[Val]) -> Result<Val, TrapKind> {
    guest::call(store, instance, name, args).map(|results| results[0])
}

#[test]
fn narrow_operators_cut_operands_and_zero_extend_the_old_value() {
    let (mut store, instance) = instantiate();
    let mut run = |name, args: &[Val]| call(&mut store, instance, name, args).unwrap();
    // The expected value 0x100 is cut to 0, which matches the zeroed byte.
    assert_eq!(
        run("cmpxchg8", &[Val::I32(8), Val::I32(0x100), Val::I32(0x1ff)]),
        Val::I32(0)
    );
    assert_eq!(run("or8", &[Val::I32(8), Val::I32(0)]), Val::I32(0xff));
    assert_eq!(run("xchg16", &[Val::I32(8), Val::I64(-1)]), Val::I64(0xff));
    assert_eq!(run("load32", &[Val::I32(8)]), Val::I32(0xffff));
    assert_eq!(run("add64", &[Val::I32(8), Val::I64(1)]), Val::I64(0xffff));
    assert_eq!(run("load32", &[Val::I32(8)]), Val::I32(0x1_0000));
}

#[test]
fn misalignment_is_checked_on_the_wasm_address_before_bounds() {
    let (mut store, instance) = instantiate();
    let mut run = |name, args: &[Val]| call(&mut store, instance, name, args);
    assert_eq!(run("load32_offset2", &[Val::I32(2)]), Ok(Val::I32(0)));
    assert_eq!(
        run("load32_offset2", &[Val::I32(0)]),
        Err(TrapKind::HeapMisaligned)
    );
    assert_eq!(
        run("load32", &[Val::I32(65_537)]),
        Err(TrapKind::HeapMisaligned)
    );
    assert_eq!(
        run("load32", &[Val::I32(65_536)]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(
        run("add64", &[Val::I32(-8), Val::I64(1)]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(
        run("or8", &[Val::I32(65_536), Val::I32(1)]),
        Err(TrapKind::MemoryOutOfBounds)
    );
}

#[test]
fn notify_wakes_no_one_and_wait_traps_on_an_unshared_memory() {
    let (mut store, instance) = instantiate();
    let mut run = |name, args: &[Val]| call(&mut store, instance, name, args);
    assert_eq!(run("notify", &[Val::I32(4)]), Ok(Val::I32(0)));
    assert_eq!(run("notify", &[Val::I32(6)]), Err(TrapKind::HeapMisaligned));
    assert_eq!(
        run("notify", &[Val::I32(65_536)]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(
        run("wait32", &[Val::I32(4)]),
        Err(TrapKind::WaitOnUnsharedMemory)
    );
}

#[test]
fn shared_memories_are_refused_in_one_line() {
    let engine = engine();
    for wat in [
        "(module (memory 1 1 shared))",
        r#"(module (import "env" "m" (memory 1 1 shared)))"#,
    ] {
        match Module::new(&engine, &wat::parse_str(wat).unwrap()) {
            Err(err @ Error::Unsupported(_)) => {
                assert_eq!(err.to_string(), "unsupported: shared memories");
            }
            Err(other) => panic!("expected an unsupported-feature error, got {other}"),
            Ok(_) => panic!("accepted a shared memory"),
        }
    }
}
