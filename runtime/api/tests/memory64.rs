//! 64-bit memories and tables (memory64), as a user of the runtime sees them: i64 addresses
//! and sizes, accesses past the end (above 4 GiB, or where `address + offset` overflows 64
//! bits) trap instead of wrapping, growing past what the runtime reserves returns -1, a
//! memory too large to reserve is refused cleanly, and address types must match at link time.

#[path = "support/guest.rs"]
mod guest;

use wasm_prof_runtime::{
    AddressType, Config, Engine, Error, Extern, Instance, Limits, Linker, Memory, MemoryType,
    Module, Store, TrapKind, Val,
};

fn engine(multi_memory: bool) -> Engine {
    let mut config = Config::new();
    config.cache(false).multi_memory(multi_memory);
    Engine::new(config).unwrap()
}

/// A one-page 64-bit memory whose byte 0x10 is 0x2a (from an i64 data offset), a 64-bit table
/// of two functions, and one export per operation under test.
const MEMORY64: &str = r#"
(module
  (memory i64 1)
  (data (i64.const 0x10) "\2a")
  (table i64 2 funcref)
  (elem (table 0) (i64.const 1) func $seven)
  (type $to_i32 (func (result i32)))
  (func $seven (result i32) (i32.const 7))
  (func (export "load8") (param i64) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store64") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "load_huge_offset") (param i64) (result i64)
    (i64.load offset=0xfffffffffffffff0 (local.get 0)))
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "fill") (param i64 i64) (memory.fill (local.get 0) (i32.const 0xff) (local.get 1)))
  (func (export "call") (param i64) (result i32) (call_indirect (type $to_i32) (local.get 0)))
  (func (export "is_null") (param i64) (result i32) (ref.is_null (table.get (local.get 0))))
  (func (export "table_size") (result i64) (table.size))
  (func (export "table_grow") (param i64) (result i64) (table.grow (ref.null func) (local.get 0))))
"#;

fn instantiate(text: &str, multi_memory: bool) -> (Store, Instance) {
    guest::instantiate(&engine(multi_memory), text)
}

/// Calls export `name`: its first result (`None` when it has none), or the trap's kind.
fn call(
    store: &mut Store,
    instance: Instance,
    name: &str,
    args: &[Val],
) -> Result<Option<Val>, TrapKind> {
    guest::call(store, instance, name, args).map(|results| results.first().copied())
}

#[test]
fn addresses_are_i64_and_accesses_above_4_gib_trap() {
    let (mut store, instance) = instantiate(MEMORY64, false);
    let mut run = |name, args: &[Val]| call(&mut store, instance, name, args);
    assert_eq!(run("load8", &[Val::I64(0x10)]), Ok(Some(Val::I32(0x2a))));
    assert_eq!(run("store64", &[Val::I64(0xfff8), Val::I64(-1)]), Ok(None));
    assert_eq!(run("load8", &[Val::I64(0xffff)]), Ok(Some(Val::I32(0xff))));
    for address in [0x1_0000, 0x1_0000_0010, 1 << 40, i64::MAX, -1] {
        assert_eq!(
            run("load8", &[Val::I64(address)]),
            Err(TrapKind::MemoryOutOfBounds),
            "load at {address:#x}"
        );
        assert_eq!(
            run("store64", &[Val::I64(address), Val::I64(0)]),
            Err(TrapKind::MemoryOutOfBounds),
            "store at {address:#x}"
        );
    }
}

#[test]
fn an_address_plus_offset_that_overflows_traps_rather_than_wrapping() {
    let (mut store, instance) = instantiate(MEMORY64, false);
    // 0x20 + 0xffff_ffff_ffff_fff0 wraps to 0x10, where the data segment put 0x2a.
    assert_eq!(
        call(&mut store, instance, "load_huge_offset", &[Val::I64(0x20)]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&mut store, instance, "load_huge_offset", &[Val::I64(0)]),
        Err(TrapKind::MemoryOutOfBounds)
    );
}

#[test]
fn bulk_operations_check_64_bit_ranges() {
    let (mut store, instance) = instantiate(MEMORY64, false);
    let mut run = |name, args: &[Val]| call(&mut store, instance, name, args);
    assert_eq!(run("fill", &[Val::I64(0xfff0), Val::I64(0x10)]), Ok(None));
    assert_eq!(run("load8", &[Val::I64(0xffff)]), Ok(Some(Val::I32(0xff))));
    for (at, len) in [(0xfff0, 0x11), (1 << 32, 1), (0x10, -1), (-1, 2)] {
        assert_eq!(
            run("fill", &[Val::I64(at), Val::I64(len)]),
            Err(TrapKind::MemoryOutOfBounds),
            "fill {len:#x} bytes at {at:#x}"
        );
    }
}

