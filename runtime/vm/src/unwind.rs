//! Throwing: the entry shims of the `throw` and `throw_ref` libcalls, the walk up the wasm frames
//! that looks for a handler, and the jump to it.
//!
//! Compiled code keeps frame pointers, so from a wasm frame the chain `[fp]` (the caller's frame
//! pointer), `[fp + 8]` (the return address) leads through every wasm frame up to the
//! host-to-wasm trampoline of the current guest call. Rust frames keep no frame pointers, so
//! the libcalls enter through a small assembly shim that passes the calling wasm frame's frame
//! pointer and return address on to Rust.
//!
//! At each wasm frame the call site's entry in the module's exception table lists its handlers:
//! the first that catches the exception wins, and control resumes at its landing pad with the
//! stack pointer the call site had, the frame's frame pointer and the exception in the first
//! payload register (Cranelift treats every other register as clobbered on that edge). A
//! wasm-to-host trampoline is passed through (its host function rethrew an exception that came
//! out of a nested guest call). Reaching a host-to-wasm trampoline, the exception is uncaught:
//! the guest call ends with [`TrapKind::UncaughtException`].
//!
//! The jumps skip the frames above their target without running destructors, so the code below
//! computes every target into plain `Copy` data (or moves its trap away) before jumping, and
//! holds no lock or borrow across a jump.

use wasm_prof_environ::{ExnRef, TrapKind};

use crate::{
    code_registry,
    compiled_module::{CodeKind, Landing},
    instance::Instance,
    signals,
    trap::{Frame, Trap},
};

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".pushsection .text.wasm_prof_unwind_shims,\"ax\",@progbits",
    // throw(vmctx, tag, values): the wasm caller's frame pointer and return address become
    // the fourth and fifth arguments; the return address stays on the stack so the stack
    // is aligned as at any call.
    ".p2align 4",
    ".hidden wasm_prof_throw_shim",
    ".globl wasm_prof_throw_shim",
    "wasm_prof_throw_shim:",
    "mov rcx, rbp",
    "mov r8, [rsp]",
    "jmp {throw}",
    // throw_ref(vmctx, exnref): third and fourth arguments.
    ".p2align 4",
    ".hidden wasm_prof_throw_ref_shim",
    ".globl wasm_prof_throw_ref_shim",
    "wasm_prof_throw_ref_shim:",
    "mov rdx, rbp",
    "mov rcx, [rsp]",
    "jmp {throw_ref}",
    // resume(pc, sp, fp, exnref): continues at a landing pad.
    ".p2align 4",
    ".hidden wasm_prof_resume",
    ".globl wasm_prof_resume",
    "wasm_prof_resume:",
    "mov rsp, rsi",
    "mov rbp, rdx",
    "mov rax, rcx",
    "jmp rdi",
    ".popsection",
    throw = sym throw,
    throw_ref = sym throw_ref,
);

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".pushsection .text.wasm_prof_unwind_shims,\"ax\",@progbits",
    ".p2align 4",
    ".hidden wasm_prof_throw_shim",
    ".globl wasm_prof_throw_shim",
    "wasm_prof_throw_shim:",
    // The wasm convention passes arguments from x2 on; the host's from x0.
    "mov x0, x2",
    "mov x1, x3",
    "mov x2, x4",
    "mov x3, x29",
    "mov x4, x30",
    "b {throw}",
    ".p2align 4",
    ".hidden wasm_prof_throw_ref_shim",
    ".globl wasm_prof_throw_ref_shim",
    "wasm_prof_throw_ref_shim:",
    "mov x0, x2",
    "mov x1, x3",
    "mov x2, x29",
    "mov x3, x30",
    "b {throw_ref}",
    ".p2align 4",
    ".hidden wasm_prof_resume",
    ".globl wasm_prof_resume",
    "wasm_prof_resume:",
    "mov sp, x1",
    "mov x29, x2",
    "mov x16, x0",
    "mov x0, x3",
    "br x16",
    ".popsection",
    throw = sym throw,
    throw_ref = sym throw_ref,
);

unsafe extern "C" {
    fn wasm_prof_throw_shim();
    fn wasm_prof_throw_ref_shim();
    fn wasm_prof_resume(pc: usize, sp: usize, fp: usize, exnref: usize) -> !;
}

/// The address compiled code calls for `throw`: `(vmctx, tag index, values in 16-byte slots)`.
pub(crate) fn throw_libcall() -> usize {
    wasm_prof_throw_shim as *const () as usize
}

/// The address compiled code calls for `throw_ref`: `(vmctx, exnref)`.
pub(crate) fn throw_ref_libcall() -> usize {
    wasm_prof_throw_ref_shim as *const () as usize
}

