//! The deterministic regression gate: measures of one build that repeat exactly (byte sizes)
//! or nearly (callgrind instruction counts) from run to run, so that a comparison of two
//! builds judges every time, on any machine, without statistics.
//!
//! [`measure`] measures a build; [`compare`] compares two measurements;
//! [`baseline_build`] builds another revision to measure next to the current one.

pub mod baseline_build;
pub mod callgrind;
pub mod compare;
pub mod measure;

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The `schema_version` of a [`Measurement`] file. Version 1 counted whole `sample`
/// processes; version 2 counts inside the sample function only.
pub const SCHEMA_VERSION: u32 = 2;

/// The committed baseline, relative to the project root.
pub const BASELINE_FILE: &str = "reports/baselines/ci-gate.json";

/// One measure: its key in a [`Measurement`], where it goes in a gate report, and the growth
/// it tolerates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeasureSpec {
    /// The key in [`Measurement::measures`].
    pub key: &'static str,
    /// The cache path of a `sample` process, or `artifact` for sizes.
    pub part: &'static str,
    /// The measure's name in reports.
    pub measure: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// The growth tolerated, as a fraction. Sizes repeat exactly; instruction counts vary by
    /// about 0.2% (glibc's realloc moves a different number of blocks from run to run).
    pub tolerance: f64,
}

/// Every measure the gate takes, in report order.
pub const MEASURES: [MeasureSpec; 6] = [
    // Instructions (callgrind Ir) of one sample, the process's start-up left out: no cache
    // (parse, validate, compile, instantiate), an empty cache (the same plus hash, serialize,
    // store) and a cache hit (hash, look up, load, instantiate).
    MeasureSpec {
        key: "ir_nocache",
        part: "nocache",
        measure: "instructions",
        unit: "instructions",
        tolerance: 0.02,
    },
    MeasureSpec {
        key: "ir_cold",
        part: "cold",
        measure: "instructions",
        unit: "instructions",
        tolerance: 0.02,
    },
    MeasureSpec {
        key: "ir_cached",
        part: "cached",
        measure: "instructions",
        unit: "instructions",
        tolerance: 0.02,
    },
    // Bytes of the machine code image (functions and trampolines), from the artifact header.
    MeasureSpec {
        key: "code_image_bytes",
        part: "artifact",
        measure: "code-image-bytes",
        unit: "bytes",
        tolerance: 0.01,
    },
    // Bytes of machine code of the module's functions, from the cold sample's record.
    MeasureSpec {
        key: "function_code_bytes",
        part: "artifact",
        measure: "function-code-bytes",
        unit: "bytes",
        tolerance: 0.01,
    },
    // Bytes of the cache artifact file.
    MeasureSpec {
        key: "artifact_bytes",
        part: "artifact",
        measure: "file-bytes",
        unit: "bytes",
        tolerance: 0.01,
    },
];

/// Everything the gate measured of one build, and what makes two measurements comparable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The module's file name.
    pub module: String,
    /// SHA-256 of the module, lower-case hex.
    pub module_sha256: String,
    /// The cache-key hash algorithm.
    pub hash: String,
    /// The engine fingerprint as the measured processes saw it (valgrind reports its own CPU
    /// features).
    pub fingerprint: String,
    /// `valgrind --version`.
    pub valgrind: String,
    /// Each measure by its key.
    pub measures: BTreeMap<String, u64>,
}

/// Where a baseline measurement comes from, which decides what must match for a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file measured elsewhere or earlier: everything that shapes the numbers must match,
    /// the engine fingerprint (with the CPU features valgrind reports) included.
    Recorded,
    /// Another build, measured here and now: machine and valgrind are the same by
    /// construction, and a changed engine fingerprint is part of what is judged.
    MeasuredNow,
}

/// What of an engine fingerprint comes from the machine and the configuration: all but the
/// ids of the runtime's sources (the metadata schema and the build id), which change with the
/// very code the gate judges.
pub fn machine_part(fingerprint: &str) -> String {
    fingerprint
        .split("; ")
        .filter(|part| !part.starts_with("metadata schema 0x") && !part.starts_with("build 0x"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Measurement {
    /// What differs between this measurement and `other` that makes their numbers
    /// incomparable, as sentences; empty when they compare. A [`Origin::Recorded`] baseline
    /// must also have the same engine fingerprint and every measure.
    pub fn incomparable_with(&self, other: &Measurement, origin: Origin) -> Vec<String> {
        let schemas = (self.schema_version != other.schema_version)
            .then(|| "the measurement schema version differs".to_string());
        let (machine, other_machine) = (
            machine_part(&self.fingerprint),
            machine_part(&other.fingerprint),
        );
        let mut fields = vec![
            ("the workload", &self.module_sha256, &other.module_sha256),
            ("the hash algorithm", &self.hash, &other.hash),
            ("the valgrind version", &self.valgrind, &other.valgrind),
        ];
        if origin == Origin::Recorded {
            fields.push((
                "the engine fingerprint (CPU features as valgrind reports them)",
                &machine,
                &other_machine,
            ));
        }
        let missing = MEASURES
            .iter()
            .filter(|m| !self.measures.contains_key(m.key) || !other.measures.contains_key(m.key))
            .map(|m| format!("the measure {} is missing on one side", m.key))
            .filter(|_| origin == Origin::Recorded);
        fields
            .into_iter()
            .filter(|(_, a, b)| a != b)
            .map(|(what, _, _)| format!("{what} differs"))
            .chain(missing)
            .chain(schemas)
            .collect()
    }

    /// Reads a measurement file (of any schema version: [`Measurement::incomparable_with`]
    /// tells whether it can be compared).
    ///
    /// # Errors
    /// When the file cannot be read or is not JSON of this shape.
    pub fn load(path: &Path) -> anyhow::Result<Measurement> {
        let bytes = std::fs::read(path).with_context(|| {
            format!(
                "cannot read {}: run `wasm-prof gate deterministic --update` to create it",
                path.display()
            )
        })?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a gate measurement", path.display()))
    }

    /// The measurement as pretty JSON with a final newline.
    ///
    /// # Errors
    /// Only if serialization fails.
    pub fn to_json(&self) -> anyhow::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
