//! Trap handling: guest faults (guard-page hits, `ud2` trap instructions, hardware division
//! faults) arrive as signals; the handler checks that the faulting instruction is guest code,
//! records where it happened and jumps back to the entry point of the guest call.

use std::{
    cell::{Cell, RefCell},
    ffi::c_void,
    sync::OnceLock,
};

use wasm_prof_environ::TrapKind;

use crate::{
    code_registry, file_watch,
    trap::{Frame, Trap},
    vmctx::VMLimits,
};

unsafe extern "C" {
    fn wasm_prof_catch(
        body: extern "C" fn(*mut c_void),
        data: *mut c_void,
        jmp_slot: *mut *mut c_void,
    ) -> i32;
    fn wasm_prof_unwind(jmp_buf: *mut c_void) -> !;
}

const MAX_FRAMES: usize = 64;
/// Native stack kept free below the guest's limit for host functions and the signal handler.
const STACK_RESERVE: usize = 128 << 10;

/// What the signal handler saw.
#[derive(Clone, Copy)]
struct RawTrap {
    signal: i32,
    frames: [usize; MAX_FRAMES],
    len: usize,
}

thread_local! {
    static JMP_BUF: Cell<*mut c_void> = const { Cell::new(std::ptr::null_mut()) };
    static RAW_TRAP: Cell<Option<RawTrap>> = const { Cell::new(None) };
    static STACK_TOP: Cell<usize> = const { Cell::new(0) };
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static HOST_TRAP: RefCell<Option<Trap>> = const { RefCell::new(None) };
    static LEFT_WITH: Cell<Option<Trap>> = const { Cell::new(None) };
}

/// Remembers the error a host function returned, for the trap its trampoline raises next.
pub(crate) fn set_host_trap(trap: Trap) {
    HOST_TRAP.with(|t| *t.borrow_mut() = Some(trap));
}

/// Leaves the innermost guest call on this thread with `trap`, as a fault would: the guest call
/// returns it as its error. Used by the unwinder for exceptions nothing catches.
///
/// Everything between here and the guest call's entry is skipped without running destructors:
/// the caller must own nothing that needs dropping (it moves its trap in here).
pub(crate) fn leave_guest(trap: Trap) -> ! {
    LEFT_WITH.with(|t| t.set(Some(trap)));
    let jmp = JMP_BUF.with(|j| j.get());
    if jmp.is_null() {
        // No guest call to leave: guest code always runs inside `catch`, so this is a bug,
        // and unwinding further would run through frames that cannot be unwound.
        std::process::abort();
    }
    // SAFETY: `jmp` is the live buffer of the innermost guest call on this thread; only guest
    // frames, trampolines and the unwinder's own frames (which own nothing) lie above it.
    unsafe { wasm_prof_unwind(jmp) }
}

/// The highest address of this thread's stack, as recorded when its outermost guest call
/// started (0 outside guest calls).
pub(crate) fn stack_top() -> usize {
    STACK_TOP.with(|t| t.get())
}

/// Runs `f` (which enters guest code) so that a guest trap comes back as an `Err`.
///
/// A trap leaves `f` with a non-local jump that runs no destructors. `f` is `Copy`, so it owns
/// nothing that needs dropping: that holds by construction, not by review.
///
/// # Safety
/// `limits` must point to the limits record of the store whose code `f` runs, alive for the
/// whole call.
pub unsafe fn catch<F: FnMut() + Copy>(
    limits: *mut VMLimits,
    max_stack: usize,
    mut f: F,
) -> Result<(), Trap> {
    install_handlers();
    let depth = DEPTH.with(|d| d.get());
    if depth == 0 {
        let (low, top) = thread_stack_bounds();
        STACK_TOP.with(|t| t.set(top));
        let sp = approximate_sp();
        let limit = sp.saturating_sub(max_stack).max(low + STACK_RESERVE);
        // SAFETY: `limits` points to the store's limits, alive for the whole call.
        unsafe { (*limits).stack_limit = limit };
    }
    DEPTH.with(|d| d.set(depth + 1));
    extern "C" fn body<F: FnMut()>(data: *mut c_void) {
        // SAFETY: `data` is the `&mut F` passed below, alive during the call.
        let f = unsafe { &mut *(data as *mut F) };
        f();
    }
    let slot = JMP_BUF.with(|j| j.as_ptr());
    // SAFETY: `body` and `data` follow wasm_prof_catch's contract; the frames a trap skips
    // are guest code, trampolines, `body` and `f`, none of which owns anything to drop.
    let completed = unsafe { wasm_prof_catch(body::<F>, (&raw mut f).cast(), slot) } != 0;
    DEPTH.with(|d| d.set(depth));
    if completed {
        return Ok(());
    }
    let raw = RAW_TRAP.with(|t| t.take());
    if let Some(trap) = LEFT_WITH.with(|t| t.take()) {
        return Err(trap);
    }
    Err(resolve(raw))
}

fn approximate_sp() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Lowest and highest address of this thread's stack.
fn thread_stack_bounds() -> (usize, usize) {
    // SAFETY: plain libc queries on the calling thread's attributes, destroyed after use.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return (0, usize::MAX);
        }
        let mut addr: *mut c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        if ok {
            (addr as usize, addr as usize + size)
        } else {
            (0, usize::MAX)
        }
    }
}

