//! The linker: names host items and instance exports, resolves a module's imports against
//! them (checking types as the spec requires), and instantiates.

use std::{collections::HashMap, rc::Rc};

use wasm_prof_vm::{HostFn, StoreItem, Trap, instance, signatures};

use crate::{
    error::{Error, Result},
    module::Module,
    phases::{Phase, PhaseClock},
    store::{Extern, Func, Global, Instance, Memory, Store, Table, Tag},
    types::{ExternType, FuncType, Limits, Val},
};

enum Definition {
    Extern(Extern),
    HostFunc(FuncType, Rc<HostFn>),
}

/// Named definitions that modules' imports resolve against.
#[derive(Default)]
pub struct Linker {
    definitions: HashMap<(String, String), Definition>,
}

impl Linker {
    /// An empty linker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defines `module::name` as an item of a store.
    pub fn define(&mut self, module: &str, name: &str, item: Extern) -> &mut Self {
        self.definitions
            .insert((module.into(), name.into()), Definition::Extern(item));
        self
    }

    /// Defines `module::name` as a host function (created in each store that instantiates).
    pub fn func(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(&mut crate::Caller<'_>, &[Val], &mut [Val]) -> std::result::Result<(), Trap>
        + 'static,
    ) -> &mut Self {
        self.definitions.insert(
            (module.into(), name.into()),
            Definition::HostFunc(ty, Rc::new(func)),
        );
        self
    }

    /// Defines every export of `instance` under the module name `module`.
    pub fn instance(&mut self, store: &Store, module: &str, instance: Instance) -> &mut Self {
        for (name, item) in instance.exports(store) {
            self.definitions
                .insert((module.into(), name.into()), Definition::Extern(item));
        }
        self
    }

    /// Whether `module::name` is defined.
    pub fn is_defined(&self, module: &str, name: &str) -> bool {
        self.definitions
            .contains_key(&(module.to_string(), name.to_string()))
    }

    /// Defines every import of `module` that is still undefined: functions that trap with
    /// "unknown import" when called, zero-initialised memories, tables and globals of the
    /// imported types, and fresh tags. Lets any module instantiate so that every phase can be measured.
    ///
    /// # Errors
    /// [`Error::Limit`] when a stub memory or table cannot be created.
    pub fn define_unknown_imports_as_traps(
        &mut self,
        store: &mut Store,
        module: &Module,
    ) -> Result<()> {
        let type_ids = module.compiled().type_ids();
        for (import, type_id) in module.info().imports.iter().zip(declared_type_ids(module)) {
            if self.is_defined(&import.module, &import.name) {
                continue;
            }
            let item = match import.ty.canonicalize(type_ids) {
                ExternType::Func(ty) => {
                    let what = format!("{}::{}", import.module, import.name);
                    let trap = move |_: &mut crate::Caller<'_>, _: &[Val], _: &mut [Val]| {
                        Err(Trap::host(format!("called unknown import {what}")))
                    };
                    Extern::Func(Func::with_type_id(store, ty, type_id, Rc::new(trap)))
                }
                ExternType::Memory(ty) => Extern::Memory(Memory::new(store, ty)?),
                ExternType::Table(ty) => Extern::Table(Table::new(store, ty)?),
                ExternType::Global(ty) => {
                    Extern::Global(Global::new(store, ty, Val::default_for(ty.content))?)
                }
                ExternType::Tag(ty) => Extern::Tag(Tag::with_type_id(store, ty, type_id)),
            };
            self.define(&import.module, &import.name, item);
        }
        Ok(())
    }

    /// Resolves `module`'s imports, instantiates it in `store` and runs its start function.
    ///
    /// # Errors
    /// [`Error::Link`] for a missing or mistyped import; [`Error::Trap`] when a segment does
    /// not fit or the start function traps; [`Error::Limit`] when memory cannot be reserved.
    pub fn instantiate(&self, store: &mut Store, module: &Module) -> Result<Instance> {
        self.instantiate_with_clock(store, module, &mut PhaseClock::disabled())
    }

