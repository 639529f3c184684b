//! [`WastRunner`]: runs scripts on threads with room for deep guest recursion, one fresh store
//! per script, several scripts at once.

use std::{
    panic::{self, AssertUnwindSafe},
    path::Path,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use anyhow::Context as _;
use wasm_prof_runtime::{Config, Engine};

use super::{WastReport, script::Script};

/// Native stack of a script thread: the runtime's 1 MiB guest stack plus room for the runner,
/// the compiler and host calls.
const SCRIPT_STACK: usize = 16 << 20;

/// Runs `.wast` spec scripts against the runtime.
#[derive(Clone)]
pub struct WastRunner {
    engine: Engine,
    multi_memory: Engine,
    wasm_v2: Engine,
}

impl WastRunner {
    /// A runner with the runtime's default code generation, the module cache off and
    /// single-threaded compilation (scripts run in parallel instead).
    ///
    /// # Errors
    /// When the runtime cannot target this machine.
    ///
    /// Scripts run with the runtime's feature set (WebAssembly 2.0 with tail calls, extended
    /// constant expressions, relaxed SIMD, exception handling and memory64), where a second
    /// memory is invalid,
    /// except scripts written for the multi-memory proposal (their name mentions
    /// `multi-memory` or `memory-multi`, like the SIMD proposal's `simd_memory-multi.wast`),
    /// which run with multi-memory on, and the scripts of the WebAssembly 1.0 and 2.0 suites
    /// (in a `wasm-v1` or `wasm-v2` folder), which run with memory64 off: they assert 2.0's
    /// binary format of memory limits, 32-bit numbers that 3.0 widened to 64 bits.
    pub fn new() -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.cache(false).parallel_compile(false);
        let engine = Engine::new(config.clone())?;
        let wasm_v2 = Engine::new(config.clone().memory64(false).clone())?;
        let multi_memory = Engine::new(config.multi_memory(true).clone())?;
        Ok(Self {
            engine,
            multi_memory,
            wasm_v2,
        })
    }

    /// A runner that compiles every script with `engine`.
    pub fn with_engine(engine: Engine) -> Self {
        Self {
            multi_memory: engine.clone(),
            wasm_v2: engine.clone(),
            engine,
        }
    }

    /// The engine for the script called `name`.
    fn engine_for(&self, name: &str) -> &Engine {
        let in_folder = |folder: &str| {
            Path::new(name)
                .components()
                .any(|c| c.as_os_str() == folder)
        };
        if name.contains("multi-memory") || name.contains("memory-multi") {
            &self.multi_memory
        } else if in_folder("wasm-v1") || in_folder("wasm-v2") {
            &self.wasm_v2
        } else {
            &self.engine
        }
    }

    /// Runs the script `text`; `name` labels its failures.
    pub fn run_text(&self, name: &str, text: &str) -> WastReport {
        let scripts = [(name.to_string(), text.to_string())];
        self.run_all(&scripts, 1)
    }

    /// Reads and runs the script in `path`.
    ///
    /// # Errors
    /// When the file cannot be read as UTF-8 text.
    pub fn run_file(&self, path: &Path) -> anyhow::Result<WastReport> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the script {}", path.display()))?;
        Ok(self.run_text(&path.display().to_string(), &text))
    }

    /// Runs `(name, text)` scripts on up to `threads` threads; the report lists failures in
    /// script order.
    pub fn run_all(&self, scripts: &[(String, String)], threads: usize) -> WastReport {
        let next = AtomicUsize::new(0);
        let reports: Mutex<Vec<Option<WastReport>>> = Mutex::new(vec![None; scripts.len()]);
        thread::scope(|scope| {
            for _ in 0..threads.clamp(1, scripts.len().max(1)) {
                let worker = || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((name, text)) = scripts.get(i) else {
                            break;
                        };
                        let run = || Script::new(self.engine_for(name), name, text).run();
                        let report = panic::catch_unwind(AssertUnwindSafe(run))
                            .unwrap_or_else(|payload| WastReport::panicked(name, &*payload));
                        reports.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(report);
                    }
                };
                thread::Builder::new()
                    .name("wast".into())
                    .stack_size(SCRIPT_STACK)
                    .spawn_scoped(scope, worker)
                    .expect("cannot spawn a script thread");
            }
        });
        let mut total = WastReport::default();
        let reports = reports.into_inner().unwrap_or_else(|e| e.into_inner());
        for report in reports.into_iter().flatten() {
            total.merge(report);
        }
        total
    }
}
