//! Measuring one build: a cold, a cached and a no-cache `wasm-prof sample` of a module under
//! callgrind (loading only, functions compiled on one thread so that counts repeat; counted
//! inside the sample function only), and the sizes of the artifact the cold sample stored.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use wasm_prof_runtime::cache::{ArtifactError, HashAlgo, read_header};

use crate::{
    deterministic::{Measurement, SCHEMA_VERSION, callgrind},
    module_file::sha256_hex,
    sampling::in_process::SampleOutput,
};

/// What callgrind counts: the sample itself (engine, load, instantiate), without the process's
/// start-up and the harness around it, which would make a bigger wasm-prof binary look like a
/// slower cache hit (start-up is two thirds of a hit's whole process).
const WITHIN: &str = "*in_process::run_sample*";

/// A hit on an entry younger than this checksums the whole code image; an older one is vouched
/// for by the verification record the first such hit writes. The gate waits this long and hits
/// once unmeasured, so that the measured hit always takes the second path.
const SETTLE: Duration = Duration::from_millis(2200);

/// What to measure.
#[derive(Clone, Debug)]
pub struct Subject<'a> {
    /// The `wasm-prof` binary of the build.
    pub bin: &'a Path,
    /// The module to load.
    pub module: &'a Path,
    /// The cache-key hash algorithm.
    pub hash: HashAlgo,
    /// `valgrind --version`, recorded in the measurement.
    pub valgrind: &'a str,
}

impl Subject<'_> {
    fn sample_args(&self, path: &str, cache: Option<&Path>, sequential: bool) -> Vec<String> {
        let mut args = vec![
            "sample".to_string(),
            "--no-execute".to_string(),
            "--hash".to_string(),
            self.hash.name().to_string(),
            "--module".to_string(),
            self.module.display().to_string(),
            "--path".to_string(),
            path.to_string(),
        ];
        match cache {
            Some(dir) => args.extend(["--cache-dir".to_string(), dir.display().to_string()]),
            None => args.push("--disable-cache".to_string()),
        }
        if sequential {
            args.push("--sequential".to_string());
        }
        args
    }

    /// Runs one sample under callgrind; its profile goes to `scratch/NAME.callgrind`.
    fn sample(
        &self,
        scratch: &Path,
        name: &str,
        args: Vec<String>,
    ) -> anyhow::Result<(SampleOutput, u64)> {
        let profile = scratch.join(format!("{name}.callgrind"));
        let (out, ir) = callgrind::run(self.bin, &args, WITHIN, &profile)
            .with_context(|| format!("the {name} sample of {} failed", self.bin.display()))?;
        let output: SampleOutput = serde_json::from_slice(&out.stdout).with_context(|| {
            format!(
                "the {name} sample of {} printed no phase record: is it a wasm-prof build?",
                self.bin.display()
            )
        })?;
        Ok((output, ir))
    }
}

/// The one artifact (`.wpa` file) under `dir`.
fn the_artifact(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "wpa") {
                found.push(path);
            }
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!(
            "expected one cache artifact in {} after the cold sample, found {}",
            dir.display(),
            found.len()
        ),
    }
}

/// Measures `subject`, using `scratch` (an empty directory) for the cache and the profiles.
///
/// # Errors
/// When a sample fails, a sample's output is not a phase record, or the artifact cannot be
/// read.
pub fn measure(subject: &Subject, scratch: &Path) -> anyhow::Result<Measurement> {
    let cache = scratch.join("cache");
    let (cold, ir_cold) = subject.sample(
        scratch,
        "cold",
        subject.sample_args("cold", Some(&cache), true),
    )?;
    std::thread::sleep(SETTLE);
    subject.sample(
        scratch,
        "settle",
        subject.sample_args("cached", Some(&cache), false),
    )?;
    let (_, ir_cached) = subject.sample(
        scratch,
        "cached",
        subject.sample_args("cached", Some(&cache), false),
    )?;
    let (_, ir_nocache) = subject.sample(
        scratch,
        "nocache",
        subject.sample_args("nocache", None, true),
    )?;

    let artifact_path = the_artifact(&cache)?;
    let artifact = std::fs::read(&artifact_path)
        .with_context(|| format!("cannot read {}", artifact_path.display()))?;
    // Another format version (a baseline build from before a format change) cannot be read
    // through this build's definitions: its code-image size and fingerprint stay unknown.
    let (code_len, fingerprint) = match read_header(&artifact) {
        Ok(header) => (Some(header.code_len), header.fingerprint),
        Err(ArtifactError::VersionMismatch { found, .. }) => {
            (None, format!("unknown (artifact format version {found})"))
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read the header of {}", artifact_path.display()));
        }
    };
    let module = std::fs::read(subject.module)
        .with_context(|| format!("cannot read {}", subject.module.display()))?;
    let function_code_bytes = cold
        .record
        .functions
        .iter()
        .map(|f| u64::from(f.code_bytes))
        .sum();
    let measures = [
        ("ir_nocache", Some(ir_nocache)),
        ("ir_cold", Some(ir_cold)),
        ("ir_cached", Some(ir_cached)),
        ("code_image_bytes", code_len),
        ("function_code_bytes", Some(function_code_bytes)),
        ("artifact_bytes", Some(artifact.len() as u64)),
    ];
    Ok(Measurement {
        schema_version: SCHEMA_VERSION,
        module: subject
            .module
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        module_sha256: sha256_hex(&module),
        hash: subject.hash.name().to_string(),
        fingerprint,
        valgrind: subject.valgrind.to_string(),
        measures: measures
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect(),
    })
}
