//! The modules the benchmarks run on, and engines configured for them.

use std::path::PathBuf;

use wasm_prof::corpus::DEFAULT_WORKLOAD;
use wasm_prof_runtime::{Config, Engine};

/// A module to benchmark, with the name it carries in benchmark ids.
pub struct Input {
    /// `workload` or the corpus name.
    pub name: &'static str,
    /// The module's bytes.
    pub bytes: Vec<u8>,
    /// Whether the module takes long enough to compile that it needs few samples.
    pub large: bool,
}

/// Corpus modules benchmarked by default: a mid-sized and a large one.
const DEFAULT_CORPUS: [&str; 2] = ["zstd", "7zip"];

/// The environment variable that replaces [`DEFAULT_CORPUS`]: corpus names separated by commas
/// (e.g. `zstd,7zip,ruby`; `none` for the embedded workload alone).
const CORPUS_VAR: &str = "WASM_PROF_BENCH_CORPUS";

/// Modules at least this large compile long enough to need fewer samples.
const LARGE_MODULE_BYTES: usize = 1 << 20;

/// The embedded workload, then the chosen fetched corpus modules. A chosen module that was not
/// fetched is an error that says how to fetch it.
pub fn modules() -> Vec<Input> {
    let mut inputs = vec![Input {
        name: "workload",
        bytes: DEFAULT_WORKLOAD.to_vec(),
        large: false,
    }];
    let chosen = std::env::var(CORPUS_VAR).unwrap_or_else(|_| DEFAULT_CORPUS.join(","));
    let fetched = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpora/fetched");
    for name in chosen
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != "none")
    {
        let path = fetched.join(format!("{name}.wasm"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {} ({e}): run scripts/fetch-corpus.sh, or choose other modules \
                 with {CORPUS_VAR}",
                path.display()
            )
        });
        let large = bytes.len() >= LARGE_MODULE_BYTES;
        inputs.push(Input {
            name: name.to_string().leak(),
            bytes,
            large,
        });
    }
    inputs
}

/// An engine with the cache off (touches nothing on disk).
pub fn uncached_engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).expect("an engine for this CPU")
}
