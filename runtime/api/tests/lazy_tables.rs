//! Lazily initialised tables and function references, seen from outside: whatever order
//! elements are first read, written, copied, grown or shared in, every read returns what eager
//! initialisation would have put there. Each module calls through elements it has not touched
//! yet after the operation under test, so a resolution that undid a write, missed a segment
//! or resolved against the wrong instance shows as a wrong result or a missing trap.

use wasm_prof_runtime::{
    Config, Engine, Error, Extern, Instance, Linker, Module, Store, TrapKind, Val,
};

fn engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).unwrap()
}

fn instantiate(engine: &Engine, store: &mut Store, linker: &Linker, wat: &str) -> Instance {
    let module = Module::new(engine, &wat::parse_str(wat).unwrap()).unwrap();
    linker.instantiate(store, &module).unwrap()
}

fn call_i32(store: &mut Store, instance: Instance, name: &str, args: &[i32]) -> Result<i32, Error> {
    let args: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
    let results = instance.get_func(store, name).unwrap().call(store, &args)?;
    match results.as_slice() {
        [Val::I32(v)] => Ok(*v),
        other => panic!("{name} returned {other:?}"),
    }
}

/// Calls an export that returns nothing.
fn call_void(store: &mut Store, instance: Instance, name: &str, args: &[i32]) {
    let args: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
    let results = instance
        .get_func(store, name)
        .unwrap()
        .call(store, &args)
        .unwrap();
    assert!(results.is_empty(), "{name} returned {results:?}");
}

