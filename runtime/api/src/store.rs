//! Stores own everything instances create (memories, tables, globals, functions, tags,
//! exceptions, instances); handles are indices into a store and valid as long as it lives.

use std::{
    rc::Rc,
    sync::atomic::{AtomicU64, Ordering},
};

use wasm_prof_vm::{
    FuncKind, GlobalData, HostFn, StoreData, StoreItem, exception, memory::MemoryData, signals,
    signatures, table::TableData, vmctx::VMGlobal,
};

use crate::{
    engine::Engine,
    error::{Error, Result},
    types::{ExnRef, ExternType, FuncType, GlobalType, MemoryType, TableType, Val, ValType},
};

/// Which store a handle belongs to: every store gets its own id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StoreId(u64);

impl StoreId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A handle: an index into one store's items of a kind, with the store it belongs to.
trait Handle: Copy {
    /// What the handle names, for messages.
    const WHAT: &'static str;
    fn parts(self) -> (StoreId, usize);

    /// The index, when the handle belongs to `store`.
    fn index_in(self, store: &Store) -> Result<usize> {
        let (id, index) = self.parts();
        if id == store.id {
            Ok(index)
        } else {
            Err(Error::BadCall(format!(
                "{} belongs to another store",
                Self::WHAT
            )))
        }
    }

    /// The index, for accessors that cannot fail.
    ///
    /// # Panics
    /// When the handle belongs to another store.
    fn index(self, store: &Store) -> usize {
        match self.index_in(store) {
            Ok(index) => index,
            Err(e) => panic!("{e}: a handle was used with a store it does not belong to"),
        }
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        ///
        /// Methods taking a store panic when given another store than the handle's.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            store: StoreId,
            index: usize,
        }

        impl $name {
            pub(crate) fn new_in(store: &Store, index: usize) -> Self {
                Self {
                    store: store.id,
                    index,
                }
            }
        }

        impl Handle for $name {
            const WHAT: &'static str = $what;

            fn parts(self) -> (StoreId, usize) {
                (self.store, self.index)
            }
        }
    };
}

handle!(
    /// A function in a store.
    Func,
    "the function"
);
handle!(
    /// A linear memory in a store.
    Memory,
    "the memory"
);
handle!(
    /// A table in a store.
    Table,
    "the table"
);
handle!(
    /// A global in a store.
    Global,
    "the global"
);
handle!(
    /// An exception tag in a store.
    Tag,
    "the tag"
);
handle!(
    /// An instance in a store.
    Instance,
    "the instance"
);

/// Something an instance exports or a module imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// A global.
    Global(Global),
    /// An exception tag.
    Tag(Tag),
}

impl Extern {
    /// The item of `store` this handle names.
    ///
    /// # Errors
    /// [`Error::BadCall`] when the handle belongs to another store.
    pub(crate) fn item_in(self, store: &Store) -> Result<StoreItem> {
        Ok(match self {
            Extern::Func(f) => StoreItem::Func(f.index_in(store)?),
            Extern::Table(t) => StoreItem::Table(t.index_in(store)?),
            Extern::Memory(m) => StoreItem::Memory(m.index_in(store)?),
            Extern::Global(g) => StoreItem::Global(g.index_in(store)?),
            Extern::Tag(t) => StoreItem::Tag(t.index_in(store)?),
        })
    }

    /// The handle for an item of `store`.
    pub(crate) fn from_item(store: &Store, item: StoreItem) -> Self {
        match item {
            StoreItem::Func(i) => Extern::Func(Func::new_in(store, i)),
            StoreItem::Table(i) => Extern::Table(Table::new_in(store, i)),
            StoreItem::Memory(i) => Extern::Memory(Memory::new_in(store, i)),
            StoreItem::Global(i) => Extern::Global(Global::new_in(store, i)),
            StoreItem::Tag(i) => Extern::Tag(Tag::new_in(store, i)),
        }
    }
}

/// Owner of all runtime state of the instances created in it. Not shareable across threads.
pub struct Store {
    id: StoreId,
    engine: Engine,
    pub(crate) data: StoreData,
}

impl Store {
    /// An empty store for `engine`'s modules.
    pub fn new(engine: &Engine) -> Self {
        Self {
            id: StoreId::next(),
            engine: engine.clone(),
            data: StoreData::new(engine.epoch_ptr()),
        }
    }

