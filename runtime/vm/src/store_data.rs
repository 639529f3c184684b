//! Everything the instances of one store create — instances, functions, memories, tables,
//! globals, tags and exceptions — addressed by index (exceptions by address). The embedder's handles are these indices.
//!
//! Items are boxed because compiled code holds their addresses: growing a vector must not
//! move them.

use std::sync::atomic::AtomicU64;

use wasm_prof_environ::{FuncType, GlobalType};

use crate::{
    exception::{ExceptionHeap, TagData},
    host_func::HostCtx,
    instance::Instance,
    memory::MemoryData,
    table::TableData,
    vmctx::{VMGlobal, VMLimits},
};

/// How a function is reached.
pub enum FuncKind {
    /// Compiled wasm code of some instance.
    Wasm {
        /// Entry of the function, wasm calling convention.
        func_ptr: *const u8,
        /// The instance's vmctx.
        vmctx: *mut u8,
        /// Host-to-wasm trampoline for the function's signature.
        trampoline: *const u8,
    },
    /// A host function.
    Host(Box<HostCtx>),
}

/// A function owned by a store.
pub struct FuncData {
    /// Its signature, with canonical type references.
    pub ty: FuncType,
    /// The process-wide id of its type.
    pub type_id: u32,
    /// How to call it.
    pub kind: FuncKind,
}

/// A global owned by a store.
pub struct GlobalData {
    /// Its storage, which compiled code reads and writes.
    pub vm: VMGlobal,
    /// Its type, with canonical type references.
    pub ty: GlobalType,
}

/// An item of a store, by its index among the store's items of its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreItem {
    /// A function.
    Func(usize),
    /// A table.
    Table(usize),
    /// A linear memory.
    Memory(usize),
    /// A global.
    Global(usize),
    /// An exception tag.
    Tag(usize),
}

/// The items of one store. Not shareable across threads.
#[allow(clippy::vec_box)]
pub struct StoreData {
    limits: Box<VMLimits>,
    /// Instances, in creation order.
    pub instances: Vec<Box<Instance>>,
    /// Functions (host functions and instances' exported or referenced wasm functions).
    pub funcs: Vec<FuncData>,
    /// Linear memories.
    pub memories: Vec<Box<MemoryData>>,
    /// Tables.
    pub tables: Vec<Box<TableData>>,
    /// Globals.
    pub globals: Vec<Box<GlobalData>>,
    /// Exception tags (their addresses are their identities).
    pub tags: Vec<Box<TagData>>,
    /// Exceptions, boxed so instances can point to it.
    pub exceptions: Box<ExceptionHeap>,
}

impl StoreData {
    /// An empty store whose code reads the epoch from `epoch` (the engine's counter, which must
    /// outlive the store).
    pub fn new(epoch: *const AtomicU64) -> Self {
        Self {
            limits: Box::new(VMLimits {
                stack_limit: 0,
                epoch_deadline: u64::MAX,
                epoch,
            }),
            instances: Vec::new(),
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            exceptions: Box::default(),
        }
    }

    /// Guest code traps with `Interrupt` once the epoch reaches `deadline`.
    pub fn set_epoch_deadline(&mut self, deadline: u64) {
        self.limits.epoch_deadline = deadline;
    }

    /// The limits record compiled code checks.
    pub fn limits_ptr(&mut self) -> *mut VMLimits {
        &mut *self.limits
    }

    /// Adds a function; returns its index.
    pub fn push_func(&mut self, data: FuncData) -> usize {
        self.funcs.push(data);
        self.funcs.len() - 1
    }

    /// Adds a host function of type `ty` (whose type references are canonical) with type id
    /// `type_id`; returns its index.
    pub fn push_host_func(
        &mut self,
        ty: FuncType,
        type_id: u32,
        func: std::rc::Rc<crate::HostFn>,
    ) -> usize {
        let ctx = HostCtx::new(ty.clone(), func);
        self.push_func(FuncData {
            type_id,
            ty,
            kind: FuncKind::Host(ctx),
        })
    }

    /// Adds a tag whose exceptions carry values of `ty`'s parameter types, a type with
    /// canonical references and id `type_id`; returns its index.
    pub fn push_tag(&mut self, ty: FuncType, type_id: u32) -> usize {
        self.tags.push(Box::new(TagData { ty, type_id }));
        self.tags.len() - 1
    }

    /// The index of the tag at `address`, when it is one of this store's.
    pub fn tag_index(&self, address: *const TagData) -> Option<usize> {
        self.tags.iter().position(|t| std::ptr::eq(&**t, address))
    }

    pub(crate) fn push_instance(&mut self, instance: Box<Instance>) -> usize {
        self.instances.push(instance);
        self.instances.len() - 1
    }
}
