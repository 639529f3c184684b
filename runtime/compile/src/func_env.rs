//! The project's `FuncEnvironment`: how cranelift-wasm's translator reaches memories, tables,
//! globals, calls and runtime helpers through the instance's `vmctx`.

use cranelift_codegen::{
    cursor::FuncCursor,
    ir::{
        self, AbiParam, ArgumentPurpose, ExtFuncData, ExternalName, Function, GlobalValue,
        GlobalValueData, InstBuilder, MemFlags, Signature, TrapCode, UserExternalName,
        condcodes::IntCC, types,
    },
    isa::{TargetFrontendConfig, TargetIsa},
};
use cranelift_entity::PrimaryMap;
use cranelift_frontend::FunctionBuilder;
use cranelift_wasm::{
    FuncEnvironment, FuncIndex, GlobalIndex, GlobalVariable, Heap, HeapData, HeapStyle,
    MemoryIndex, TableIndex, TargetEnvironment, TypeConvert, TypeIndex, WasmError, WasmHeapType,
    WasmResult,
};
use wasmparser::UnpackedIndex;

use wasm_prof_environ::{
    FuncType, Libcall, ModuleInfo, VMOffsets, ValType,
    tunables::{MEMORY_GUARD, MEMORY_RESERVATION},
    vmoffsets as vmctx,
};

/// The Cranelift type a wasm value is carried in.
pub(crate) fn clif_type(ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::FuncRef | ValType::ExternRef => types::I64,
    }
}