/// `throw`: makes an exception of the caller's tag `tag` with the values at `values`, then
/// unwinds from the wasm frame `fp` that called at return address `pc`.
extern "C" fn throw(vmctx: *mut u8, tag: u32, values: *const u128, fp: usize, pc: usize) -> ! {
    let exnref = allocate(vmctx, tag, values);
    throw_ref(vmctx, exnref, fp, pc)
}

/// Records a new exception in the store of the instance `vmctx` belongs to.
fn allocate(vmctx: *mut u8, tag: u32, values: *const u128) -> usize {
    // SAFETY: compiled code passes its own instance's vmctx, alive while its code runs; the
    // guest is suspended in this call, so nothing else uses the instance.
    let instance = unsafe { Instance::from_vmctx(vmctx) };
    let tag = instance.tag(tag);
    // SAFETY: the instance's tags are store-owned records that outlive it.
    let count = unsafe { (*tag).ty.params.len() };
    // SAFETY: `throw` stored one 16-byte slot per value of the tag's type at `values`.
    let values = unsafe { std::slice::from_raw_parts(values, count) };
    instance.exceptions_mut().allocate(tag, values.into())
}

/// `throw_ref`: unwinds with the exception `exnref` from the wasm frame `fp` that called at
/// return address `pc`.
extern "C" fn throw_ref(_vmctx: *mut u8, exnref: usize, fp: usize, pc: usize) -> ! {
    match unwind(exnref, fp, pc) {
        Ok(landing) => {
            // SAFETY: the landing pad belongs to a live wasm frame below which only the frames
            // being abandoned lie (wasm frames, trampolines passed through and this call), none
            // of which owns anything; its stack and frame pointers are the ones it expects.
            unsafe { wasm_prof_resume(landing.pc, landing.sp, landing.fp, exnref) }
        }
        Err(trap) => signals::leave_guest(trap),
    }
}

/// Finds the handler for exception `exnref` thrown from the call returning to `pc` in the wasm
/// frame `fp`; or the trap that ends the guest call when none catches it (a null `exnref`
/// traps at once).
fn unwind(exnref: usize, fp: usize, pc: usize) -> Result<Landing, Trap> {
    let mut backtrace = Vec::new();
    if exnref == 0 {
        walk(fp, pc, |frame, _| {
            backtrace.push(frame);
            None
        });
        return Err(Trap {
            backtrace,
            ..Trap::new(TrapKind::NullReference)
        });
    }
    // SAFETY: a non-null exnref from compiled code (or a trampoline's rethrow) is the address
    // of a live exception record; its tag is at offset 0.
    let tag = unsafe { *(exnref as *const usize) };
    let found = walk(fp, pc, |frame, handler| {
        backtrace.push(frame);
        handler(tag)
    });
    found.ok_or_else(|| Trap {
        backtrace,
        exception: ExnRef::from_address(exnref),
        ..Trap::new(TrapKind::UncaughtException)
    })
}

/// Walks the wasm frames from the one with frame pointer `fp` that called at return address
/// `pc` up to the guest call's entry trampoline, calling `visit` with each wasm function's
/// frame and a lookup of the handler its call site has for a tag; stops at the first landing
/// `visit` returns.
fn walk(
    mut fp: usize,
    mut pc: usize,
    mut visit: impl FnMut(Frame, &dyn Fn(usize) -> Option<Landing>) -> Option<Landing>,
) -> Option<Landing> {
    let top = signals::stack_top();
    loop {
        let module = code_registry::module_at(pc.checked_sub(1)?)?;
        let offset = (pc - module.code_base()) as u32;
        match module.code_at(offset - 1)? {
            CodeKind::EntryTrampoline => return None,
            CodeKind::HostTrampoline => {}
            CodeKind::Func(index) => {
                let frame = Frame {
                    module: module.info().name.clone(),
                    func_index: index,
                    func_name: module.info().func_name(index).map(str::to_string),
                };
                let handler = |tag: usize| {
                    // SAFETY: `fp` is the frame pointer of the live frame of `module`'s
                    // function that made the call returning to `offset`.
                    unsafe { module.handler(offset, fp, tag) }
                };
                if let Some(landing) = visit(frame, &handler) {
                    return Some(landing);
                }
            }
        }
        if !fp.is_multiple_of(8) || fp + 16 > top {
            return None;
        }
        // SAFETY: `fp` is a frame pointer of a guest frame or trampoline on this thread's
        // stack (below its top, checked above), which saved the caller's frame pointer at
        // `[fp]` and pushed the return address at `[fp + 8]`.
        let (next_fp, next_pc) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if next_fp <= fp {
            return None;
        }
        (fp, pc) = (next_fp, next_pc);
    }
}
