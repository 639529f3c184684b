//! The perf map: `/tmp/perf-PID.map`, one `START SIZE NAME` line (hexadecimal, without `0x`)
//! per piece of code that lies outside any file. `perf report` reads it for addresses its
//! samples found in anonymous or unnamed mappings; it looks in `/tmp` only, whatever `TMPDIR`
//! says. One file per process, created (emptied) on first use and appended to under a lock.

use std::{
    fmt::Write as _,
    fs::{File, OpenOptions},
    io::Write as _,
    os::unix::fs::OpenOptionsExt,
    path::PathBuf,
    sync::Mutex,
};

use super::{CodeSymbol, ProfilingError};

/// The process's perf map, once opened.
static MAP: Mutex<Option<File>> = Mutex::new(None);

/// Where `perf` looks for this process's map.
pub fn path() -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
}

/// Runs `f` on the process's perf map, creating it on first use.
pub(super) fn with_file(
    f: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), ProfilingError> {
    let mut map = MAP.lock().unwrap_or_else(|e| e.into_inner());
    let write_error = |source| ProfilingError::Write {
        path: path(),
        source,
    };
    if map.is_none() {
        // Never follow a link planted under the predictable name in the shared /tmp.
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path())
            .map_err(write_error)?;
        *map = Some(file);
    }
    let file = map.as_mut().expect("opened above");
    f(file).map_err(write_error)
}

/// Appends one line per symbol, in one write.
pub(super) fn write(symbols: &[CodeSymbol]) -> Result<(), ProfilingError> {
    let mut lines = String::with_capacity(symbols.len() * 48);
    for symbol in symbols {
        let _ = writeln!(lines, "{:x} {:x} {}", symbol.start, symbol.len, symbol.name);
    }
    with_file(|file| file.write_all(lines.as_bytes()))
}
