//! Typed function references and type canonicalisation through the embedding API: calls
//! through typed references, null checks, what the host may pass where a typed reference is
//! expected, linking by canonical type across modules, indirect calls to declared subtypes,
//! and GC modules refused in one line.

use wasm_prof_runtime::{
    Config, Engine, Error, FuncType, Instance, Linker, Module, Store, TrapKind, Val, ValType,
};

fn engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).unwrap()
}

fn module(engine: &Engine, wat: &str) -> Module {
    Module::new(engine, &wat::parse_str(wat).unwrap()).unwrap()
}

fn instantiate(engine: &Engine, store: &mut Store, wat: &str) -> Instance {
    Linker::new()
        .instantiate(store, &module(engine, wat))
        .unwrap()
}

fn call(
    store: &mut Store,
    instance: Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, Error> {
    instance.get_func(store, name).unwrap().call(store, args)
}

fn trap_kind(result: Result<Vec<Val>, Error>) -> TrapKind {
    match result {
        Err(Error::Trap(trap)) => trap.kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

const ADDERS: &str = r#"
    (module
      (type $binop (func (param i32 i32) (result i32)))
      (type $unop (func (param i32) (result i32)))
      (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
      (func $neg (type $unop) (i32.sub (i32.const 0) (local.get 0)))
      (elem declare func $add $neg)
      (func (export "add_ref") (result (ref $binop)) (ref.func $add))
      (func (export "neg_ref") (result (ref $unop)) (ref.func $neg))
      (func (export "apply") (param $f (ref null $binop)) (param i32 i32) (result i32)
        (call_ref $binop (local.get 1) (local.get 2) (local.get $f)))
      (func (export "apply_non_null") (param $f (ref $binop)) (param i32) (result i32)
        (call_ref $binop (local.get 1) (local.get 1) (local.get $f)))
      (func (export "is_null_branch") (param $f (ref null $binop)) (result i32)
        (block $null
          (br_on_null $null (local.get $f))
          (drop)
          (return (i32.const 0)))
        (i32.const 1))
      (func (export "tail_apply") (param $f (ref null $binop)) (result i32)
        (return_call_ref $binop (i32.const 20) (i32.const 22) (local.get $f))))
"#;

/// An engine, a store and in it an instance of the module `wat`.
fn instance_of(wat: &str) -> (Engine, Store, Instance) {
    let engine = engine();
    let mut store = Store::new(&engine);
    let instance = instantiate(&engine, &mut store, wat);
    (engine, store, instance)
}

/// An engine, a store and in it an instance of [`ADDERS`].
fn adders() -> (Engine, Store, Instance) {
    instance_of(ADDERS)
}

/// A reference returned by one export calls through `call_ref` in another, on the normal and
/// the tail path; a null reference traps with "null reference" and `br_on_null` sees it.
#[test]
fn call_ref_calls_through_a_typed_reference_and_traps_on_null() {
    let (_engine, mut store, instance) = adders();
    let add = call(&mut store, instance, "add_ref", &[]).unwrap()[0];
    let sum = call(
        &mut store,
        instance,
        "apply",
        &[add, Val::I32(2), Val::I32(40)],
    )
    .unwrap();
    assert_eq!(sum, [Val::I32(42)]);
    assert_eq!(
        call(&mut store, instance, "tail_apply", &[add]).unwrap(),
        [Val::I32(42)]
    );
    let null = Val::FuncRef(None);
    let result = call(
        &mut store,
        instance,
        "apply",
        &[null, Val::I32(1), Val::I32(2)],
    );
    assert_eq!(trap_kind(result), TrapKind::NullReference);
    assert_eq!(
        trap_kind(call(&mut store, instance, "tail_apply", &[null])),
        TrapKind::NullReference
    );
    assert_eq!(
        call(&mut store, instance, "is_null_branch", &[null]).unwrap(),
        [Val::I32(1)]
    );
    assert_eq!(
        call(&mut store, instance, "is_null_branch", &[add]).unwrap(),
        [Val::I32(0)]
    );
}

/// The host cannot smuggle a reference of the wrong type (or null) into a parameter typed
/// `(ref $binop)`: compiled code trusts that type and calls through it without a check.
#[test]
fn the_host_cannot_pass_a_reference_of_another_type_or_null_where_a_typed_one_is_expected() {
    let (_engine, mut store, instance) = adders();
    let neg = call(&mut store, instance, "neg_ref", &[]).unwrap()[0];
    let add = call(&mut store, instance, "add_ref", &[]).unwrap()[0];
    for bad in [neg, Val::FuncRef(None), Val::I32(0)] {
        let result = call(&mut store, instance, "apply_non_null", &[bad, Val::I32(1)]);
        assert!(
            matches!(result, Err(Error::BadCall(_))),
            "{bad:?}: {result:?}"
        );
    }
    let result = call(
        &mut store,
        instance,
        "apply",
        &[neg, Val::I32(1), Val::I32(2)],
    );
    assert!(matches!(result, Err(Error::BadCall(_))), "{result:?}");
    assert_eq!(
        call(&mut store, instance, "apply_non_null", &[add, Val::I32(21)]).unwrap(),
        [Val::I32(42)]
    );
}

/// A host function that returns a reference of the wrong type for its `(ref $unop)` result
/// traps instead of handing compiled code a function it would call with the wrong signature.
#[test]
fn a_host_function_returning_a_wrongly_typed_reference_traps() {
    let (engine, mut store, adders) = adders();
    let add = call(&mut store, adders, "add_ref", &[]).unwrap()[0];
    let user = module(
        &engine,
        r#"
        (module
          (type $unop (func (param i32) (result i32)))
          (import "host" "get" (func $get (result (ref $unop))))
          (func (export "run") (result i32)
            (call_ref $unop (i32.const 5) (call $get))))
        "#,
    );
    // The host declares the import's type with canonical references: the `(ref $unop)` of
    // `adders`' `neg_ref` export is the same type.
    let unop = instance_result(&mut store, adders, "neg_ref");
    let mut linker = Linker::new();
    linker.func(
        "host",
        "get",
        FuncType::new([], [unop]),
        move |_, _, results| {
            results[0] = add;
            Ok(())
        },
    );
    let instance = linker.instantiate(&mut store, &user).unwrap();
    let result = call(&mut store, instance, "run", &[]);
    match result {
        Err(Error::Trap(trap)) => {
            assert_eq!(trap.kind, TrapKind::HostError);
            assert!(trap.to_string().contains("returned"), "{trap}");
        }
        other => panic!("expected a host-error trap, got {other:?}"),
    }
}

/// The result type of export `name` of `instance`, with canonical type references.
fn instance_result(store: &mut Store, instance: Instance, name: &str) -> ValType {
    let func = instance.get_func(store, name).unwrap();
    func.ty(store).results[0]
}

/// Two modules that declare the same recursion group link by canonical type; a structurally
/// equal function type in another group shape does not satisfy the import.
#[test]
fn imports_match_by_canonical_type_across_modules() {
    let (engine, mut store, exporter) = instance_of(
        r#"
        (module
          (rec (type $f (func (param (ref null $g)))) (type $g (func (param (ref null $f)))))
          (func (export "f") (type $f))
          (func (export "lone") (param funcref)))
        "#,
    );
    let same_group = module(
        &engine,
        r#"
        (module
          (rec (type $a (func (param (ref null $b)))) (type $b (func (param (ref null $a)))))
          (import "m" "f" (func (type $a))))
        "#,
    );
    let other_group = module(
        &engine,
        r#"
        (module
          (rec (type $a (func (param funcref))) (type $b (func)))
          (import "m" "lone" (func (type $a))))
        "#,
    );
    let mut linker = Linker::new();
    linker.instance(&store, "m", exporter);
    linker.instantiate(&mut store, &same_group).unwrap();
    match linker.instantiate(&mut store, &other_group) {
        Err(Error::Link { reason, .. }) => assert_eq!(reason, "incompatible import type"),
        other => panic!("expected a link error, got {:?}", other.map(|_| ())),
    }
}

/// `call_indirect` accepts a function whose type declares the expected (open) type as its
/// supertype, and still rejects an unrelated type.
#[test]
fn call_indirect_accepts_declared_subtypes_of_an_open_type() {
    let (_engine, mut store, instance) = instance_of(
        r#"
        (module
          (type $base (sub (func (result i32))))
          (type $derived (sub $base (func (result i32))))
          (type $other (func (result i32)))
          (func $d (type $derived) (i32.const 7))
          (func $o (type $other) (i32.const 9))
          (table funcref (elem $d $o))
          (func (export "call_base") (param i32) (result i32)
            (call_indirect (type $base) (local.get 0)))
          (func (export "call_other") (param i32) (result i32)
            (call_indirect (type $other) (local.get 0))))
        "#,
    );
    assert_eq!(
        call(&mut store, instance, "call_base", &[Val::I32(0)]).unwrap(),
        [Val::I32(7)]
    );
    assert_eq!(
        trap_kind(call(&mut store, instance, "call_base", &[Val::I32(1)])),
        TrapKind::BadSignature
    );
    assert_eq!(
        call(&mut store, instance, "call_other", &[Val::I32(1)]).unwrap(),
        [Val::I32(9)]
    );
    assert_eq!(
        trap_kind(call(&mut store, instance, "call_other", &[Val::I32(0)])),
        TrapKind::BadSignature
    );
}

/// A table declared with an initializer starts with that reference in every element.
#[test]
fn a_table_initializer_fills_every_element() {
    let (_engine, mut store, instance) = instance_of(
        r#"
        (module
          (type $t (func (result i32)))
          (func $f (type $t) (i32.const 5))
          (elem declare func $f)
          (table $tab 3 (ref $t) (ref.func $f))
          (func (export "sum") (result i32)
            (i32.add (call_indirect $tab (type $t) (i32.const 0))
                     (call_indirect $tab (type $t) (i32.const 2)))))
        "#,
    );
    assert_eq!(
        call(&mut store, instance, "sum", &[]).unwrap(),
        [Val::I32(10)]
    );
}

/// A module that needs GC is refused in one line that says so; an invalid one is invalid,
/// GC or not.
#[test]
fn gc_modules_are_refused_in_one_line_and_invalid_ones_as_invalid() {
    let engine = engine();
    let gc = wat::parse_str("(module (type (struct (field i32))))").unwrap();
    match Module::new(&engine, &gc) {
        Err(Error::Unsupported(message)) => {
            assert!(message.contains("GC"), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
        other => panic!("expected unsupported, got {:?}", other.map(|_| ())),
    }
    let invalid =
        wat::parse_str("(module (type (struct (field i32))) (func (result i32) (i64.const 0)))")
            .unwrap();
    assert!(matches!(
        Module::new(&engine, &invalid),
        Err(Error::Invalid(_))
    ));
}
