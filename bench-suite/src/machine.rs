//! What machine a report was measured on.

use std::fs;

use crate::model::Host;

/// Describes this machine and this build of wasm-prof.
pub fn detect() -> Host {
    Host {
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        cpu_model: cpu_model().unwrap_or_else(|| "unknown".to_string()),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        hostname: hostname().unwrap_or_else(|| "unknown".to_string()),
        rustc: env!("WASM_PROF_RUSTC_VERSION").to_string(),
        wasm_prof_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

fn cpu_model() -> Option<String> {
    let info = fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| matches!(key.trim(), "model name" | "Model" | "cpu model"))
        .map(|(_, value)| value.trim().to_string())
}

fn hostname() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| fs::read_to_string(path).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}