/// Turns what the handler recorded into a [`Trap`] with a backtrace.
fn resolve(raw: Option<RawTrap>) -> Trap {
    let Some(raw) = raw else {
        return Trap::new(TrapKind::Unknown);
    };
    let pc = raw.frames[0];
    let mut kind = match raw.signal {
        libc::SIGFPE => TrapKind::IntegerDivisionByZero,
        libc::SIGSEGV | libc::SIGBUS => TrapKind::MemoryOutOfBounds,
        _ => TrapKind::Unknown,
    };
    let mut backtrace = Vec::new();
    for (i, &addr) in raw.frames[..raw.len].iter().enumerate() {
        // Return addresses point after the call; look up the call instruction itself.
        let lookup = if i == 0 { addr } else { addr - 1 };
        let Some(module) = code_registry::module_at(lookup) else {
            break;
        };
        let offset = (lookup - module.code_base()) as u32;
        if i == 0
            && let Some(k) = module.trap_at(pc - module.code_base())
        {
            kind = k;
        }
        if let Some(index) = module.func_at(offset) {
            backtrace.push(Frame {
                module: module.info().name.clone(),
                func_index: index,
                func_name: module.info().func_name(index).map(str::to_string),
            });
        }
    }
    let mut trap = if kind == TrapKind::HostError {
        HOST_TRAP
            .with(|t| t.borrow_mut().take())
            .unwrap_or_else(|| Trap::new(kind))
    } else {
        Trap::new(kind)
    };
    trap.backtrace = backtrace;
    trap
}

static PREVIOUS: OnceLock<[libc::sigaction; 4]> = OnceLock::new();
const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// Installs the trap handler once per process, keeping the previous handlers to forward
/// faults that are not the guest's.
pub fn install_handlers() {
    PREVIOUS.get_or_init(|| {
        // SAFETY: sigaction with a fully initialised struct; the handler is async-signal-safe
        // in the ways that matter (no allocation, no locks it could wait on).
        unsafe {
            let mut previous: [libc::sigaction; 4] = std::mem::zeroed();
            for (signal, slot) in SIGNALS.iter().zip(previous.iter_mut()) {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(*signal, &action, slot);
            }
            previous
        }
    });
}

extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    if signal == libc::SIGBUS {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers; SIGBUS sets
        // its fault address.
        let addr = unsafe { (*info).si_addr() } as usize;
        if file_watch::replace_vanished_page(addr) {
            return;
        }
    }
    let jmp = JMP_BUF.with(|j| j.get());
    if !jmp.is_null() {
        // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
        let (pc, fp, sp) = unsafe { registers(context) };
        if code_registry::is_guest_pc(pc) {
            let mut raw = RawTrap {
                signal,
                frames: [0; MAX_FRAMES],
                len: 1,
            };
            raw.frames[0] = pc;
            let top = STACK_TOP.with(|t| t.get());
            let mut fp = fp;
            let mut previous = sp;
            while raw.len < MAX_FRAMES && fp >= previous && fp % 8 == 0 && fp + 16 <= top {
                // SAFETY: `fp` lies within this thread's stack (checked above), and guest
                // frames keep frame pointers, so `[fp]` and `[fp + 8]` are readable words.
                let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
                if ret == 0 {
                    break;
                }
                raw.frames[raw.len] = ret;
                raw.len += 1;
                previous = fp + 16;
                fp = next;
            }
            RAW_TRAP.with(|t| t.set(Some(raw)));
            // SAFETY: `jmp` is the live buffer of the innermost guest call on this thread.
            unsafe { wasm_prof_unwind(jmp) };
        }
    }
    forward(signal, info, context);
}

/// Hands a fault that is not the guest's to whoever handled the signal before us.
fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let Some(previous) = PREVIOUS.get() else {
        return;
    };
    let Some(index) = SIGNALS.iter().position(|s| *s == signal) else {
        return;
    };
    let action = previous[index];
    // SAFETY: restoring or invoking the handler that was installed before ours, with the
    // arguments the kernel gave us.
    unsafe {
        if action.sa_sigaction == libc::SIG_DFL || action.sa_sigaction == libc::SIG_IGN {
            // Re-running the faulting instruction under the default action ends the process
            // with the right signal.
            libc::sigaction(signal, &action, std::ptr::null_mut());
        } else if action.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                std::mem::transmute(action.sa_sigaction);
            f(signal, info, context);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(action.sa_sigaction);
            f(signal);
        }
    }
}

/// Program counter, frame pointer and stack pointer of the interrupted context.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn registers(context: *mut c_void) -> (usize, usize, usize) {
    // SAFETY: the caller passes the ucontext the kernel gave the handler.
    let gregs = unsafe { &(*(context as *const libc::ucontext_t)).uc_mcontext.gregs };
    (
        gregs[libc::REG_RIP as usize] as usize,
        gregs[libc::REG_RBP as usize] as usize,
        gregs[libc::REG_RSP as usize] as usize,
    )
}

/// Program counter, frame pointer and stack pointer of the interrupted context.
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
unsafe fn registers(context: *mut c_void) -> (usize, usize, usize) {
    // SAFETY: the caller passes the ucontext the kernel gave the handler.
    let mcontext = unsafe { &(*(context as *const libc::ucontext_t)).uc_mcontext };
    (
        mcontext.pc as usize,
        mcontext.regs[29] as usize,
        mcontext.sp as usize,
    )
}
