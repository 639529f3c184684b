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

/// Corpus modules worth benchmarking: a mid-sized and a large one.
const CORPUS: [(&str, bool); 2] = [("zstd", false), ("7zip", true)];

/// The embedded workload, then every fetched corpus module. Prints a note for each absent one.
pub fn modules() -> Vec<Input> {
    let mut inputs = vec![Input {
        name: "workload",
        bytes: DEFAULT_WORKLOAD.to_vec(),
        large: false,
    }];
    let fetched = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpora/fetched");
    for (name, large) in CORPUS {
        let path = fetched.join(format!("{name}.wasm"));
        match std::fs::read(&path) {
            Ok(bytes) => inputs.push(Input { name, bytes, large }),
            Err(_) => eprintln!(
                "note: skipping {name}: {} is absent (run scripts/fetch-corpus.sh)",
                path.display()
            ),
        }
    }
    inputs
}

/// An engine with the cache off (touches nothing on disk).
pub fn uncached_engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).expect("an engine for this CPU")
}