/// The native signature of a wasm function: `(callee vmctx, caller vmctx, params...) -> results`.
pub(crate) fn wasm_signature(isa: &dyn TargetIsa, ty: &FuncType) -> Signature {
    let ptr = isa.pointer_type();
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params
        .push(AbiParam::special(ptr, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(ptr));
    sig.params
        .extend(ty.params.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(ty.results.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// A libcall's parameter types after the leading `vmctx` (the VM's helpers take these).
fn libcall_params(libcall: Libcall) -> &'static [ir::Type] {
    use types::{I32, I64};
    match libcall {
        Libcall::MemoryGrow => &[I32, I32],
        Libcall::MemoryCopy => &[I32, I32, I32, I32, I32],
        Libcall::MemoryFill => &[I32, I32, I32, I32],
        Libcall::MemoryInit => &[I32, I32, I32, I32, I32],
        Libcall::DataDrop => &[I32],
        Libcall::TableGrow => &[I32, I32, I64],
        Libcall::TableCopy => &[I32, I32, I32, I32, I32],
        Libcall::TableFill => &[I32, I32, I64, I32],
        Libcall::TableInit => &[I32, I32, I32, I32, I32],
        Libcall::ElemDrop => &[I32],
    }
}

/// Flags for loads of runtime records that guest code cannot change.
fn readonly() -> MemFlags {
    MemFlags::trusted().with_readonly()
}

/// Translation environment for one function.
pub(crate) struct FuncEnv<'a> {
    isa: &'a dyn TargetIsa,
    info: &'a ModuleInfo,
    offsets: VMOffsets,
    epoch_interruption: bool,
    heaps: PrimaryMap<Heap, HeapData>,
    memory_heaps: Vec<Option<Heap>>,
    vmctx: Option<GlobalValue>,
}

impl<'a> FuncEnv<'a> {
    pub fn new(isa: &'a dyn TargetIsa, info: &'a ModuleInfo, epoch_interruption: bool) -> Self {
        Self {
            isa,
            info,
            offsets: VMOffsets::new(info),
            epoch_interruption,
            heaps: PrimaryMap::new(),
            memory_heaps: vec![None; info.memories.len()],
            vmctx: None,
        }
    }

    fn ptr(&self) -> ir::Type {
        self.isa.pointer_type()
    }

    fn vmctx_gv(&mut self, func: &mut Function) -> GlobalValue {
        *self
            .vmctx
            .get_or_insert_with(|| func.create_global_value(GlobalValueData::VMContext))
    }

    /// A global value loaded (read-only) from `base + offset`.
    fn load_gv(&self, func: &mut Function, base: GlobalValue, offset: i32) -> GlobalValue {
        func.create_global_value(GlobalValueData::Load {
            base,
            offset: offset.into(),
            global_type: self.ptr(),
            flags: readonly(),
        })
    }

    /// Makes the function check the store's stack limit in its prologue.
    pub fn install_stack_limit(&mut self, func: &mut Function) {
        let vmctx = self.vmctx_gv(func);
        let limits = self.load_gv(func, vmctx, vmctx::VMCTX_LIMITS);
        let limit = func.create_global_value(GlobalValueData::Load {
            base: limits,
            offset: vmctx::LIMITS_STACK.into(),
            global_type: self.ptr(),
            flags: MemFlags::trusted(),
        });
        func.stack_limit = Some(limit);
    }

    fn vmctx_val(pos: &FuncCursor) -> ir::Value {
        pos.func
            .special_param(ArgumentPurpose::VMContext)
            .expect("wasm functions take a vmctx")
    }

    /// Loads a pointer-sized field at `vmctx + offset`.
    fn load_vmctx_field(&self, pos: &mut FuncCursor, offset: i32) -> ir::Value {
        let vmctx = Self::vmctx_val(pos);
        pos.ins().load(self.ptr(), readonly(), vmctx, offset)
    }

    /// Calls runtime helper `libcall` with `vmctx` prepended to `args`; returns its i32 result.
    fn libcall(&self, pos: &mut FuncCursor, libcall: Libcall, args: &[ir::Value]) -> ir::Value {
        let ptr = self.ptr();
        let mut sig = Signature::new(self.isa.default_call_conv());
        sig.params.push(AbiParam::new(ptr));
        sig.params
            .extend(libcall_params(libcall).iter().map(|t| AbiParam::new(*t)));
        sig.returns.push(AbiParam::new(types::I32));
        let sig = pos.func.import_signature(sig);
        let table = self.load_vmctx_field(pos, vmctx::VMCTX_LIBCALLS);
        let callee = pos.ins().load(ptr, readonly(), table, (libcall as i32) * 8);
        let vmctx = Self::vmctx_val(pos);
        let mut call_args = vec![vmctx];
        call_args.extend_from_slice(args);
        let call = pos.ins().call_indirect(sig, callee, &call_args);
        pos.func.dfg.first_result(call)
    }

    /// A libcall whose non-zero result means a trap with `code`.
    fn checked_libcall(
        &self,
        pos: &mut FuncCursor,
        libcall: Libcall,
        args: &[ir::Value],
        code: TrapCode,
    ) {
        let status = self.libcall(pos, libcall, args);
        pos.ins().trapnz(status, code);
    }

    /// Bounds-checks `index` against table `table` and returns the element's address.
    fn table_elem_addr(
        &self,
        builder: &mut FunctionBuilder,
        table: TableIndex,
        index: ir::Value,
    ) -> ir::Value {
        let ptr = self.ptr();
        let vmctx = builder
            .func
            .special_param(ArgumentPurpose::VMContext)
            .expect("vmctx");
        let table_ptr =
            builder
                .ins()
                .load(ptr, readonly(), vmctx, self.offsets.table(table.as_u32()));
        let length = builder
            .ins()
            .load(ptr, MemFlags::trusted(), table_ptr, vmctx::LENGTH);
        let index = builder.ins().uextend(ptr, index);
        let oob = builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        builder.ins().trapnz(oob, TrapCode::TableOutOfBounds);
        let base = builder
            .ins()
            .load(ptr, MemFlags::trusted(), table_ptr, vmctx::BASE);
        let scaled = builder.ins().ishl_imm(index, 3);
        builder.ins().iadd(base, scaled)
    }

    /// Traps with `Interrupt` once the engine's epoch reaches the store's deadline.
    fn epoch_check(&self, builder: &mut FunctionBuilder) {
        let ptr = self.ptr();
        let vmctx = builder
            .func
            .special_param(ArgumentPurpose::VMContext)
            .expect("vmctx");
        let limits = builder
            .ins()
            .load(ptr, readonly(), vmctx, vmctx::VMCTX_LIMITS);
        let epoch_ptr = builder
            .ins()
            .load(ptr, readonly(), limits, vmctx::LIMITS_EPOCH);
        // Another thread advances the epoch: an atomic load is never merged with an earlier
        // one, so a loop with no calls or stores still sees it change.
        let epoch = builder
            .ins()
            .atomic_load(types::I64, MemFlags::trusted(), epoch_ptr);
        let deadline = builder.ins().load(
            types::I64,
            MemFlags::trusted(),
            limits,
            vmctx::LIMITS_DEADLINE,
        );
        let due = builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        builder.ins().trapnz(due, TrapCode::Interrupt);
    }
}

fn unsupported<T>(what: &str) -> WasmResult<T> {
    Err(WasmError::Unsupported(format!("{what} is not supported")))
}

impl TypeConvert for FuncEnv<'_> {
    fn lookup_heap_type(&self, _index: UnpackedIndex) -> WasmHeapType {
        // Only abstract heap types pass validation with the features this runtime enables.
        WasmHeapType::Func
    }

    fn lookup_type_index(&self, index: UnpackedIndex) -> cranelift_wasm::EngineOrModuleTypeIndex {
        let index = index.as_module_index().unwrap_or(0);
        cranelift_wasm::EngineOrModuleTypeIndex::Module(
            cranelift_wasm::ModuleInternedTypeIndex::from_u32(index),
        )
    }
}

impl TargetEnvironment for FuncEnv<'_> {
    fn target_config(&self) -> TargetFrontendConfig {
        self.isa.frontend_config()
    }

    fn heap_access_spectre_mitigation(&self) -> bool {
        false
    }

    fn proof_carrying_code(&self) -> bool {
        false
    }

    fn reference_type(&self, _ty: WasmHeapType) -> (ir::Type, bool) {
        (self.ptr(), false)
    }
}