    /// The engine this store runs code of.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Guest code traps with `Interrupt` once the engine's epoch has advanced `delta` ticks
    /// from now (needs [`crate::Config::epoch_interruption`]).
    pub fn set_epoch_deadline(&mut self, delta: u64) {
        let deadline = self.engine.current_epoch().saturating_add(delta);
        self.data.set_epoch_deadline(deadline);
    }

    /// Creates an exception of `tag` carrying `values`, for a host function to throw (return
    /// [`crate::Trap::uncaught`] with it) or to pass to guest code.
    ///
    /// # Errors
    /// [`Error::BadCall`] when the tag belongs to another store or `values` do not have the
    /// tag's types.
    pub fn new_exception(&mut self, tag: Tag, values: &[Val]) -> Result<ExnRef> {
        let index = tag.index_in(self)?;
        let tag = &*self.data.tags[index];
        let raw = exception::raw_values(&tag.ty, values).ok_or_else(|| {
            Error::BadCall(format!(
                "an exception of a tag of type {} cannot carry {}",
                tag.ty,
                describe_types(values)
            ))
        })?;
        let address = self.data.exceptions.allocate(tag, raw);
        ExnRef::from_address(address)
            .ok_or_else(|| Error::BadCall("an exception has a null address".into()))
    }

    /// The tag of exception `exception` and the values it carries.
    ///
    /// # Errors
    /// [`Error::BadCall`] when the exception is not one of this store's.
    pub fn exception(&self, exception: ExnRef) -> Result<(Tag, Vec<Val>)> {
        let record = self
            .data
            .exceptions
            .get(exception.address())
            .ok_or_else(|| Error::BadCall("the exception belongs to another store".into()))?;
        let tag = self
            .data
            .tag_index(record.tag())
            .ok_or_else(|| Error::BadCall("the exception's tag is not in this store".into()))?;
        Ok((Tag::new_in(self, tag), exception::values(record)))
    }

    /// How many exceptions this store holds. Exceptions live until the store is dropped (there
    /// is no garbage collector), so a guest that throws in a loop grows its store.
    pub fn exception_count(&self) -> usize {
        self.data.exceptions.len()
    }

    /// Runs `f`, which enters guest code, catching traps (`f` is `Copy`: it owns nothing a
    /// trap could skip dropping).
    pub(crate) fn enter(&mut self, f: impl FnMut() + Copy) -> Result<()> {
        let max_stack = self.engine.config().max_wasm_stack;
        let limits = self.data.limits_ptr();
        // SAFETY: `limits` is this store's limits record, alive for the whole call.
        unsafe { signals::catch(limits, max_stack, f) }.map_err(Error::Trap)
    }
}

impl Func {
    /// A host function of type `ty` in `store`.
    pub fn new(
        store: &mut Store,
        ty: FuncType,
        func: impl Fn(
            &mut crate::Caller<'_>,
            &[Val],
            &mut [Val],
        ) -> std::result::Result<(), crate::Trap>
        + 'static,
    ) -> Func {
        Self::from_rc(store, ty, Rc::new(func))
    }

    pub(crate) fn from_rc(store: &mut Store, ty: FuncType, func: Rc<HostFn>) -> Func {
        let type_id = signatures::canonical_id(&ty);
        Self::with_type_id(store, ty, type_id, func)
    }

    /// A host function of type `ty` (with canonical references) whose type has id `type_id`:
    /// a type declared in a recursion group or open to subtypes is not the lone final type
    /// [`Func::new`] gives its signature.
    pub(crate) fn with_type_id(
        store: &mut Store,
        ty: FuncType,
        type_id: u32,
        func: Rc<HostFn>,
    ) -> Func {
        let index = store.data.push_host_func(ty, type_id, func);
        Func::new_in(store, index)
    }

