//! Process-wide ids for function signatures: `call_indirect` compares these, so structurally
//! equal signatures from different modules must get the same id.

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};

use wasm_prof_environ::FuncType;

static REGISTRY: OnceLock<Mutex<HashMap<FuncType, u32>>> = OnceLock::new();

/// The id of `ty`, the same for every structurally equal signature in this process.
pub(crate) fn intern(ty: &FuncType) -> u32 {
    let mut map = REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let next = map.len() as u32;
    *map.entry(ty.clone()).or_insert(next)
}
