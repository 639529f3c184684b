//! Instances: building a `vmctx` from a module and its imports, initialising globals, tables
//! and memories from the module's segments, and the state libcalls reach through the `vmctx`.

use std::sync::Arc;

use wasm_prof_environ::{
    AddressType, ExternKind, FuncType, HeapType, ModuleInfo, TrapKind, VMOffsets,
    module_info::{ConstExpr, ConstOp, DataMode, ElementItems, ElementMode},
    vmoffsets as vmctx,
};

use crate::{
    compiled_module::CompiledModule,
    error::{Result, VmError},
    exception::{ExceptionHeap, TagData},
    funcrefs::{FuncRefArray, FuncRefOwner},
    libcalls::{LIBCALLS, checked_range},
    memory::MemoryData,
    store_data::{FuncData, FuncKind, GlobalData, StoreData, StoreItem},
    table::TableData,
    trap::Trap,
    vmctx::{VMFuncRef, VMGlobal, VMLimits},
};

/// A live instance, owned by a store.
pub struct Instance {
    /// The module it instantiates.
    pub module: Arc<CompiledModule>,
    vmctx: Box<[u128]>,
    funcrefs: FuncRefArray,
    funcref_owner: FuncRefOwner,
    memories: Vec<*mut MemoryData>,
    tables: Vec<*mut TableData>,
    globals: Vec<*mut VMGlobal>,
    tags: Vec<*const TagData>,
    exceptions: *mut ExceptionHeap,
    limits: *mut VMLimits,
    passive_elements: Vec<Vec<usize>>,
    /// Per listed data segment (those not in a memory image), whether it was dropped.
    dropped_data: Vec<bool>,
    imported_funcs: Vec<usize>,
    /// Export name → handle, in export order.
    pub exports: Vec<(String, StoreItem)>,
}

impl Instance {
    /// The instance a `vmctx` belongs to.
    ///
    /// # Safety
    /// `vmctx` must be the vmctx of a live instance (one compiled code was called with, or
    /// [`Instance::vmctx_ptr`] of an instance its store still holds), and no other reference
    /// to that instance may be used while the returned one is.
    pub unsafe fn from_vmctx<'a>(vmctx: *mut u8) -> &'a mut Instance {
        // SAFETY: every vmctx starts with a pointer to its boxed instance (written by
        // `instantiate`), which lives as long as the store; the caller vouches for the rest.
        unsafe { &mut **(vmctx.add(vmctx::VMCTX_INSTANCE as usize) as *mut *mut Instance) }
    }

    /// Address of the `vmctx`.
    pub fn vmctx_ptr(&mut self) -> *mut u8 {
        self.vmctx.as_mut_ptr().cast()
    }

    /// Memory `index` (imported or defined).
    pub fn memory_mut(&mut self, index: u32) -> &mut MemoryData {
        // SAFETY: memory pointers refer to boxes owned by the store, which outlives us.
        unsafe { &mut *self.memories[index as usize] }
    }

    /// Whether memories `a` and `b` are one memory (also when imported twice).
    pub fn same_memory(&self, a: u32, b: u32) -> bool {
        self.memories[a as usize] == self.memories[b as usize]
    }

    /// Whether tables `a` and `b` are one table (also when imported twice).
    pub fn same_table(&self, a: u32, b: u32) -> bool {
        self.tables[a as usize] == self.tables[b as usize]
    }

    /// Number of memories.
    pub fn memory_count(&self) -> usize {
        self.memories.len()
    }

    /// The entry, host-to-wasm trampoline and type of defined function `func_index` (an index
    /// among all functions, imports first); `None` for an imported function.
    pub fn defined_func(&self, func_index: u32) -> Option<(*const u8, *const u8, &FuncType)> {
        let info = self.module.info();
        let defined = func_index.checked_sub(info.num_imported_funcs)? as usize;
        let type_index = *info.functions.get(func_index as usize)?;
        Some((
            self.module.func_ptr(defined),
            self.module.entry_trampoline(type_index),
            &info.types[type_index as usize],
        ))
    }

    /// The limits record of the instance's store.
    pub fn limits_ptr(&self) -> *mut VMLimits {
        self.limits
    }