fn trap_kind(result: Result<i32, Error>) -> TrapKind {
    match result {
        Err(Error::Trap(trap)) => trap.kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// A table of 8 whose elements 1..=5 hold functions returning 10, 11, 12, 13, 14 — the second
/// segment overrides the first at elements 4 and 5 — and 0, 6 and 7 are null.
const TABLE: &str = r#"
    (module
      (type $get (func (result i32)))
      (table $t (export "table") 8 16 funcref)
      (func $f10 (result i32) (i32.const 10))
      (func $f11 (result i32) (i32.const 11))
      (func $f12 (result i32) (i32.const 12))
      (func $f99 (result i32) (i32.const 99))
      (func $f13 (result i32) (i32.const 13))
      (func $f14 (result i32) (i32.const 14))
      (elem (table $t) (i32.const 1) func $f10 $f11 $f12 $f99 $f99)
      (elem (table $t) (i32.const 4) func $f13 $f14)
      (func (export "call") (param i32) (result i32)
        (call_indirect $t (type $get) (local.get 0)))
      (func (export "is_null") (param i32) (result i32)
        (ref.is_null (table.get $t (local.get 0))))
      (func (export "set_null") (param i32)
        (table.set $t (local.get 0) (ref.null func)))
      (func (export "set_f99") (param i32)
        (table.set $t (local.get 0) (ref.func $f99)))
      (func (export "copy") (param i32 i32 i32)
        (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
      (func (export "fill_null") (param i32 i32)
        (table.fill $t (local.get 0) (ref.null func) (local.get 1)))
      (func (export "grow") (param i32) (result i32)
        (table.grow $t (ref.null func) (local.get 0)))
      (func (export "size") (result i32) (table.size $t)))
"#;

fn table_instance() -> (Store, Instance) {
    let engine = engine();
    let mut store = Store::new(&engine);
    let instance = instantiate(&engine, &mut store, &Linker::new(), TABLE);
    (store, instance)
}

/// What `call` returns for elements 0..8: `None` for a null element (a trap).
fn contents(store: &mut Store, instance: Instance) -> Vec<Option<i32>> {
    (0..8)
        .map(|i| match call_i32(store, instance, "call", &[i]) {
            Ok(v) => Some(v),
            Err(Error::Trap(trap)) if trap.kind == TrapKind::IndirectCallToNull => None,
            Err(other) => panic!("element {i}: {other:?}"),
        })
        .collect()
}

const INITIAL: [Option<i32>; 8] = [
    None,
    Some(10),
    Some(11),
    Some(12),
    Some(13),
    Some(14),
    None,
    None,
];

#[test]
fn first_reads_see_the_segments_in_order() {
    let (mut store, instance) = table_instance();
    // Read from the end backwards, so no element is resolved by reading a neighbour.
    for i in (0..8).rev() {
        let null = call_i32(&mut store, instance, "is_null", &[i]).unwrap();
        assert_eq!(null == 1, INITIAL[i as usize].is_none(), "element {i}");
    }
    assert_eq!(contents(&mut store, instance), INITIAL);
}

#[test]
fn a_null_written_before_the_first_read_stays_null() {
    let (mut store, instance) = table_instance();
    call_void(&mut store, instance, "set_null", &[2]);
    assert_eq!(
        trap_kind(call_i32(&mut store, instance, "call", &[2])),
        TrapKind::IndirectCallToNull
    );
    let mut expected = INITIAL;
    expected[2] = None;
    assert_eq!(contents(&mut store, instance), expected);
}

#[test]
fn a_write_keeps_every_untouched_element() {
    let (mut store, instance) = table_instance();
    call_void(&mut store, instance, "set_f99", &[6]);
    let mut expected = INITIAL;
    expected[6] = Some(99);
    assert_eq!(contents(&mut store, instance), expected);
}

#[test]
fn copy_fill_and_grow_see_the_initial_functions() {
    let (mut store, instance) = table_instance();
    // Copy elements 3..6 over 5..8, before any of them was read.
    call_void(&mut store, instance, "copy", &[5, 3, 3]);
    let mut expected = INITIAL;
    expected[5] = Some(12);
    expected[6] = Some(13);
    expected[7] = Some(14);
    assert_eq!(contents(&mut store, instance), expected);

    let (mut store, instance) = table_instance();
    call_void(&mut store, instance, "fill_null", &[2, 2]);
    let mut expected = INITIAL;
    expected[2] = None;
    expected[3] = None;
    assert_eq!(contents(&mut store, instance), expected);

    let (mut store, instance) = table_instance();
    assert_eq!(call_i32(&mut store, instance, "grow", &[4]).unwrap(), 8);
    assert_eq!(call_i32(&mut store, instance, "size", &[]).unwrap(), 12);
    assert_eq!(contents(&mut store, instance), INITIAL);
}

#[test]
fn the_host_reads_the_initial_functions() {
    let (mut store, instance) = table_instance();
    let Some(Extern::Table(table)) = instance.get_export(&store, "table") else {
        panic!("no exported table");
    };
    for (i, expected) in INITIAL.iter().enumerate() {
        let value = table.get(&store, i as u32).unwrap();
        match (value, expected) {
            (Val::FuncRef(None), None) | (Val::FuncRef(Some(_)), Some(_)) => {}
            other => panic!("element {i}: {other:?}"),
        }
    }
    // Reading through the host resolved nothing for compiled code to trip over.
    assert_eq!(contents(&mut store, instance), INITIAL);
}

/// Imports the table, calls through it, and writes its own segment into it at instantiation.
const IMPORTER: &str = r#"
    (module
      (type $get (func (result i32)))
      (import "a" "table" (table $t 8 funcref))
      (func $f20 (result i32) (i32.const 20))
      (elem (table $t) (i32.const 6) func $f20)
      (func (export "call") (param i32) (result i32)
        (call_indirect $t (type $get) (local.get 0))))
"#;

/// An instance of [`TABLE`] and a linker that offers its table as `a.table`.
fn owner_and_linker(engine: &Engine, store: &mut Store) -> (Instance, Linker) {
    let owner = instantiate(engine, store, &Linker::new(), TABLE);
    let table = owner.get_export(store, "table").unwrap();
    let mut linker = Linker::new();
    linker.define("a", "table", table);
    (owner, linker)
}

#[test]
fn another_instance_resolves_and_writes_a_shared_table() {
    let engine = engine();
    let mut store = Store::new(&engine);
    let (owner, linker) = owner_and_linker(&engine, &mut store);
    let importer = instantiate(&engine, &mut store, &linker, IMPORTER);
    let mut expected = INITIAL;
    expected[6] = Some(20);
    // The importer reads first: elements it never wrote resolve to the owner's functions.
    assert_eq!(contents(&mut store, importer), expected);
    assert_eq!(contents(&mut store, owner), expected);
}

#[test]
fn ref_func_and_a_table_element_are_one_reference() {
    let engine = engine();
    let mut store = Store::new(&engine);
    let instance = instantiate(
        &engine,
        &mut store,
        &Linker::new(),
        r#"
        (module
          (type $get (func (result i32)))
          (table $t 2 funcref)
          (func $f (result i32) (i32.const 7))
          (elem (table $t) (i32.const 0) func $f)
          (func (export "same") (result i32)
            (table.set $t (i32.const 1) (ref.func $f))
            (i32.add
              (call_indirect $t (type $get) (i32.const 0))
              (call_indirect $t (type $get) (i32.const 1)))))
        "#,
    );
    assert_eq!(call_i32(&mut store, instance, "same", &[]).unwrap(), 14);
}

#[test]
fn a_segment_out_of_bounds_still_traps_after_the_earlier_ones() {
    let engine = engine();
    let mut store = Store::new(&engine);
    let (owner, linker) = owner_and_linker(&engine, &mut store);
    let module = Module::new(
        &engine,
        &wat::parse_str(
            r#"
            (module
              (import "a" "table" (table $t 8 funcref))
              (func $f30 (result i32) (i32.const 30))
              (elem (table $t) (i32.const 0) func $f30)
              (elem (table $t) (i32.const 7) func $f30 $f30))
            "#,
        )
        .unwrap(),
    )
    .unwrap();
    match linker.instantiate(&mut store, &module) {
        Err(Error::Trap(trap)) => assert_eq!(trap.kind, TrapKind::TableOutOfBounds),
        other => panic!("expected an out-of-bounds trap, got {other:?}"),
    }
    // The first segment was applied before the second trapped.
    let mut expected = INITIAL;
    expected[0] = Some(30);
    assert_eq!(contents(&mut store, owner), expected);
}