    /// The function's signature.
    pub fn ty<'a>(&self, store: &'a Store) -> &'a FuncType {
        &store.data.funcs[self.index(store)].ty
    }

    /// Calls the function with `args`; returns its results.
    ///
    /// # Errors
    /// [`Error::BadCall`] when `args` do not match the signature or hold an exception of
    /// another store; [`Error::Trap`] when the guest traps (the store stays usable).
    pub fn call(&self, store: &mut Store, args: &[Val]) -> Result<Vec<Val>> {
        let data = &store.data.funcs[self.index_in(store)?];
        let ty = data.ty.clone();
        if args.len() != ty.params.len()
            || !args
                .iter()
                .zip(&ty.params)
                .all(|(a, t)| signatures::value_matches(a, t))
        {
            let got: Vec<String> = args.iter().map(|a| a.ty().to_string()).collect();
            return Err(Error::BadCall(format!(
                "expected arguments {:?}, got [{}]",
                ty.params
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                got.join(", ")
            )));
        }
        if !args.iter().all(|a| store.data.exceptions.owns(a)) {
            return Err(Error::BadCall(
                "an exception argument belongs to another store".into(),
            ));
        }
        let (func_ptr, vmctx, trampoline) = match &data.kind {
            FuncKind::Host(ctx) => return ctx.call(args).map_err(Error::Trap),
            FuncKind::Wasm {
                func_ptr,
                vmctx,
                trampoline,
            } => (*func_ptr, *vmctx, *trampoline),
        };
        let mut values = vec![0u128; ty.params.len().max(ty.results.len()).max(1)];
        for (slot, arg) in values.iter_mut().zip(args) {
            *slot = arg.to_raw();
        }
        type Trampoline = unsafe extern "C" fn(*mut u8, *mut u8, *const u8, *mut u128);
        // SAFETY: `trampoline` is the module's host-to-wasm trampoline compiled for exactly
        // this signature, with that native signature.
        let trampoline: Trampoline = unsafe { std::mem::transmute(trampoline) };
        let slots = values.as_mut_ptr();
        store.enter(move || {
            // SAFETY: the callee and its vmctx are alive in this store; `slots` has room for
            // every argument and result.
            unsafe { trampoline(vmctx, vmctx, func_ptr, slots) }
        })?;
        Ok(ty
            .results
            .iter()
            .zip(values)
            .map(|(t, raw)| Val::from_raw(*t, raw))
            .collect())
    }
}

/// The types of `values`, as in a signature.
fn describe_types(values: &[Val]) -> String {
    let types: Vec<String> = values.iter().map(|v| v.ty().to_string()).collect();
    format!("[{}]", types.join(", "))
}

impl Tag {
    /// A new tag in `store` whose exceptions carry values of `ty`'s parameter types (`ty` has
    /// no results).
    ///
    /// # Errors
    /// [`Error::BadCall`] when `ty` has results.
    pub fn new(store: &mut Store, ty: FuncType) -> Result<Tag> {
        if !ty.results.is_empty() {
            return Err(Error::BadCall(format!(
                "a tag's type has no results, {ty} has"
            )));
        }
        let type_id = signatures::canonical_id(&ty);
        Ok(Self::with_type_id(store, ty, type_id))
    }

    /// A tag of type `ty` (with canonical references, no results) whose type has id `type_id`.
    pub(crate) fn with_type_id(store: &mut Store, ty: FuncType, type_id: u32) -> Tag {
        let index = store.data.push_tag(ty, type_id);
        Tag::new_in(store, index)
    }

    /// The types of the values its exceptions carry, as a signature's parameters.
    pub fn ty<'a>(&self, store: &'a Store) -> &'a FuncType {
        &store.data.tags[self.index(store)].ty
    }
}

impl Memory {
    /// A new memory of type `ty` in `store`.
    ///
    /// # Errors
    /// [`Error::Limit`] when the memory cannot be reserved.
    pub fn new(store: &mut Store, ty: MemoryType) -> Result<Memory> {
        store.data.memories.push(MemoryData::new(ty)?);
        Ok(Memory::new_in(store, store.data.memories.len() - 1))
    }

    /// The memory's bytes.
    pub fn data<'a>(&self, store: &'a Store) -> &'a [u8] {
        store.data.memories[self.index(store)].data()
    }

    /// The memory's bytes, writable.
    pub fn data_mut<'a>(&self, store: &'a mut Store) -> &'a mut [u8] {
        let index = self.index(store);
        store.data.memories[index].data_mut()
    }

    /// Current size in 64 KiB pages.
    pub fn pages(&self, store: &Store) -> u64 {
        store.data.memories[self.index(store)].pages()
    }

    /// The memory's current type (its minimum is the current size).
    pub fn ty(&self, store: &Store) -> MemoryType {
        let data = &store.data.memories[self.index(store)];
        let mut ty = data.ty;
        ty.limits.min = data.pages();
        ty
    }
}