impl FuncEnvironment for FuncEnv<'_> {
    fn is_wasm_parameter(&self, _signature: &Signature, index: usize) -> bool {
        index >= 2
    }

    fn param_needs_stack_map(&self, _signature: &Signature, _index: usize) -> bool {
        false
    }

    fn sig_ref_result_needs_stack_map(&self, _sig_ref: ir::SigRef, _index: usize) -> bool {
        false
    }

    fn func_ref_result_needs_stack_map(
        &self,
        _func: &Function,
        _func_ref: ir::FuncRef,
        _index: usize,
    ) -> bool {
        false
    }

    fn make_global(
        &mut self,
        func: &mut Function,
        index: GlobalIndex,
    ) -> WasmResult<GlobalVariable> {
        let vmctx = self.vmctx_gv(func);
        let gv = self.load_gv(func, vmctx, self.offsets.global(index.as_u32()));
        let ty = clif_type(self.info.globals[index.as_u32() as usize].content);
        Ok(GlobalVariable::Memory {
            gv,
            offset: 0.into(),
            ty,
        })
    }

    fn heaps(&self) -> &PrimaryMap<Heap, HeapData> {
        &self.heaps
    }

    fn make_heap(&mut self, func: &mut Function, index: MemoryIndex) -> WasmResult<Heap> {
        let i = index.as_u32();
        if let Some(heap) = self.memory_heaps[i as usize] {
            return Ok(heap);
        }
        let vmctx = self.vmctx_gv(func);
        let memory = self.load_gv(func, vmctx, self.offsets.memory(i));
        let base = self.load_gv(func, memory, vmctx::BASE);
        let limits = self.info.memories[i as usize].limits;
        let heap = self.heaps.push(HeapData {
            base,
            min_size: limits.min << 16,
            max_size: limits.max.map(|m| m << 16),
            offset_guard_size: MEMORY_GUARD,
            style: HeapStyle::Static {
                bound: MEMORY_RESERVATION,
            },
            index_type: types::I32,
            memory_type: None,
            page_size_log2: 16,
        });
        self.memory_heaps[i as usize] = Some(heap);
        Ok(heap)
    }

    fn make_indirect_sig(
        &mut self,
        func: &mut Function,
        index: TypeIndex,
    ) -> WasmResult<ir::SigRef> {
        let sig = wasm_signature(self.isa, &self.info.types[index.as_u32() as usize]);
        Ok(func.import_signature(sig))
    }

    fn make_direct_func(
        &mut self,
        func: &mut Function,
        index: FuncIndex,
    ) -> WasmResult<ir::FuncRef> {
        let i = index.as_u32();
        let sig = func.import_signature(wasm_signature(self.isa, self.info.func_type(i)));
        let name = func.declare_imported_user_function(UserExternalName::new(0, i));
        Ok(func.import_function(ExtFuncData {
            name: ExternalName::User(name),
            signature: sig,
            colocated: i >= self.info.num_imported_funcs,
        }))
    }

    fn translate_call(
        &mut self,
        builder: &mut FunctionBuilder,
        callee_index: FuncIndex,
        callee: ir::FuncRef,
        call_args: &[ir::Value],
    ) -> WasmResult<ir::Inst> {
        let vmctx = builder
            .func
            .special_param(ArgumentPurpose::VMContext)
            .expect("vmctx");
        let i = callee_index.as_u32();
        if i >= self.info.num_imported_funcs {
            let mut args = vec![vmctx, vmctx];
            args.extend_from_slice(call_args);
            return Ok(builder.ins().call(callee, &args));
        }
        let ptr = self.ptr();
        let slot = self.offsets.imported_func(i);
        let func_ptr = builder.ins().load(ptr, readonly(), vmctx, slot);
        let callee_vmctx = builder.ins().load(ptr, readonly(), vmctx, slot + 8);
        let sig = builder.func.dfg.ext_funcs[callee].signature;
        let mut args = vec![callee_vmctx, vmctx];
        args.extend_from_slice(call_args);
        Ok(builder.ins().call_indirect(sig, func_ptr, &args))
    }

    fn translate_call_indirect(
        &mut self,
        builder: &mut FunctionBuilder,
        table_index: TableIndex,
        sig_index: TypeIndex,
        sig_ref: ir::SigRef,
        callee: ir::Value,
        call_args: &[ir::Value],
    ) -> WasmResult<Option<ir::Inst>> {
        let ptr = self.ptr();
        let elem = self.table_elem_addr(builder, table_index, callee);
        let funcref = builder.ins().load(ptr, MemFlags::trusted(), elem, 0);
        builder.ins().trapz(funcref, TrapCode::IndirectCallToNull);
        let vmctx = builder
            .func
            .special_param(ArgumentPurpose::VMContext)
            .expect("vmctx");
        let type_ids = builder
            .ins()
            .load(ptr, readonly(), vmctx, vmctx::VMCTX_TYPE_IDS);
        let expected = builder.ins().load(
            types::I32,
            readonly(),
            type_ids,
            (sig_index.as_u32() * 4) as i32,
        );
        let actual = builder.ins().load(
            types::I32,
            MemFlags::trusted(),
            funcref,
            vmctx::FUNCREF_TYPE_ID,
        );
        let mismatch = builder.ins().icmp(IntCC::NotEqual, expected, actual);
        builder.ins().trapnz(mismatch, TrapCode::BadSignature);
        let func_ptr =
            builder
                .ins()
                .load(ptr, MemFlags::trusted(), funcref, vmctx::FUNCREF_FUNC_PTR);
        let callee_vmctx =
            builder
                .ins()
                .load(ptr, MemFlags::trusted(), funcref, vmctx::FUNCREF_VMCTX);
        let mut args = vec![callee_vmctx, vmctx];
        args.extend_from_slice(call_args);
        Ok(Some(builder.ins().call_indirect(sig_ref, func_ptr, &args)))
    }

    fn translate_return_call_indirect(
        &mut self,
        _builder: &mut FunctionBuilder,
        _table_index: TableIndex,
        _sig_index: TypeIndex,
        _sig_ref: ir::SigRef,
        _callee: ir::Value,
        _call_args: &[ir::Value],
    ) -> WasmResult<()> {
        unsupported("return_call_indirect")
    }

    fn translate_return_call_ref(
        &mut self,
        _builder: &mut FunctionBuilder,
        _sig_ref: ir::SigRef,
        _callee: ir::Value,
        _call_args: &[ir::Value],
    ) -> WasmResult<()> {
        unsupported("return_call_ref")
    }

    fn translate_call_ref(
        &mut self,
        _builder: &mut FunctionBuilder,
        _sig_ref: ir::SigRef,
        _callee: ir::Value,
        _call_args: &[ir::Value],
    ) -> WasmResult<ir::Inst> {
        unsupported("call_ref")
    }

    fn translate_memory_grow(
        &mut self,
        mut pos: FuncCursor,
        index: MemoryIndex,
        _heap: Heap,
        val: ir::Value,
    ) -> WasmResult<ir::Value> {
        let memory = pos.ins().iconst(types::I32, i64::from(index.as_u32()));
        Ok(self.libcall(&mut pos, Libcall::MemoryGrow, &[memory, val]))
    }

    fn translate_memory_size(
        &mut self,
        mut pos: FuncCursor,
        index: MemoryIndex,
        _heap: Heap,
    ) -> WasmResult<ir::Value> {
        let ptr = self.ptr();
        let memory = self.load_vmctx_field(&mut pos, self.offsets.memory(index.as_u32()));
        let length = pos
            .ins()
            .load(ptr, MemFlags::trusted(), memory, vmctx::LENGTH);
        let pages = pos.ins().ushr_imm(length, 16);
        Ok(pos.ins().ireduce(types::I32, pages))
    }

    fn translate_memory_copy(
        &mut self,
        mut pos: FuncCursor,
        src_index: MemoryIndex,
        _src_heap: Heap,
        dst_index: MemoryIndex,
        _dst_heap: Heap,
        dst: ir::Value,
        src: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let dst_mem = pos.ins().iconst(types::I32, i64::from(dst_index.as_u32()));
        let src_mem = pos.ins().iconst(types::I32, i64::from(src_index.as_u32()));
        self.checked_libcall(
            &mut pos,
            Libcall::MemoryCopy,
            &[dst_mem, src_mem, dst, src, len],
            TrapCode::HeapOutOfBounds,
        );
        Ok(())
    }

    fn translate_memory_fill(
        &mut self,
        mut pos: FuncCursor,
        index: MemoryIndex,
        _heap: Heap,
        dst: ir::Value,
        val: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let memory = pos.ins().iconst(types::I32, i64::from(index.as_u32()));
        self.checked_libcall(
            &mut pos,
            Libcall::MemoryFill,
            &[memory, dst, val, len],
            TrapCode::HeapOutOfBounds,
        );
        Ok(())
    }

    fn translate_memory_init(
        &mut self,
        mut pos: FuncCursor,
        index: MemoryIndex,
        _heap: Heap,
        seg_index: u32,
        dst: ir::Value,
        src: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let memory = pos.ins().iconst(types::I32, i64::from(index.as_u32()));
        let segment = pos.ins().iconst(types::I32, i64::from(seg_index));
        self.checked_libcall(
            &mut pos,
            Libcall::MemoryInit,
            &[memory, segment, dst, src, len],
            TrapCode::HeapOutOfBounds,
        );
        Ok(())
    }

    fn translate_data_drop(&mut self, mut pos: FuncCursor, seg_index: u32) -> WasmResult<()> {
        let segment = pos.ins().iconst(types::I32, i64::from(seg_index));
        self.libcall(&mut pos, Libcall::DataDrop, &[segment]);
        Ok(())
    }

    fn translate_table_size(
        &mut self,
        mut pos: FuncCursor,
        index: TableIndex,
    ) -> WasmResult<ir::Value> {
        let ptr = self.ptr();
        let table = self.load_vmctx_field(&mut pos, self.offsets.table(index.as_u32()));
        let length = pos
            .ins()
            .load(ptr, MemFlags::trusted(), table, vmctx::LENGTH);
        Ok(pos.ins().ireduce(types::I32, length))
    }

    fn translate_table_grow(
        &mut self,
        mut pos: FuncCursor,
        table_index: TableIndex,
        delta: ir::Value,
        init_value: ir::Value,
    ) -> WasmResult<ir::Value> {
        let table = pos
            .ins()
            .iconst(types::I32, i64::from(table_index.as_u32()));
        Ok(self.libcall(&mut pos, Libcall::TableGrow, &[table, delta, init_value]))
    }

    fn translate_table_get(
        &mut self,
        builder: &mut FunctionBuilder,
        table_index: TableIndex,
        index: ir::Value,
    ) -> WasmResult<ir::Value> {
        let addr = self.table_elem_addr(builder, table_index, index);
        Ok(builder.ins().load(self.ptr(), MemFlags::trusted(), addr, 0))
    }

    fn translate_table_set(
        &mut self,
        builder: &mut FunctionBuilder,
        table_index: TableIndex,
        value: ir::Value,
        index: ir::Value,
    ) -> WasmResult<()> {
        let addr = self.table_elem_addr(builder, table_index, index);
        builder.ins().store(MemFlags::trusted(), value, addr, 0);
        Ok(())
    }

    fn translate_table_copy(
        &mut self,
        mut pos: FuncCursor,
        dst_table_index: TableIndex,
        src_table_index: TableIndex,
        dst: ir::Value,
        src: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let dst_table = pos
            .ins()
            .iconst(types::I32, i64::from(dst_table_index.as_u32()));
        let src_table = pos
            .ins()
            .iconst(types::I32, i64::from(src_table_index.as_u32()));
        self.checked_libcall(
            &mut pos,
            Libcall::TableCopy,
            &[dst_table, src_table, dst, src, len],
            TrapCode::TableOutOfBounds,
        );
        Ok(())
    }

    fn translate_table_fill(
        &mut self,
        mut pos: FuncCursor,
        table_index: TableIndex,
        dst: ir::Value,
        val: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let table = pos
            .ins()
            .iconst(types::I32, i64::from(table_index.as_u32()));
        self.checked_libcall(
            &mut pos,
            Libcall::TableFill,
            &[table, dst, val, len],
            TrapCode::TableOutOfBounds,
        );
        Ok(())
    }

    fn translate_table_init(
        &mut self,
        mut pos: FuncCursor,
        seg_index: u32,
        table_index: TableIndex,
        dst: ir::Value,
        src: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let table = pos
            .ins()
            .iconst(types::I32, i64::from(table_index.as_u32()));
        let segment = pos.ins().iconst(types::I32, i64::from(seg_index));
        self.checked_libcall(
            &mut pos,
            Libcall::TableInit,
            &[table, segment, dst, src, len],
            TrapCode::TableOutOfBounds,
        );
        Ok(())
    }

    fn translate_elem_drop(&mut self, mut pos: FuncCursor, seg_index: u32) -> WasmResult<()> {
        let segment = pos.ins().iconst(types::I32, i64::from(seg_index));
        self.libcall(&mut pos, Libcall::ElemDrop, &[segment]);
        Ok(())
    }

    fn translate_ref_null(
        &mut self,
        mut pos: FuncCursor,
        _ty: WasmHeapType,
    ) -> WasmResult<ir::Value> {
        Ok(pos.ins().iconst(self.ptr(), 0))
    }

    fn translate_ref_is_null(
        &mut self,
        mut pos: FuncCursor,
        value: ir::Value,
    ) -> WasmResult<ir::Value> {
        let is_null = pos.ins().icmp_imm(IntCC::Equal, value, 0);
        Ok(pos.ins().uextend(types::I32, is_null))
    }

    fn translate_ref_func(
        &mut self,
        mut pos: FuncCursor,
        func_index: FuncIndex,
    ) -> WasmResult<ir::Value> {
        let funcrefs = self.load_vmctx_field(&mut pos, vmctx::VMCTX_FUNCREFS);
        Ok(pos.ins().iadd_imm(
            funcrefs,
            i64::from(func_index.as_u32()) * vmctx::FUNCREF_SIZE,
        ))
    }

    fn translate_custom_global_get(
        &mut self,
        _builder: &mut FunctionBuilder,
        _global_index: GlobalIndex,
    ) -> WasmResult<ir::Value> {
        unsupported("custom globals")
    }

    fn translate_custom_global_set(
        &mut self,
        _builder: &mut FunctionBuilder,
        _global_index: GlobalIndex,
        _val: ir::Value,
    ) -> WasmResult<()> {
        unsupported("custom globals")
    }

    fn translate_atomic_wait(
        &mut self,
        _pos: FuncCursor,
        _index: MemoryIndex,
        _heap: Heap,
        _addr: ir::Value,
        _expected: ir::Value,
        _timeout: ir::Value,
    ) -> WasmResult<ir::Value> {
        unsupported("memory.atomic.wait")
    }

    fn translate_atomic_notify(
        &mut self,
        _pos: FuncCursor,
        _index: MemoryIndex,
        _heap: Heap,
        _addr: ir::Value,
        _count: ir::Value,
    ) -> WasmResult<ir::Value> {
        unsupported("memory.atomic.notify")
    }

    fn translate_ref_i31(&mut self, _pos: FuncCursor, _val: ir::Value) -> WasmResult<ir::Value> {
        unsupported("i31 references")
    }

    fn translate_i31_get_s(
        &mut self,
        _pos: FuncCursor,
        _i31ref: ir::Value,
    ) -> WasmResult<ir::Value> {
        unsupported("i31 references")
    }

    fn translate_i31_get_u(
        &mut self,
        _pos: FuncCursor,
        _i31ref: ir::Value,
    ) -> WasmResult<ir::Value> {
        unsupported("i31 references")
    }

    fn translate_loop_header(&mut self, builder: &mut FunctionBuilder) -> WasmResult<()> {
        if self.epoch_interruption {
            self.epoch_check(builder);
        }
        Ok(())
    }

    fn before_translate_function(
        &mut self,
        builder: &mut FunctionBuilder,
        _state: &cranelift_wasm::FuncTranslationState,
    ) -> WasmResult<()> {
        if self.epoch_interruption {
            self.epoch_check(builder);
        }
        Ok(())
    }

    fn is_x86(&self) -> bool {
        self.isa.triple().architecture == target_lexicon::Architecture::X86_64
    }
}
