//! The function environment: how translated code reaches the instance through its `vmctx` —
//! memories, tables, globals, imported functions, type ids and runtime helpers — with the
//! layout the environment layer fixes for both the compiler and the VM.

use cranelift_codegen::{
    cursor::{Cursor, FuncCursor},
    ir::{
        self, AbiParam, ArgumentPurpose, ExtFuncData, ExternalName, Function, GlobalValueData,
        InstBuilder, MemFlagsData, Signature, UserExternalName, condcodes::IntCC, types,
    },
    isa::{CallConv, TargetIsa},
};
use cranelift_frontend::FunctionBuilder;

use wasm_prof_environ::{
    AddressType, FuncType, HeapType, Libcall, ModuleInfo, VMOffsets, ValType,
    tunables::{MEMORY_GUARD, MEMORY_RESERVATION},
    vmoffsets as vmctx,
};

use crate::traps;

/// The calling convention of every wasm function, trampolines' wasm side included: Cranelift's
/// `tail` convention, so that `return_call` works between any two wasm functions.
pub(crate) const WASM_CALL_CONV: CallConv = CallConv::Tail;

/// The Cranelift type a wasm value is carried in: vectors as `i8x16`, references as pointers.
pub(crate) fn clif_type(ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => types::I64,
    }
}

/// The Cranelift type of a value type as wasmparser reports it (locals, block types).
pub(crate) fn clif_type_of(ty: wasmparser::ValType) -> ir::Type {
    match ty {
        wasmparser::ValType::I32 => types::I32,
        wasmparser::ValType::I64 => types::I64,
        wasmparser::ValType::F32 => types::F32,
        wasmparser::ValType::F64 => types::F64,
        wasmparser::ValType::V128 => types::I8X16,
        wasmparser::ValType::Ref(_) => types::I64,
    }
}