    /// The store's exceptions.
    pub fn exceptions_mut(&mut self) -> &mut ExceptionHeap {
        // SAFETY: the heap is boxed in the store, which outlives its instances.
        unsafe { &mut *self.exceptions }
    }

    /// Tag `index` (imported or defined): its record's address is its identity.
    pub fn tag(&self, index: u32) -> *const TagData {
        self.tags[index as usize]
    }

    /// Table `index` (imported or defined).
    pub fn table_mut(&mut self, index: u32) -> &mut TableData {
        // SAFETY: table pointers refer to boxes owned by the store, which outlives us.
        unsafe { &mut *self.tables[index as usize] }
    }

    /// The bytes of data segment `index`, empty once dropped (a segment in a memory image
    /// counts as dropped from the start).
    pub fn data_segment(&self, index: u32) -> &[u8] {
        match self.module.info().data.position(index) {
            Some(at) if !self.dropped_data[at] => self.module.data_segment(index),
            _ => &[],
        }
    }

    /// `data.drop`.
    pub fn drop_data(&mut self, index: u32) {
        if let Some(at) = self.module.info().data.position(index) {
            self.dropped_data[at] = true;
        }
    }

    /// The items of element segment `index`, empty once dropped.
    pub fn element_segment(&self, index: u32) -> &[usize] {
        &self.passive_elements[index as usize]
    }

    /// `elem.drop`.
    pub fn drop_elements(&mut self, index: u32) {
        self.passive_elements[index as usize] = Vec::new();
    }

    fn global_raw(&self, index: u32) -> u128 {
        // SAFETY: global pointers refer to boxes owned by the store.
        unsafe { (*self.globals[index as usize]).0 }
    }

    /// A reference to function `index`: the address of its record, filled first when empty.
    pub(crate) fn funcref(&self, index: u32) -> usize {
        self.funcref_owner.get(index)
    }