impl Table {
    /// A new table of type `ty` in `store`, every element null.
    ///
    /// # Errors
    /// [`Error::BadCall`] when null is not a value of the element type; [`Error::Limit`] when
    /// the table is larger than this runtime allows.
    pub fn new(store: &mut Store, ty: TableType) -> Result<Table> {
        if !ty.element.nullable {
            return Err(Error::BadCall(format!(
                "a table of {} cannot start out null",
                ty.element
            )));
        }
        store.data.tables.push(TableData::new(ty, 0)?);
        Ok(Table::new_in(store, store.data.tables.len() - 1))
    }

    /// The table's current type (its minimum is the current size).
    pub fn ty(&self, store: &Store) -> TableType {
        let data = &store.data.tables[self.index(store)];
        let mut ty = data.ty;
        ty.limits.min = data.len() as u64;
        ty
    }

    /// Element `index`, when in bounds.
    pub fn get(&self, store: &Store, index: u32) -> Option<Val> {
        let data = &store.data.tables[self.index(store)];
        let raw = data.get(index as usize)?;
        Some(Val::from_raw(ValType::Ref(data.ty.element), raw as u128))
    }
}

impl Global {
    /// A new global of type `ty` holding `value`.
    ///
    /// # Errors
    /// [`Error::BadCall`] when `value` is not of `ty.content`, or is an exception of another
    /// store.
    pub fn new(store: &mut Store, ty: GlobalType, value: Val) -> Result<Global> {
        if !signatures::value_matches(&value, &ty.content) {
            return Err(Error::BadCall(format!(
                "global of type {} cannot hold a {}",
                ty.content,
                value.ty()
            )));
        }
        if !store.data.exceptions.owns(&value) {
            return Err(Error::BadCall(
                "the exception belongs to another store".into(),
            ));
        }
        store.data.globals.push(Box::new(GlobalData {
            vm: VMGlobal(value.to_raw()),
            ty,
        }));
        Ok(Global::new_in(store, store.data.globals.len() - 1))
    }

    /// The global's type.
    pub fn ty(&self, store: &Store) -> GlobalType {
        store.data.globals[self.index(store)].ty
    }

    /// The global's value.
    pub fn get(&self, store: &Store) -> Val {
        let data = &store.data.globals[self.index(store)];
        Val::from_raw(data.ty.content, data.vm.0)
    }
}

impl Extern {
    /// The item's type as an import would see it.
    pub fn ty(&self, store: &Store) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(f.ty(store).clone()),
            Extern::Table(t) => ExternType::Table(t.ty(store)),
            Extern::Memory(m) => ExternType::Memory(m.ty(store)),
            Extern::Global(g) => ExternType::Global(g.ty(store)),
            Extern::Tag(t) => ExternType::Tag(t.ty(store).clone()),
        }
    }
}

impl Instance {
    /// The export called `name`.
    pub fn get_export(&self, store: &Store, name: &str) -> Option<Extern> {
        store.data.instances[self.index(store)]
            .exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| Extern::from_item(store, *e))
    }

    /// Every export, in order.
    pub fn exports<'a>(&self, store: &'a Store) -> impl Iterator<Item = (&'a str, Extern)> + 'a {
        store.data.instances[self.index(store)]
            .exports
            .iter()
            .map(|(n, e)| (n.as_str(), Extern::from_item(store, *e)))
    }

    /// The exported function called `name`.
    pub fn get_func(&self, store: &Store, name: &str) -> Option<Func> {
        match self.get_export(store, name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The exported memory called `name`.
    pub fn get_memory(&self, store: &Store, name: &str) -> Option<Memory> {
        match self.get_export(store, name)? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The exported tag called `name`.
    pub fn get_tag(&self, store: &Store, name: &str) -> Option<Tag> {
        match self.get_export(store, name)? {
            Extern::Tag(t) => Some(t),
            _ => None,
        }
    }

    /// The exported global called `name`.
    pub fn get_global(&self, store: &Store, name: &str) -> Option<Global> {
        match self.get_export(store, name)? {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }
}