/// The native signature of a wasm function: `(callee vmctx, caller vmctx, params...) -> results`.
pub(crate) fn wasm_signature(isa: &dyn TargetIsa, ty: &FuncType) -> Signature {
    let ptr = isa.pointer_type();
    let mut sig = Signature::new(WASM_CALL_CONV);
    sig.params
        .push(AbiParam::special(ptr, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(ptr));
    sig.params
        .extend(ty.params.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(ty.results.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// A libcall's parameter types after the leading `vmctx` (the VM's helpers take these): the
/// memory, table and segment indices as i32s, then the operator's operands, each as an i64
/// (addresses, indices and sizes of 32-bit memories and tables zero-extended; see
/// [`FuncEnv::address_to_ptr`]).
fn libcall_params(libcall: Libcall) -> &'static [ir::Type] {
    use types::{I32, I64};
    match libcall {
        Libcall::MemoryGrow => &[I32, I64],
        Libcall::MemoryCopy => &[I32, I32, I64, I64, I64],
        Libcall::MemoryFill => &[I32, I64, I64, I64],
        Libcall::MemoryInit => &[I32, I32, I64, I64, I64],
        Libcall::DataDrop => &[I32],
        Libcall::TableGrow => &[I32, I64, I64],
        Libcall::TableCopy => &[I32, I32, I64, I64, I64],
        Libcall::TableFill => &[I32, I64, I64, I64],
        Libcall::TableInit => &[I32, I32, I64, I64, I64],
        Libcall::ElemDrop => &[I32],
        Libcall::Throw => &[I32, I64],
        Libcall::ThrowRef => &[I64],
        Libcall::IsSubtype => &[I32, I32],
        Libcall::RefFunc => &[I32],
        Libcall::TableResolve => &[I32, I64],
        Libcall::TableMaterialize => &[I32],
    }
}

/// Whether a libcall throws (and never returns) rather than returning a value.
fn libcall_throws(libcall: Libcall) -> bool {
    matches!(libcall, Libcall::Throw | Libcall::ThrowRef)
}

/// The type of a returning libcall's result: the old size (as an i64) for the growing ones, a
/// reference for those that produce one, an i32 status for the others.
fn libcall_result(libcall: Libcall) -> ir::Type {
    match libcall {
        Libcall::MemoryGrow | Libcall::TableGrow => types::I64,
        Libcall::RefFunc | Libcall::TableResolve => types::I64,
        _ => types::I32,
    }
}

/// The calling convention of a call to `libcall`. The throwing ones are called with the wasm
/// convention: a `try_call` to them then treats every register as clobbered on the exceptional
/// edge (with the host's convention the landing pad would expect its callee-saved registers
/// back, which the unwinder does not restore, and the handler's `vmctx` context could live in
/// one of them, where the unwinder cannot find it). The VM's assembly entry shims take the
/// arguments where the wasm convention puts them (on x86-64 where the host's does too; on
/// aarch64 from `x2` on).
fn libcall_call_conv(isa: &dyn TargetIsa, libcall: Libcall) -> CallConv {
    if libcall_throws(libcall) {
        WASM_CALL_CONV
    } else {
        isa.default_call_conv()
    }
}

/// The signature of runtime helper `libcall`: the `vmctx`, then its own parameters.
fn libcall_signature(isa: &dyn TargetIsa, libcall: Libcall) -> Signature {
    let mut sig = Signature::new(libcall_call_conv(isa, libcall));
    sig.params.push(AbiParam::new(isa.pointer_type()));
    sig.params
        .extend(libcall_params(libcall).iter().map(|t| AbiParam::new(*t)));
    if !libcall_throws(libcall) {
        sig.returns.push(AbiParam::new(libcall_result(libcall)));
    }
    sig
}

/// The imported signature of runtime helper `libcall` and its address, read from the libcall
/// table of the instance whose `vmctx` is given.
pub(crate) fn libcall_address(
    isa: &dyn TargetIsa,
    b: &mut FunctionBuilder,
    vmctx: ir::Value,
    libcall: Libcall,
) -> (ir::SigRef, ir::Value) {
    let ptr = isa.pointer_type();
    let sig = b.import_signature(libcall_signature(isa, libcall));
    let table = b.ins().load(ptr, readonly(), vmctx, vmctx::VMCTX_LIBCALLS);
    let offset = libcall as i32 * ptr.bytes() as i32;
    let callee = b.ins().load(ptr, readonly(), table, offset);
    (sig, callee)
}

/// Flags for loads of the `vmctx` fields and runtime records that stay the same for an
/// instance's whole life: read-only, never trapping (the `vmctx` is always valid) and movable,
/// so Cranelift merges repeated loads and hoists them out of loops.
pub(crate) fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// What translated code needs of the module and target, and how it reaches the `vmctx`.
pub(crate) struct FuncEnv<'a> {
    /// The target.
    pub isa: &'a dyn TargetIsa,
    /// The module being compiled.
    pub info: &'a ModuleInfo,
    /// Where each `vmctx` field lives.
    pub offsets: VMOffsets,
    /// Whether to check the epoch deadline at function entry and loop headers.
    pub epoch_interruption: bool,
    direct_funcs: Vec<Option<ir::FuncRef>>,
    signatures: Vec<Option<ir::SigRef>>,
    entry_values: EntryValues,
}

/// Values computed once per function in its entry block and reused everywhere after.
struct EntryValues {
    memory_bases: Vec<Option<ir::Value>>,
    globals: Vec<Option<ir::Value>>,
}

/// Emits instructions into the function's entry block, which dominates the whole function:
/// at its end while it is still the current block, otherwise just before its terminator.
/// `emit` gets a cursor there and the function's `vmctx`.
fn in_entry_block<R>(
    b: &mut FunctionBuilder,
    emit: impl FnOnce(&mut FuncCursor, ir::Value) -> R,
) -> R {
    let vmctx = FuncEnv::vmctx(b);
    let entry = b
        .func
        .layout
        .entry_block()
        .expect("the function has an entry block");
    let current = b.current_block();
    let mut pos = FuncCursor::new(b.func);
    if current == Some(entry) {
        pos.goto_bottom(entry);
    } else {
        let terminator = pos
            .func
            .layout
            .last_inst(entry)
            .expect("a finished entry block ends in a terminator");
        pos.goto_inst(terminator);
    }
    emit(&mut pos, vmctx)
}

impl<'a> FuncEnv<'a> {
    /// The environment for one function of `info`.
    pub fn new(isa: &'a dyn TargetIsa, info: &'a ModuleInfo, epoch_interruption: bool) -> Self {
        Self {
            isa,
            info,
            offsets: VMOffsets::new(info),
            epoch_interruption,
            direct_funcs: Vec::new(),
            signatures: Vec::new(),
            entry_values: EntryValues {
                memory_bases: vec![None; info.memories.len()],
                globals: vec![None; info.globals.len()],
            },
        }
    }

    /// The target's pointer type.
    pub fn ptr(&self) -> ir::Type {
        self.isa.pointer_type()
    }

    /// The function's own `vmctx` parameter.
    pub fn vmctx(b: &FunctionBuilder) -> ir::Value {
        b.func
            .special_param(ArgumentPurpose::VMContext)
            .expect("wasm functions take a vmctx")
    }

    /// Makes the function check the store's stack limit in its prologue.
    pub fn install_stack_limit(&self, func: &mut Function) {
        let vmctx = func.create_global_value(GlobalValueData::VMContext);
        let readonly = func.dfg.mem_flags.insert_unchecked(readonly());
        let trusted = func.dfg.mem_flags.insert_unchecked(MemFlagsData::trusted());
        let limits = func.create_global_value(GlobalValueData::Load {
            base: vmctx,
            offset: vmctx::VMCTX_LIMITS.into(),
            global_type: self.ptr(),
            flags: readonly,
        });
        let limit = func.create_global_value(GlobalValueData::Load {
            base: limits,
            offset: vmctx::LIMITS_STACK.into(),
            global_type: self.ptr(),
            flags: trusted,
        });
        func.stack_limit = Some(limit);
    }

    /// Loads the read-only pointer-sized field at `vmctx + offset`.
    pub fn load_vmctx_field(&self, b: &mut FunctionBuilder, offset: i32) -> ir::Value {
        let vmctx = Self::vmctx(b);
        b.ins().load(self.ptr(), readonly(), vmctx, offset)
    }

    /// Calls runtime helper `libcall` with `vmctx` prepended to `args`; returns its result.
    pub fn libcall(
        &self,
        b: &mut FunctionBuilder,
        libcall: Libcall,
        args: &[ir::Value],
    ) -> ir::Value {
        let (sig, callee, call_args) = self.libcall_target(b, libcall, args);
        let call = b.ins().call_indirect(sig, callee, &call_args);
        b.func.dfg.first_result(call)
    }

    /// The signature, address and arguments (`vmctx` first) of a call to runtime helper
    /// `libcall` with `args`.
    pub fn libcall_target(
        &self,
        b: &mut FunctionBuilder,
        libcall: Libcall,
        args: &[ir::Value],
    ) -> (ir::SigRef, ir::Value, Vec<ir::Value>) {
        let vmctx = Self::vmctx(b);
        let (sig, callee) = libcall_address(self.isa, b, vmctx, libcall);
        let mut call_args = vec![vmctx];
        call_args.extend_from_slice(args);
        (sig, callee, call_args)
    }

    /// A libcall whose non-zero result means a trap with `code`.
    pub fn checked_libcall(
        &self,
        b: &mut FunctionBuilder,
        libcall: Libcall,
        args: &[ir::Value],
        code: ir::TrapCode,
    ) {
        let status = self.libcall(b, libcall, args);
        b.ins().trapnz(status, code);
    }

    /// The base address of memory `index`. A memory never moves (its whole reservation is
    /// mapped once), so both loads that find the base are read-only, non-trapping and movable:
    /// Cranelift merges repeated ones and hoists them out of loops. A 32-bit memory's
    /// reservation and guard catch every access whose static offset plus size stays within
    /// [`FuncEnv::max_unchecked_end`]; larger offsets need explicit checks.
    ///
    /// The two loads are emitted once per function, in the entry block, which dominates every
    /// use: less IR for Cranelift to optimise than one pair per access.
    pub fn memory_base(&mut self, b: &mut FunctionBuilder, index: u32) -> ir::Value {
        if let Some(base) = self.entry_values.memory_bases[index as usize] {
            return base;
        }
        let (ptr, offset) = (self.ptr(), self.offsets.memory(index));
        let base = in_entry_block(b, |pos, vmctx| {
            let record = pos.ins().load(ptr, readonly(), vmctx, offset);
            pos.ins().load(ptr, readonly(), record, vmctx::BASE)
        });
        self.entry_values.memory_bases[index as usize] = Some(base);
        base
    }

    /// The current byte length of memory `index` (it changes when the memory grows).
    pub fn memory_length(&self, b: &mut FunctionBuilder, index: u32) -> ir::Value {
        let record = self.load_vmctx_field(b, self.offsets.memory(index));
        b.ins()
            .load(self.ptr(), MemFlagsData::trusted(), record, vmctx::LENGTH)
    }

    /// The largest static offset plus access size that the reservation and guard of a 32-bit
    /// memory cover with no explicit bounds check.
    pub fn max_unchecked_end(&self) -> u64 {
        MEMORY_RESERVATION + MEMORY_GUARD - (u32::MAX as u64 + 1)
    }

    /// The address type of memory `index`.
    pub fn memory_address_type(&self, index: u32) -> AddressType {
        self.info.memories[index as usize].address_type
    }

    /// Whether table `index` holds function references (whose elements the VM may initialise
    /// lazily).
    pub fn is_func_table(&self, index: u32) -> bool {
        self.info.tables[index as usize].element.heap.top() == HeapType::Func
    }

    /// The address type of table `index`.
    pub fn table_address_type(&self, index: u32) -> AddressType {
        self.info.tables[index as usize].address_type
    }

    /// `value`, an i32 or an i64 (an address, index or size of either address type, or any
    /// other libcall operand), zero-extended to the pointer width when narrower.
    pub fn address_to_ptr(&self, b: &mut FunctionBuilder, value: ir::Value) -> ir::Value {
        if b.func.dfg.value_type(value) == self.ptr() {
            value
        } else {
            b.ins().uextend(self.ptr(), value)
        }
    }

    /// A pointer-width size or index `value` as a wasm value of `address_type`: cut to an
    /// i32 for a 32-bit memory or table (where the value fits or is the all-ones failure
    /// marker, which stays -1).
    pub fn ptr_to_address(
        &self,
        b: &mut FunctionBuilder,
        value: ir::Value,
        address_type: AddressType,
    ) -> ir::Value {
        match address_type {
            AddressType::I32 => b.ins().ireduce(types::I32, value),
            AddressType::I64 => value,
        }
    }

    /// Bounds-checks `index` (of the table's address type, checked in full: an i64 index is
    /// never cut before the comparison) against table `table` and returns the element's
    /// address.
    pub fn table_elem_addr(
        &self,
        b: &mut FunctionBuilder,
        table: u32,
        index: ir::Value,
    ) -> ir::Value {
        let ptr = self.ptr();
        let record = self.load_vmctx_field(b, self.offsets.table(table));
        let length = b
            .ins()
            .load(ptr, MemFlagsData::trusted(), record, vmctx::LENGTH);
        let index = self.address_to_ptr(b, index);
        let oob = b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        b.ins().trapnz(oob, traps::TABLE_OUT_OF_BOUNDS);
        let base = b
            .ins()
            .load(ptr, MemFlagsData::trusted(), record, vmctx::BASE);
        let scaled = b.ins().ishl_imm_u(index, 3);
        b.ins().iadd(base, scaled)
    }

    /// The address of global `index`'s storage.
    /// Loaded once per function, in the entry block, like [`FuncEnv::memory_base`].
    pub fn global_addr(&mut self, b: &mut FunctionBuilder, index: u32) -> ir::Value {
        if let Some(addr) = self.entry_values.globals[index as usize] {
            return addr;
        }
        let (ptr, offset) = (self.ptr(), self.offsets.global(index));
        let addr = in_entry_block(b, |pos, vmctx| {
            pos.ins().load(ptr, readonly(), vmctx, offset)
        });
        self.entry_values.globals[index as usize] = Some(addr);
        addr
    }

    /// The imported signature of type index `index`, declared once per function.
    pub fn signature(&mut self, b: &mut FunctionBuilder, index: u32) -> ir::SigRef {
        let i = index as usize;
        if self.signatures.len() <= i {
            self.signatures.resize(i + 1, None);
        }
        if let Some(sig) = self.signatures[i] {
            return sig;
        }
        let sig = b.import_signature(wasm_signature(self.isa, &self.info.types[i]));
        self.signatures[i] = Some(sig);
        sig
    }

    /// The callee reference of defined function `index`, declared once per function.
    pub fn direct_func(&mut self, b: &mut FunctionBuilder, index: u32) -> ir::FuncRef {
        let i = index as usize;
        if self.direct_funcs.len() <= i {
            self.direct_funcs.resize(i + 1, None);
        }
        if let Some(func) = self.direct_funcs[i] {
            return func;
        }
        let signature = b.import_signature(wasm_signature(self.isa, self.info.func_type(index)));
        let name = b
            .func
            .declare_imported_user_function(UserExternalName::new(0, index));
        let func = b.import_function(ExtFuncData {
            name: ExternalName::User(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.direct_funcs[i] = Some(func);
        func
    }

    /// Traps with `Interrupt` once the engine's epoch reaches the store's deadline.
    pub fn epoch_check(&self, b: &mut FunctionBuilder) {
        if !self.epoch_interruption {
            return;
        }
        let ptr = self.ptr();
        let limits = self.load_vmctx_field(b, vmctx::VMCTX_LIMITS);
        let epoch_ptr = b.ins().load(ptr, readonly(), limits, vmctx::LIMITS_EPOCH);
        // Another thread advances the epoch: an atomic load is never merged with an earlier
        // one, so a loop with no calls or stores still sees it change.
        let epoch = b
            .ins()
            .atomic_load(types::I64, MemFlagsData::trusted(), epoch_ptr);
        let deadline = b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            limits,
            vmctx::LIMITS_DEADLINE,
        );
        let due = b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        b.ins().trapnz(due, traps::INTERRUPT);
    }
}