    /// Evaluates a constant expression to its raw 16-byte form.
    fn eval(&self, expr: &ConstExpr) -> u128 {
        let mut stack: Vec<u128> = Vec::with_capacity(2);
        for op in &expr.0 {
            let value = match *op {
                ConstOp::I32(v) => u128::from(v as u32),
                ConstOp::I64(v) => u128::from(v as u64),
                ConstOp::F32(v) => u128::from(v),
                ConstOp::F64(v) => u128::from(v),
                ConstOp::V128(v) => v,
                ConstOp::GlobalGet(g) => self.global_raw(g),
                ConstOp::RefNull(_) => 0,
                ConstOp::RefFunc(f) => self.funcref(f) as u128,
                ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                    let (b, a) = (
                        stack.pop().unwrap_or(0) as u32,
                        stack.pop().unwrap_or(0) as u32,
                    );
                    u128::from(match op {
                        ConstOp::I32Add => a.wrapping_add(b),
                        ConstOp::I32Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
                ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                    let (b, a) = (
                        stack.pop().unwrap_or(0) as u64,
                        stack.pop().unwrap_or(0) as u64,
                    );
                    u128::from(match op {
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
            };
            stack.push(value);
        }
        stack.pop().unwrap_or(0)
    }

    /// Evaluates a segment's offset expression, of `address_type` (its memory's or table's).
    fn eval_offset(&self, expr: &ConstExpr, address_type: AddressType) -> u64 {
        let raw = self.eval(expr);
        match address_type {
            AddressType::I32 => u64::from(raw as u32),
            AddressType::I64 => raw as u64,
        }
    }
}

/// Creates an instance of `module` in `store` with `imports` (already type-checked, in import
/// order), applies its segments, and returns its index in the store. The caller runs the
/// start function.
///
/// An instance whose segments trap stays in the store (its memories and
/// tables may be shared with others) and the trap is returned.
pub fn instantiate(
    store: &mut StoreData,
    module: &Arc<CompiledModule>,
    imports: &[StoreItem],
) -> Result<usize> {
    let info = module.info();
    let offsets = VMOffsets::new(info);
    let type_ids = module.type_ids();
    let mut vmctx_storage = vec![0u128; offsets.size().div_ceil(16)].into_boxed_slice();
    let funcrefs = FuncRefArray::zeroed(info.functions.len())?;
    let funcref_owner = FuncRefOwner {
        refs: funcrefs.refs(),
        module: module.clone(),
        vmctx: vmctx_storage.as_mut_ptr().cast(),
    };
    let mut instance = Box::new(Instance {
        module: module.clone(),
        vmctx: vmctx_storage,
        funcrefs,
        funcref_owner,
        memories: Vec::with_capacity(info.memories.len()),
        tables: Vec::with_capacity(info.tables.len()),
        globals: Vec::with_capacity(info.globals.len()),
        tags: Vec::with_capacity(info.tags.len()),
        exceptions: &mut *store.exceptions,
        limits: store.limits_ptr(),
        passive_elements: vec![Vec::new(); info.elements.len()],
        dropped_data: vec![false; info.data.listed().count()],
        imported_funcs: Vec::new(),
        exports: Vec::new(),
    });
    let mut imported_funcs = Vec::new();

    // Imports, in order; each kind's index space starts with its imports.
    for import in imports {
        match *import {
            StoreItem::Func(f) => {
                let index = imported_funcs.len() as u32;
                let type_index = info.functions[index as usize];
                let type_id = store.funcs[f].type_id;
                let (func_ptr, callee_vmctx) = match &store.funcs[f].kind {
                    FuncKind::Wasm {
                        func_ptr, vmctx, ..
                    } => (*func_ptr, *vmctx),
                    FuncKind::Host(ctx) => (
                        module.host_trampoline(type_index),
                        (&**ctx as *const _ as *mut u8),
                    ),
                };
                write_ptr(
                    &mut instance.vmctx,
                    offsets.imported_func(index),
                    func_ptr as usize,
                );
                write_ptr(
                    &mut instance.vmctx,
                    offsets.imported_func(index) + 8,
                    callee_vmctx as usize,
                );
                instance.funcrefs.refs().set(
                    index,
                    VMFuncRef {
                        func_ptr,
                        vmctx: callee_vmctx,
                        type_id,
                    },
                );
                imported_funcs.push(f);
            }
            StoreItem::Memory(m) => instance.memories.push(&mut *store.memories[m]),
            StoreItem::Table(t) => instance.tables.push(&mut *store.tables[t]),
            StoreItem::Global(g) => instance.globals.push(&mut store.globals[g].vm),
            StoreItem::Tag(t) => instance.tags.push(&*store.tags[t]),
        }
    }

    // Defined memories, tables and globals live in the store.
    let mut memory_handles: Vec<usize> = imports
        .iter()
        .filter_map(|e| match e {
            StoreItem::Memory(m) => Some(*m),
            _ => None,
        })
        .collect();
    for ty in &info.memories[info.num_imported_memories as usize..] {
        let mut memory = MemoryData::new(*ty)?;
        instance.memories.push(&mut *memory);
        memory_handles.push(store.memories.len());
        store.memories.push(memory);
    }
    let mut table_handles: Vec<usize> = imports
        .iter()
        .filter_map(|e| match e {
            StoreItem::Table(t) => Some(*t),
            _ => None,
        })
        .collect();
    for ty in &info.tables[info.num_imported_tables as usize..] {
        let mut table = TableData::new(ty.canonicalize(type_ids), 0)?;
        instance.tables.push(&mut *table);
        table_handles.push(store.tables.len());
        store.tables.push(table);
    }

    let mut tag_handles: Vec<usize> = imports
        .iter()
        .filter_map(|e| match e {
            StoreItem::Tag(t) => Some(*t),
            _ => None,
        })
        .collect();
    for index in info.num_imported_tags..info.tags.len() as u32 {
        let type_index = info.tags[index as usize];
        let tag = store.push_tag(
            info.tag_type(index).canonicalize(type_ids),
            type_ids[type_index as usize],
        );
        instance.tags.push(&*store.tags[tag]);
        tag_handles.push(tag);
    }
    for (i, tag) in instance.tags.iter().enumerate() {
        write_ptr(&mut instance.vmctx, offsets.tag(i as u32), *tag as usize);
    }

    // The vmctx header and the pointers to memories, tables and (imported) globals.
    let instance_ptr = &mut *instance as *mut Instance as usize;
    write_ptr(&mut instance.vmctx, vmctx::VMCTX_INSTANCE, instance_ptr);
    let limits = instance.limits as usize;
    write_ptr(&mut instance.vmctx, vmctx::VMCTX_LIMITS, limits);
    write_ptr(
        &mut instance.vmctx,
        vmctx::VMCTX_LIBCALLS,
        LIBCALLS.as_ptr() as usize,
    );
    write_ptr(
        &mut instance.vmctx,
        vmctx::VMCTX_TYPE_IDS,
        type_ids.as_ptr() as usize,
    );
    let funcrefs = instance.funcrefs.refs().base() as usize;
    write_ptr(&mut instance.vmctx, vmctx::VMCTX_FUNCREFS, funcrefs);
    for (i, memory) in instance.memories.iter().enumerate() {
        // SAFETY: the pointer refers to a live store-owned memory.
        let vm = unsafe { &raw mut (**memory).vm };
        write_ptr(&mut instance.vmctx, offsets.memory(i as u32), vm as usize);
    }
    for (i, table) in instance.tables.iter().enumerate() {
        // SAFETY: the pointer refers to a live store-owned table.
        let vm = unsafe { &raw mut (**table).vm };
        write_ptr(&mut instance.vmctx, offsets.table(i as u32), vm as usize);
    }

    // Defined globals, initialised in order (an initializer may read earlier globals).
    let mut global_handles: Vec<usize> = imports
        .iter()
        .filter_map(|e| match e {
            StoreItem::Global(g) => Some(*g),
            _ => None,
        })
        .collect();
    let defined_globals = info.globals[info.num_imported_globals as usize..]
        .iter()
        .zip(&info.global_inits);
    for (ty, init) in defined_globals {
        let value = instance.eval(init);
        let mut global = Box::new(GlobalData {
            vm: VMGlobal(value),
            ty: ty.canonicalize(type_ids),
        });
        instance.globals.push(&mut global.vm);
        global_handles.push(store.globals.len());
        store.globals.push(global);
    }
    for (i, global) in instance.globals.iter().enumerate() {
        write_ptr(
            &mut instance.vmctx,
            offsets.global(i as u32),
            *global as usize,
        );
    }

    // Defined tables with an initializer start with its value in every element.
    for (defined, init) in info.table_inits.iter().enumerate() {
        if let Some(init) = init {
            let value = instance.eval(init) as usize;
            let table = info.num_imported_tables + defined as u32;
            instance.table_mut(table).elements_mut().fill(value);
        }
    }

    instance.imported_funcs = imported_funcs;
    let index = store.push_instance(instance);

    let mut exports = Vec::with_capacity(info.exports.len());
    for export in &info.exports {
        let handle = match export.kind {
            ExternKind::Func => StoreItem::Func(func_handle(store, index, export.index)),
            ExternKind::Memory => StoreItem::Memory(memory_handles[export.index as usize]),
            ExternKind::Table => StoreItem::Table(table_handles[export.index as usize]),
            ExternKind::Global => StoreItem::Global(global_handles[export.index as usize]),
            ExternKind::Tag => StoreItem::Tag(tag_handles[export.index as usize]),
        };
        exports.push((export.name.clone(), handle));
    }
    store.instances[index].exports = exports;
    initialize_segments(store, index)?;
    Ok(index)
}

/// The store index of function `func_index` of instance `instance` (an imported function's own
/// index, or a new entry for a defined one).
pub fn func_handle(store: &mut StoreData, instance: usize, func_index: u32) -> usize {
    let data = &mut *store.instances[instance];
    if let Some(f) = data.imported_funcs.get(func_index as usize) {
        return *f;
    }
    let module = data.module.clone();
    let vmctx = data.vmctx_ptr();
    let info = module.info();
    let defined = (func_index - info.num_imported_funcs) as usize;
    let type_index = info.functions[func_index as usize];
    store.push_func(FuncData {
        ty: info.types[type_index as usize].canonicalize(module.type_ids()),
        type_id: module.type_ids()[type_index as usize],
        kind: FuncKind::Wasm {
            func_ptr: module.func_ptr(defined),
            vmctx,
            trampoline: module.entry_trampoline(type_index),
        },
    })
}

/// Writes the pointer-sized `value` at byte `offset` of a vmctx.
fn write_ptr(vmctx: &mut [u128], offset: i32, value: usize) {
    let at = usize::try_from(offset).expect("vmctx offsets are not negative");
    assert!(
        at.is_multiple_of(8) && at + 8 <= vmctx.len() * 16,
        "vmctx offset {at} is misaligned or out of bounds"
    );
    // SAFETY: `at..at + 8` lies inside `vmctx` (checked above) and is 8-aligned, as the
    // storage of `u128`s is 16-aligned.
    unsafe {
        vmctx
            .as_mut_ptr()
            .cast::<u8>()
            .add(at)
            .cast::<usize>()
            .write(value)
    }
}

fn trap(kind: TrapKind) -> VmError {
    VmError::Trap(Trap::new(kind))
}

/// Applies element then data segments in order; the first out-of-bounds one traps.
///
/// When every active element segment fits its table (so none traps), a segment of function
/// indices into a function table this instance defines without an initializer is not written
/// but deferred: the table resolves its elements on first use ([`crate::table`]).
fn initialize_segments(store: &mut StoreData, index: usize) -> Result<()> {
    let instance = &mut *store.instances[index];
    let module = instance.module.clone();
    let info = module.info();
    let offsets: Vec<Option<u64>> = info
        .elements
        .iter()
        .map(|segment| match &segment.mode {
            ElementMode::Active { table, offset } => {
                Some(instance.eval_offset(offset, info.tables[*table as usize].address_type))
            }
            _ => None,
        })
        .collect();
    let all_fit =
        info.elements
            .iter()
            .zip(&offsets)
            .all(|(segment, at)| match (&segment.mode, at) {
                (ElementMode::Active { table, .. }, Some(at)) => {
                    let len = instance.table_mut(*table).len();
                    checked_range(*at, segment.items.len() as u64, len).is_some()
                }
                _ => true,
            });
    for (i, (segment, at)) in info.elements.iter().zip(&offsets).enumerate() {
        if matches!(segment.mode, ElementMode::Declared) {
            continue;
        }
        if let (ElementMode::Active { table, .. }, ElementItems::Funcs(_), Some(at)) =
            (&segment.mode, &segment.items, at)
            && all_fit
            && defers_segments(info, *table)
        {
            let owner = instance.funcref_owner.clone();
            instance
                .table_mut(*table)
                .defer_segment(&owner, *at as usize, i as u32);
            continue;
        }
        let items: Vec<usize> = match &segment.items {
            ElementItems::Funcs(funcs) => funcs.iter().map(|f| instance.funcref(*f)).collect(),
            ElementItems::Exprs(exprs) => exprs.iter().map(|e| instance.eval(e) as usize).collect(),
        };
        match (&segment.mode, at) {
            (ElementMode::Active { table, .. }, Some(at)) => {
                let at = *at;
                let elements = instance.table_mut(*table).elements_mut();
                let range = checked_range(at, items.len() as u64, elements.len())
                    .ok_or_else(|| trap(TrapKind::TableOutOfBounds))?;
                elements[range].copy_from_slice(&items);
            }
            (ElementMode::Passive, _) => instance.passive_elements[i] = items,
            _ => {}
        }
    }
    for image in &module.layout().memory_images {
        instance.memory_mut(image.memory).initialize(
            image.memory_offset,
            module.memory_image_bytes(image),
            module.memory_image_file(image),
        )?;
    }
    for (i, segment) in info.data.listed() {
        let DataMode::Active { memory, offset } = &segment.mode else {
            continue;
        };
        let address_type = info.memories[*memory as usize].address_type;
        let at = instance.eval_offset(offset, address_type);
        let bytes = module.data_segment(i);
        let data = instance.memory_mut(*memory).data_mut();
        let range = checked_range(at, bytes.len() as u64, data.len())
            .ok_or_else(|| trap(TrapKind::MemoryOutOfBounds))?;
        data[range].copy_from_slice(bytes);
        instance.drop_data(i);
    }
    Ok(())
}

/// Whether instantiation may defer segments into table `table`: a function table the module
/// defines, with no initializer (its elements start null, so a null element is one not yet
/// resolved or truly null).
fn defers_segments(info: &ModuleInfo, table: u32) -> bool {
    let Some(defined) = table.checked_sub(info.num_imported_tables) else {
        return false;
    };
    info.tables[table as usize].element.heap.top() == HeapType::Func
        && info.table_inits[defined as usize].is_none()
}
