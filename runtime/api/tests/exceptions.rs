//! Exception handling end to end: throwing through many frames, catching with values and
//! references, rethrowing, uncaught exceptions as errors, exceptions crossing host calls, traps
//! that no handler catches, and throwing in a long loop.

use wasm_prof_runtime::{
    Config, Engine, Error, Extern, FuncType, Instance, Linker, Module, Store, Tag, Trap, TrapKind,
    Val, ValType,
};

fn engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).unwrap()
}

fn module(engine: &Engine, wat: &str) -> Module {
    Module::new(engine, &wat::parse_str(wat).unwrap()).unwrap()
}

fn instantiate(wat: &str) -> (Store, Instance) {
    let engine = engine();
    let module = module(&engine, wat);
    let mut store = Store::new(&engine);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    (store, instance)
}

fn call(
    store: &mut Store,
    instance: Instance,
    name: &str,
    args: &[Val],
) -> wasm_prof_runtime::Result<Vec<Val>> {
    let func = instance.get_func(store, name).unwrap();
    func.call(store, args)
}

fn trap(result: wasm_prof_runtime::Result<Vec<Val>>) -> Trap {
    match result {
        Err(Error::Trap(trap)) => trap,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// An exception thrown 50 frames down arrives at the handler with its values, and the catching
/// frame's own state (a local computed before the `try_table`) is intact.
#[test]
fn an_exception_thrown_fifty_frames_deep_is_caught_with_its_values() {
    let (mut store, instance) = instantiate(
        r#"
        (module
          (tag $e (param i32 i64 f64))
          (func $deep (param $n i32)
            (if (i32.eqz (local.get $n))
              (then (throw $e (i32.const 42) (i64.const -7) (f64.const 1.5))))
            (call $deep (i32.sub (local.get $n) (i32.const 1))))
          (func (export "run") (param $depth i32) (result i32 i64 f64)
            (local $before i32)
            (local.set $before (i32.mul (local.get $depth) (i32.const 1000)))
            (block $caught (result i32 i64 f64)
              (try_table (catch $e $caught)
                (call $deep (local.get $depth)))
              (return (i32.const -1) (i64.const 0) (f64.const 0)))
            ;; [i32 i64 f64] on the stack: add the local to the f64 and the i32.
            (local.set $before (i32.add (local.get $before) (i32.const 0)))
            (return_call $combine (local.get $before)))
          (func $combine (param i32 i64 f64 i32) (result i32 i64 f64)
            (i32.add (local.get 0) (local.get 3))
            (local.get 1)
            (local.get 2)))
        "#,
    );
    let got = call(&mut store, instance, "run", &[Val::I32(50)]).unwrap();
    assert_eq!(
        got,
        [Val::I32(50_042), Val::I64(-7), Val::F64(1.5f64.to_bits())]
    );
}

/// `catch_all_ref` hands over the exception itself; `throw_ref` rethrows that very exception,
/// which an outer handler for its tag catches with the original values.
#[test]
fn catch_all_ref_then_throw_ref_rethrows_the_same_exception() {
    let (mut store, instance) = instantiate(
        r#"
        (module
          (tag $e (param i32))
          (global $seen (mut i32) (i32.const 0))
          (func $inner (param i32)
            (block $h (result exnref)
              (try_table (catch_all_ref $h)
                (throw $e (local.get 0)))
              (unreachable))
            (global.set $seen (i32.add (global.get $seen) (i32.const 1)))
            (throw_ref))
          (func (export "run") (param i32) (result i32 i32)
            (block $outer (result i32 exnref)
              (try_table (catch_ref $e $outer)
                (call $inner (local.get 0)))
              (unreachable))
            (drop)
            (global.get $seen)))
        "#,
    );
    let got = call(&mut store, instance, "run", &[Val::I32(5)]).unwrap();
    assert_eq!(got, [Val::I32(5), Val::I32(1)]);
}

/// An exception nothing catches ends the call with an uncaught-exception error that carries the
/// exception (its tag and values readable from the store) and the wasm frames it went through.
#[test]
fn an_uncaught_exception_is_an_error_with_the_exception_and_a_backtrace() {
    let (mut store, instance) = instantiate(
        r#"
        (module
          (tag $e (export "e") (param i32 f32))
          (func $thrower (throw $e (i32.const 9) (f32.const 2.5)))
          (func $middle (call $thrower))
          (func $outer (export "outer")
            (try_table (catch_all 0)
              (nop))
            (call $middle)))
        "#,
    );
    let error = call(&mut store, instance, "outer", &[]).unwrap_err();
    let exception = error.exception().expect("the error carries the exception");
    let trap = trap(Err(error));
    assert_eq!(trap.kind, TrapKind::UncaughtException);
    let names: Vec<_> = trap
        .backtrace
        .iter()
        .map(|f| f.func_name.as_deref().unwrap_or("?"))
        .collect();
    assert_eq!(names, ["thrower", "middle", "outer"]);
    let (tag, values) = store.exception(exception).unwrap();
    assert_eq!(Some(tag), instance.get_tag(&store, "e"));
    assert_eq!(values, [Val::I32(9), Val::F32(2.5f32.to_bits())]);
    assert_eq!(
        tag.ty(&store),
        &FuncType::new([ValType::I32, ValType::F32], [])
    );
    let again = call(&mut store, instance, "outer", &[]).unwrap_err();
    assert_ne!(
        again.exception(),
        Some(exception),
        "a new throw is a new exception"
    );
}

const HOST_CROSSING: &str = r#"
    (module
      (import "host" "call_back" (func $call_back))
      (import "host" "throw" (func $host_throw))
      (import "host" "tag" (tag $h (param i32)))
      (tag $e (param i32))
      (func (export "inner") (param i32)
        (throw $e (local.get 0)))
      (func (export "through_host") (result i32)
        (block $caught (result i32)
          (try_table (catch $e $caught)
            (call $call_back))
          (i32.const -1)))
      (func (export "from_host") (result i32)
        (block $caught (result i32)
          (try_table (catch $h $caught)
            (call $host_throw))
          (i32.const -1))))
"#;

/// wasm → host → wasm that throws: the exception leaves the inner guest call as an error, the
/// host function returns it, and the outer wasm frame catches it. A host function can also
/// throw an exception of a tag it made.
#[test]
fn exceptions_cross_host_calls() {
    let engine = engine();
    let module = module(&engine, HOST_CROSSING);
    let mut store = Store::new(&engine);
    let tag = Tag::new(&mut store, FuncType::new([ValType::I32], [])).unwrap();
    let thrown = store.new_exception(tag, &[Val::I32(31)]).unwrap();
    let mut linker = Linker::new();
    linker
        .func("host", "call_back", FuncType::default(), |caller, _, _| {
            caller.call("inner", &[Val::I32(77)])?;
            Ok(())
        })
        .func("host", "throw", FuncType::default(), move |_, _, _| {
            Err(Trap::uncaught(thrown))
        })
        .define("host", "tag", Extern::Tag(tag));
    let instance = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(
        call(&mut store, instance, "through_host", &[]).unwrap(),
        [Val::I32(77)]
    );
    assert_eq!(
        call(&mut store, instance, "from_host", &[]).unwrap(),
        [Val::I32(31)]
    );
    let wrong = store.new_exception(tag, &[Val::I64(1)]);
    assert!(matches!(wrong, Err(Error::BadCall(_))), "{wrong:?}");
}

/// A tag import links only to a tag of the same type.
#[test]
fn a_tag_import_needs_a_tag_of_its_type() {
    let engine = engine();
    let module = module(&engine, HOST_CROSSING);
    let mut store = Store::new(&engine);
    let tag = Tag::new(&mut store, FuncType::new([ValType::I64], [])).unwrap();
    let mut linker = Linker::new();
    linker
        .func("host", "call_back", FuncType::default(), |_, _, _| Ok(()))
        .func("host", "throw", FuncType::default(), |_, _, _| Ok(()))
        .define("host", "tag", Extern::Tag(tag));
    let error = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(matches!(error, Error::Link { kind: "tag", .. }), "{error}");
}

/// Traps are not exceptions: a trap inside a `try_table` (in its body or in a function it calls)
/// ends the call even under `catch_all`.
#[test]
fn traps_inside_try_table_are_not_caught() {
    let (mut store, instance) = instantiate(
        r#"
        (module
          (func $trap (unreachable))
          (func (export "called") (result i32)
            (block $h
              (try_table (catch_all $h)
                (call $trap))
              (return (i32.const 1)))
            (i32.const 2))
          (func (export "inline") (param i32) (result i32)
            (block $h
              (try_table (catch_all $h)
                (drop (i32.div_u (i32.const 1) (local.get 0)))
                (call $trap))
              (return (i32.const 1)))
            (i32.const 2)))
        "#,
    );
    let called = trap(call(&mut store, instance, "called", &[]));
    assert_eq!(called.kind, TrapKind::UnreachableCodeReached);
    let inline = trap(call(&mut store, instance, "inline", &[Val::I32(0)]));
    assert_eq!(inline.kind, TrapKind::IntegerDivisionByZero);
    assert_eq!(
        call(&mut store, instance, "called", &[]).map_err(|e| e.to_string()),
        Err(called.to_string()),
        "the store is still usable after the traps"
    );
}

/// Throwing and catching 100,000 times (from a few frames down) leaves the native stack where it
/// was: a handler that resumed with a wrong stack pointer would leak stack on every iteration
/// and overflow long before the end. Each exception stays in the store (no collector).
#[test]
fn throwing_in_a_loop_leaks_no_native_stack() {
    const ROUNDS: i32 = 100_000;
    let (mut store, instance) = instantiate(
        r#"
        (module
          (tag $e (param i32))
          (func $throw_at (param $n i32) (param $v i32)
            (if (i32.eqz (local.get $n)) (then (throw $e (local.get $v))))
            (call $throw_at (i32.sub (local.get $n) (i32.const 1)) (local.get $v)))
          (func (export "run") (param $rounds i32) (result i64)
            (local $i i32)
            (local $caught i32)
            (local $sum i64)
            (loop $next
              (block $caught (result i32)
                (try_table (catch $e $caught)
                  (call $throw_at (i32.const 4) (local.get $i)))
                (unreachable))
              (local.set $caught)
              (local.set $sum
                (i64.add (local.get $sum) (i64.extend_i32_u (local.get $caught))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $next (i32.lt_u (local.get $i) (local.get $rounds))))
            (local.get $sum)))
        "#,
    );
    let got = call(&mut store, instance, "run", &[Val::I32(ROUNDS)]).unwrap();
    let n = i64::from(ROUNDS);
    assert_eq!(got, [Val::I64(n * (n - 1) / 2)]);
    assert_eq!(store.exception_count(), ROUNDS as usize);
}

/// An exception reference passed into guest code must be one of the store's own: one of
/// another store is refused before the call; one of this store is thrown as it is.
#[test]
fn exception_arguments_must_belong_to_the_store() {
    let wat = r#"
        (module
          (tag $e (export "e") (param i32))
          (func (export "rethrow") (param exnref) (result i32)
            (block $caught (result i32)
              (try_table (catch $e $caught)
                (throw_ref (local.get 0)))
              (i32.const -1))))
    "#;
    let (mut store, instance) = instantiate(wat);
    let tag = instance.get_tag(&store, "e").unwrap();
    let own = store.new_exception(tag, &[Val::I32(12)]).unwrap();
    let got = call(&mut store, instance, "rethrow", &[Val::ExnRef(Some(own))]).unwrap();
    assert_eq!(got, [Val::I32(12)]);
    let null = trap(call(&mut store, instance, "rethrow", &[Val::ExnRef(None)]));
    assert_eq!(null.kind, TrapKind::NullReference);

    let (mut other, other_instance) = instantiate(wat);
    let other_tag = other_instance.get_tag(&other, "e").unwrap();
    let foreign = other.new_exception(other_tag, &[Val::I32(1)]).unwrap();
    let refused = call(
        &mut store,
        instance,
        "rethrow",
        &[Val::ExnRef(Some(foreign))],
    );
    assert!(matches!(refused, Err(Error::BadCall(_))), "{refused:?}");
}
