//! Per-pass compile times: a Cranelift profiler that sums each pass's time per thread, handed
//! to the phase clock as [`PassTime`]s.

use std::{any::Any, cell::RefCell, time::Instant};

use cranelift_codegen::timing::{self, Pass, Profiler};
use wasm_prof_phases::{PassTime, duration_ns};

/// Per-pass nanosecond totals gathered on one or more threads.
#[derive(Clone, Default)]
pub struct PassTotals(Vec<u64>);

impl PassTotals {
    /// Adds another thread's totals into these.
    pub fn merge(&mut self, other: &PassTotals) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }

    /// The passes that took any time, by Cranelift's name.
    pub fn into_pass_times(self) -> impl Iterator<Item = PassTime> {
        self.0
            .into_iter()
            .enumerate()
            .filter(|(_, ns)| *ns != 0)
            .map(|(i, total_ns)| PassTime {
                pass: pass_name(i),
                total_ns,
            })
    }
}

fn pass_name(index: usize) -> String {
    ALL_PASSES
        .get(index)
        .map_or_else(|| "unknown".to_string(), |p| format!("{p:?}"))
}

/// Cranelift's passes in its own order; `Pass as usize` indexes this.
const ALL_PASSES: [Pass; timing::NUM_PASSES] = [
    Pass::process_file,
    Pass::parse_text,
    Pass::wasm_translate_module,
    Pass::wasm_translate_function,
    Pass::verifier,
    Pass::compile,
    Pass::try_incremental_cache,
    Pass::store_incremental_cache,
    Pass::flowgraph,
    Pass::domtree,
    Pass::loop_analysis,
    Pass::preopt,
    Pass::egraph,
    Pass::gvn,
    Pass::licm,
    Pass::unreachable_code,
    Pass::remove_constant_phis,
    Pass::vcode_lower,
    Pass::vcode_emit,
    Pass::vcode_emit_finish,
    Pass::regalloc,
    Pass::regalloc_checker,
    Pass::layout_renumber,
    Pass::canonicalize_nans,
];

thread_local! {
    static THREAD_PASSES: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// A Cranelift profiler that adds each pass's time to this thread's totals.
struct PassRecorder;

struct PassToken {
    pass: Pass,
    at: Instant,
}

impl Drop for PassToken {
    fn drop(&mut self) {
        let ns = duration_ns(self.at.elapsed());
        let index = self.pass as usize;
        THREAD_PASSES.with(|totals| {
            let mut totals = totals.borrow_mut();
            if totals.len() <= index {
                totals.resize(timing::NUM_PASSES, 0);
            }
            totals[index] += ns;
        });
    }
}

impl Profiler for PassRecorder {
    fn start_pass(&self, pass: Pass) -> Box<dyn Any> {
        Box::new(PassToken {
            pass,
            at: Instant::now(),
        })
    }
}

/// Installs the pass recorder on this thread for the life of the guard, then hands back the
/// totals it gathered. Cranelift's own profiler is restored afterwards.
pub struct PassRecording {
    previous: Option<Box<dyn Profiler>>,
}

impl PassRecording {
    /// Starts recording Cranelift pass times on the current thread.
    pub fn start() -> Self {
        THREAD_PASSES.with(|t| t.borrow_mut().clear());
        Self {
            previous: Some(timing::set_thread_profiler(Box::new(PassRecorder))),
        }
    }

    /// Stops recording and returns what this thread gathered.
    pub fn finish(mut self) -> PassTotals {
        self.restore();
        PassTotals(THREAD_PASSES.with(|t| std::mem::take(&mut *t.borrow_mut())))
    }

    fn restore(&mut self) {
        if let Some(previous) = self.previous.take() {
            timing::set_thread_profiler(previous);
        }
    }
}

impl Drop for PassRecording {
    fn drop(&mut self) {
        self.restore();
    }
}