    /// As [`Linker::instantiate`], recording the `instantiate` and `start` phases.
    ///
    /// # Errors
    /// As [`Linker::instantiate`].
    pub fn instantiate_with_clock(
        &self,
        store: &mut Store,
        module: &Module,
        clock: &mut PhaseClock,
    ) -> Result<Instance> {
        let span = clock.start(Phase::Instantiate);
        let imports = self.resolve(store, module)?;
        let imports = imports
            .into_iter()
            .map(|item| item.item_in(store))
            .collect::<Result<Vec<_>>>()?;
        let index = instance::instantiate(&mut store.data, module.compiled(), &imports)?;
        clock.end(span);
        if let Some(start) = module.info().start {
            let span = clock.start(Phase::Start);
            let start = instance::func_handle(&mut store.data, index, start);
            let func = Func::new_in(store, start);
            func.call(store, &[])?;
            clock.end(span);
        }
        Ok(Instance::new_in(store, index))
    }

    fn resolve(&self, store: &mut Store, module: &Module) -> Result<Vec<Extern>> {
        let info = module.info();
        let type_ids = module.compiled().type_ids();
        let mut imports = Vec::with_capacity(info.imports.len());
        for (import, declared_id) in info.imports.iter().zip(declared_type_ids(module)) {
            let link_error = |reason: &str| Error::Link {
                module: import.module.clone(),
                name: import.name.clone(),
                kind: import.ty.kind(),
                reason: reason.to_string(),
            };
            let key = (import.module.clone(), import.name.clone());
            let item = match self.definitions.get(&key) {
                None => return Err(link_error("unknown import")),
                Some(Definition::Extern(item)) => *item,
                Some(Definition::HostFunc(ty, func)) => {
                    Extern::Func(Func::from_rc(store, ty.clone(), func.clone()))
                }
            };
            let Ok(handle) = item.item_in(store) else {
                return Err(link_error("defined by an item of another store"));
            };
            let fits = match (handle, &import.ty) {
                (StoreItem::Func(f), ExternType::Func(_)) => {
                    signatures::is_subtype(store.data.funcs[f].type_id, declared_id)
                }
                (StoreItem::Tag(t), ExternType::Tag(_)) => {
                    store.data.tags[t].type_id == declared_id
                }
                (StoreItem::Func(_) | StoreItem::Tag(_), _) => false,
                _ => matches(&item.ty(store), &import.ty.canonicalize(type_ids)),
            };
            if !fits {
                return Err(link_error("incompatible import type"));
            }
            imports.push(item);
        }
        Ok(imports)
    }
}

/// The process-wide id of each import's declared type: a function's or a tag's type; 0 for
/// the other kinds, which match by their types (see [`matches`]).
fn declared_type_ids(module: &Module) -> impl Iterator<Item = u32> + '_ {
    let info = module.info();
    let type_ids = module.compiled().type_ids();
    let (mut funcs, mut tags) = (0, 0);
    info.imports.iter().map(move |import| match import.ty {
        ExternType::Func(_) => {
            funcs += 1;
            type_ids[info.functions[funcs - 1] as usize]
        }
        ExternType::Tag(_) => {
            tags += 1;
            type_ids[info.tags[tags - 1] as usize]
        }
        _ => 0,
    })
}

/// Whether a table, memory or global of type `actual` can satisfy an import of type
/// `expected` (both with canonical type references). A mutable global's type must be the same;
/// an immutable one's may be a subtype.
fn matches(actual: &ExternType, expected: &ExternType) -> bool {
    match (actual, expected) {
        (ExternType::Table(a), ExternType::Table(e)) => {
            a.address_type == e.address_type
                && a.element == e.element
                && limits_match(&a.limits, &e.limits)
        }
        (ExternType::Memory(a), ExternType::Memory(e)) => {
            a.address_type == e.address_type && limits_match(&a.limits, &e.limits)
        }
        (ExternType::Global(a), ExternType::Global(e)) if a.mutable || e.mutable => a == e,
        (ExternType::Global(a), ExternType::Global(e)) => {
            match (a.content.as_ref(), e.content.as_ref()) {
                (Some(a), Some(e)) => a.matches(e, &signatures::is_subtype),
                _ => a.content == e.content,
            }
        }
        _ => false,
    }
}

fn limits_match(actual: &Limits, expected: &Limits) -> bool {
    actual.min >= expected.min
        && match (actual.max, expected.max) {
            (_, None) => true,
            (Some(a), Some(e)) => a <= e,
            (None, Some(_)) => false,
        }
}