#[test]
fn memory_grows_and_reports_its_size_as_i64() {
    let (mut store, instance) = instantiate(MEMORY64, false);
    let mut run = |name, args: &[Val]| call(&mut store, instance, name, args).unwrap();
    assert_eq!(run("size", &[]), Some(Val::I64(1)));
    assert_eq!(run("grow", &[Val::I64(2)]), Some(Val::I64(1)));
    assert_eq!(run("size", &[]), Some(Val::I64(3)));
    assert_eq!(run("load8", &[Val::I64(0x2_ffff)]), Some(Val::I32(0)));
    // Past the 4 GiB this runtime reserves per memory, and past any u32 page count.
    for delta in [0x1_0000, 1 << 32, 1 << 48, -1] {
        assert_eq!(
            run("grow", &[Val::I64(delta)]),
            Some(Val::I64(-1)),
            "{delta}"
        );
    }
    assert_eq!(run("size", &[]), Some(Val::I64(3)));
}

#[test]
fn table64_indices_are_checked_in_full_and_sizes_are_i64() {
    let (mut store, instance) = instantiate(MEMORY64, false);
    let mut run = |name, args: &[Val]| call(&mut store, instance, name, args);
    assert_eq!(run("table_size", &[]), Ok(Some(Val::I64(2))));
    assert_eq!(run("call", &[Val::I64(1)]), Ok(Some(Val::I32(7))));
    assert_eq!(
        run("call", &[Val::I64(0)]),
        Err(TrapKind::IndirectCallToNull)
    );
    // The low 32 bits are 1, a valid index: the checks must see all 64.
    assert_eq!(
        run("call", &[Val::I64(0x1_0000_0001)]),
        Err(TrapKind::TableOutOfBounds)
    );
    assert_eq!(
        run("is_null", &[Val::I64(0x1_0000_0001)]),
        Err(TrapKind::TableOutOfBounds)
    );
    assert_eq!(run("table_grow", &[Val::I64(3)]), Ok(Some(Val::I64(2))));
    assert_eq!(run("table_size", &[]), Ok(Some(Val::I64(5))));
    assert_eq!(run("is_null", &[Val::I64(4)]), Ok(Some(Val::I32(1))));
    for delta in [1 << 32, -1] {
        assert_eq!(
            run("table_grow", &[Val::I64(delta)]),
            Ok(Some(Val::I64(-1))),
            "{delta}"
        );
    }
}

#[test]
fn memory_copy_between_a_32_bit_and_a_64_bit_memory() {
    let text = r#"
      (module
        (memory $small 1)
        (memory $big i64 1)
        (data (memory $big) (i64.const 0x100) "wasm")
        (func (export "copy") (param i32 i64 i32)
          (memory.copy $small $big (local.get 0) (local.get 1) (local.get 2)))
        (func (export "peek") (param i32) (result i32) (i32.load $small (local.get 0))))
    "#;
    let (mut store, instance) = instantiate(text, true);
    let mut run = |name, args: &[Val]| call(&mut store, instance, name, args);
    let copy = [Val::I32(8), Val::I64(0x100), Val::I32(4)];
    assert_eq!(run("copy", &copy), Ok(None));
    let wasm = i32::from_le_bytes(*b"wasm");
    assert_eq!(run("peek", &[Val::I32(8)]), Ok(Some(Val::I32(wasm))));
    let far = [Val::I32(8), Val::I64(1 << 32), Val::I32(4)];
    assert_eq!(run("copy", &far), Err(TrapKind::MemoryOutOfBounds));
}

#[test]
fn a_memory_larger_than_the_reservation_is_refused_cleanly() {
    let engine = engine(false);
    // 2^32 pages is a valid i64 minimum, far beyond the 4 GiB reserved per memory.
    let wasm = wat::parse_str("(module (memory i64 0x1_0000_0000))").unwrap();
    let module = Module::new(&engine, &wasm).unwrap();
    let mut store = Store::new(&engine);
    match Linker::new().instantiate(&mut store, &module) {
        Err(Error::Limit(message)) => assert!(!message.contains('\n'), "{message}"),
        Err(other) => panic!("expected a resource limit, got {other}"),
        Ok(_) => panic!("a memory of 2^32 pages was created"),
    }
}

#[test]
fn imports_match_only_memories_of_the_same_address_type() {
    let engine = engine(false);
    let wasm = wat::parse_str(r#"(module (import "host" "memory" (memory i64 1)))"#).unwrap();
    let module = Module::new(&engine, &wasm).unwrap();
    let limits = Limits { min: 1, max: None };
    for (address_type, links) in [(AddressType::I32, false), (AddressType::I64, true)] {
        let mut store = Store::new(&engine);
        let ty = MemoryType {
            address_type,
            limits,
        };
        let memory = Memory::new(&mut store, ty).unwrap();
        let mut linker = Linker::new();
        linker.define("host", "memory", Extern::Memory(memory));
        let linked = linker.instantiate(&mut store, &module);
        assert_eq!(linked.is_ok(), links, "{address_type} memory");
        if let Err(error) = linked {
            assert!(matches!(error, Error::Link { .. }), "{error}");
        }
    }
}
