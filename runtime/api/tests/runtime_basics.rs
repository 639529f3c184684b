//! End-to-end checks of the runtime on small modules written in the text format.

use wasm_prof_runtime::{
    Config, Engine, Error, FuncType, Linker, Module, Store, TrapKind, Val, ValType,
};

fn engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).unwrap()
}

fn instantiate(engine: &Engine, wat: &str) -> (Store, wasm_prof_runtime::Instance) {
    let module = Module::new(engine, &wat::parse_str(wat).unwrap()).unwrap();
    let mut store = Store::new(engine);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    (store, instance)
}

fn call(
    store: &mut Store,
    instance: wasm_prof_runtime::Instance,
    name: &str,
    args: &[Val],
) -> wasm_prof_runtime::Result<Vec<Val>> {
    let func = instance.get_func(store, name).unwrap();
    func.call(store, args)
}

fn trap_kind(result: wasm_prof_runtime::Result<Vec<Val>>) -> TrapKind {
    match result {
        Err(Error::Trap(trap)) => trap.kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

const GUEST: &str = r#"
(module
  (memory (export "memory") 1 2)
  (table 2 funcref)
  (elem (i32.const 0) $add $fac)
  (type $binop (func (param i32 i32) (result i32)))
  (func $add (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func $fac (export "fac") (param i64) (result i64)
    local.get 0 i64.eqz
    if (result i64) i64.const 1
    else local.get 0 local.get 0 i64.const 1 i64.sub call $fac i64.mul end)
  (func (export "indirect") (param i32 i32 i32) (result i32)
    local.get 1 local.get 2 local.get 0 call_indirect (type $binop))
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "boom") unreachable)
  (func $recurse (export "recurse") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $recurse)
  (func (export "multi") (result i32 i64 f32 f64 i32 i32) i32.const 1 i64.const 2 f32.const 3 f64.const 4 i32.const 5 i32.const 6)
)"#;

#[test]
fn calls_compute_and_traps_come_back_as_errors() {
    let engine = engine();
    let (mut store, instance) = instantiate(&engine, GUEST);
    assert_eq!(
        call(&mut store, instance, "add", &[Val::I32(40), Val::I32(2)]).unwrap(),
        vec![Val::I32(42)]
    );
    assert_eq!(
        call(&mut store, instance, "fac", &[Val::I64(20)]).unwrap(),
        vec![Val::I64(2432902008176640000)]
    );
    assert_eq!(
        call(
            &mut store,
            instance,
            "indirect",
            &[Val::I32(0), Val::I32(5), Val::I32(6)]
        )
        .unwrap(),
        vec![Val::I32(11)]
    );
    assert_eq!(
        trap_kind(call(
            &mut store,
            instance,
            "indirect",
            &[Val::I32(1), Val::I32(5), Val::I32(6)]
        )),
        TrapKind::BadSignature
    );
    assert_eq!(
        trap_kind(call(
            &mut store,
            instance,
            "indirect",
            &[Val::I32(7), Val::I32(5), Val::I32(6)]
        )),
        TrapKind::TableOutOfBounds
    );
    call(
        &mut store,
        instance,
        "store",
        &[Val::I32(100), Val::I32(0x1234_5678)],
    )
    .unwrap();
    assert_eq!(
        call(&mut store, instance, "load", &[Val::I32(100)]).unwrap(),
        vec![Val::I32(0x1234_5678)]
    );
    assert_eq!(
        trap_kind(call(&mut store, instance, "load", &[Val::I32(65534)])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        call(&mut store, instance, "grow", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(1)]
    );
    assert_eq!(
        call(&mut store, instance, "load", &[Val::I32(65536)]).unwrap(),
        vec![Val::I32(0)]
    );
    assert_eq!(
        call(&mut store, instance, "grow", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(-1)]
    );
    assert_eq!(
        trap_kind(call(
            &mut store,
            instance,
            "div",
            &[Val::I32(1), Val::I32(0)]
        )),
        TrapKind::IntegerDivisionByZero
    );
    assert_eq!(
        trap_kind(call(
            &mut store,
            instance,
            "div",
            &[Val::I32(i32::MIN), Val::I32(-1)]
        )),
        TrapKind::IntegerOverflow
    );
    let err = call(&mut store, instance, "boom", &[]).unwrap_err();
    let Error::Trap(trap) = err else { panic!() };
    assert_eq!(trap.kind, TrapKind::UnreachableCodeReached);
    assert_eq!(trap.func_index(), Some(7));
    assert_eq!(
        trap_kind(call(&mut store, instance, "recurse", &[Val::I32(0)])),
        TrapKind::StackOverflow
    );
    // The store still works after every trap.
    assert_eq!(
        call(&mut store, instance, "add", &[Val::I32(1), Val::I32(2)]).unwrap(),
        vec![Val::I32(3)]
    );
    assert_eq!(
        call(&mut store, instance, "multi", &[]).unwrap(),
        vec![
            Val::I32(1),
            Val::I64(2),
            Val::F32(3.0f32.to_bits()),
            Val::F64(4.0f64.to_bits()),
            Val::I32(5),
            Val::I32(6)
        ]
    );
}

#[test]
fn host_functions_are_called_and_their_errors_trap() {
    let engine = engine();
    let wat = r#"(module
        (import "host" "double" (func $double (param i32) (result i32)))
        (import "host" "fail" (func $fail))
        (memory (export "memory") 1)
        (func (export "run") (param i32) (result i32) local.get 0 call $double i32.const 1 i32.add)
        (func (export "fail") call $fail))"#;
    let module = Module::new(&engine, &wat::parse_str(wat).unwrap()).unwrap();
    let mut linker = Linker::new();
    linker.func(
        "host",
        "double",
        FuncType::new([ValType::I32], [ValType::I32]),
        |caller, args, results| {
            let Val::I32(x) = args[0] else { unreachable!() };
            caller.memory().unwrap()[0] = 7;
            results[0] = Val::I32(x * 2);
            Ok(())
        },
    );
    linker.func("host", "fail", FuncType::default(), |_, _, _| {
        Err(wasm_prof_runtime::Trap::host("no luck"))
    });
    let mut store = Store::new(&engine);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(
        call(&mut store, instance, "run", &[Val::I32(20)]).unwrap(),
        vec![Val::I32(41)]
    );
    assert_eq!(
        instance.get_memory(&store, "memory").unwrap().data(&store)[0],
        7
    );
    let err = call(&mut store, instance, "fail", &[]).unwrap_err();
    assert!(err.to_string().contains("no luck"), "{err}");
}

#[test]
fn typed_calls_check_the_signature_once() {
    let engine = engine();
    let (mut store, instance) = instantiate(&engine, GUEST);
    let add = instance.get_func(&store, "add").unwrap();
    let typed = add.typed::<(i32, i32), i32>(&store).unwrap();
    assert_eq!(typed.call(&mut store, (40, 2)).unwrap(), 42);
    assert!(add.typed::<i64, i32>(&store).is_err());
    let multi = instance.get_func(&store, "multi").unwrap();
    let typed = multi
        .typed::<(), (i32, i64, f32, f64, i32, i32)>(&store)
        .unwrap();
    assert_eq!(typed.call(&mut store, ()).unwrap(), (1, 2, 3.0, 4.0, 5, 6));
}

/// Handles carry their store: a function of one store called with another, or an item of one
/// store offered as another store's import, is an error — never a silent index into the
/// wrong store's items (here, the other store's own function 0).
#[test]
fn a_handle_of_another_store_is_an_error() {
    let engine = engine();
    let wat = r#"(module
        (memory (export "memory") 1)
        (func (export "answer") (result i32) i32.const 42))"#;
    let (mut first, first_instance) = instantiate(&engine, wat);
    let (mut second, _) = instantiate(&engine, wat);
    let answer = first_instance.get_func(&first, "answer").unwrap();
    assert_eq!(answer.call(&mut first, &[]).unwrap(), [Val::I32(42)]);
    match answer.call(&mut second, &[]) {
        Err(Error::BadCall(message)) => assert!(message.contains("another store"), "{message}"),
        other => panic!("expected a bad call, got {other:?}"),
    }

    let memory = first_instance.get_memory(&first, "memory").unwrap();
    let importer = Module::new(
        &engine,
        &wat::parse_str(r#"(module (import "host" "memory" (memory 1)))"#).unwrap(),
    )
    .unwrap();
    let mut linker = Linker::new();
    linker.define("host", "memory", wasm_prof_runtime::Extern::Memory(memory));
    match linker.instantiate(&mut second, &importer) {
        Err(Error::Link { reason, .. }) => assert!(reason.contains("another store"), "{reason}"),
        Err(other) => panic!("expected a link error, got {other}"),
        Ok(_) => panic!("a foreign memory was imported"),
    }
    assert!(linker.instantiate(&mut first, &importer).is_ok());
}

/// Accessors that cannot return an error refuse a foreign handle loudly.
#[test]
#[should_panic(expected = "does not belong to")]
fn reading_a_foreign_memory_panics_with_a_clear_message() {
    let engine = engine();
    let wat = r#"(module (memory (export "memory") 1))"#;
    let (first, instance) = instantiate(&engine, wat);
    let (second, _) = instantiate(&engine, wat);
    let memory = instance.get_memory(&first, "memory").unwrap();
    let _ = memory.data(&second);
}
