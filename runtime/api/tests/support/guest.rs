//! What the end-to-end tests share: an instance of a module written in the text format, and
//! calls to its exports that end in results or a trap.

use wasm_prof_runtime::{Engine, Error, Instance, Linker, Module, Store, TrapKind, Val};

/// A new store and in it an instance of the module `wat` (which imports nothing).
pub fn instantiate(engine: &Engine, wat: &str) -> (Store, Instance) {
    let module = Module::new(engine, &wat::parse_str(wat).unwrap()).unwrap();
    let mut store = Store::new(engine);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// Calls export `name`: its results, or the kind of trap it ended in (any other error fails
/// the test).
pub fn call(
    store: &mut Store,
    instance: Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, TrapKind> {
    let func = instance.get_func(store, name).unwrap();
    match func.call(store, args) {
        Ok(results) => Ok(results),
        Err(Error::Trap(trap)) => Err(trap.kind),
        Err(other) => panic!("{name}: expected results or a trap, got {other}"),
    }
}
