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
use wasm_prof_runtime::{Config, Engine, WasmStandard};

use super::{WastReport, script::Script};

/// Native stack of a script thread: the runtime's 1 MiB guest stack plus room for the runner,
/// the compiler and host calls.
const SCRIPT_STACK: usize = 16 << 20;

/// Runs `.wast` spec scripts against the runtime.
#[derive(Clone)]
pub struct WastRunner {
    engine: Engine,
    wasm_2_0: Engine,
    one_memory: Engine,
}

impl WastRunner {
    /// A runner with the runtime's default code generation, the module cache off and
    /// single-threaded compilation (scripts run in parallel instead).
    ///
    /// # Errors
    /// When the runtime cannot target this machine.
    ///
    /// Each script runs under the rules it was written for. The suites of WebAssembly 1.0 and
    /// 2.0 (a `wasm-v1` or `wasm-v2` directory in the script's name) assert that what 3.0
    /// made valid — a second memory, say — is invalid, and run under [`WasmStandard::V2`];
    /// the 3.0 suite (`wasm-v3`, `wasm-latest`) and the multi-memory proposal's scripts (their
    /// name mentions `multi-memory` or `memory-multi`) under the runtime's default, 3.0
    /// without GC; every other proposal's scripts, written before multi-memory joined the
    /// standard (they read the byte after `memory.grow` as a reserved zero), under 3.0 with
    /// one memory.
    pub fn new() -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.cache(false).parallel_compile(false);
        let engine = Engine::new(config.clone())?;
        let one_memory = Engine::new(config.clone().multi_memory(false).clone())?;
        let wasm_2_0 = Engine::new(config.wasm_standard(WasmStandard::V2).clone())?;
        Ok(Self {
            engine,
            wasm_2_0,
            one_memory,
        })
    }

    /// A runner that compiles every script with `engine`.
    pub fn with_engine(engine: Engine) -> Self {
        Self {
            wasm_2_0: engine.clone(),
            one_memory: engine.clone(),
            engine,
        }
    }

    /// The engine for the script called `name`.
    fn engine_for(&self, name: &str) -> &Engine {
        let in_suite = |suites: &[&str]| {
            Path::new(name)
                .components()
                .any(|c| suites.iter().any(|s| c.as_os_str() == *s))
        };
        if in_suite(&["wasm-v1", "wasm-v2"]) {
            &self.wasm_2_0
        } else if in_suite(&["wasm-v3", "wasm-latest"])
            || name.contains("multi-memory")
            || name.contains("memory-multi")
        {
            &self.engine
        } else {
            &self.one_memory
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
