//! The jitdump file: `jit-PID.dump` in the temporary directory, in the format of the Linux
//! tree's `tools/perf/Documentation/jitdump-specification.txt` — a header, then one
//! `JIT_CODE_LOAD` record per function and trampoline with its name, address and bytes.
//!
//! `perf record -k 1` (timestamps from `CLOCK_MONOTONIC`, the clock the records carry) notes
//! the file because the process maps it executable once; `perf inject --jit` then finds it
//! through that mapping and turns each record into a small ELF image next to it, so samples
//! in guest code resolve to names and can be annotated. One file per process, created on
//! first use, appended to under a lock; native byte order, as the specification asks.

use std::{
    fs::{File, OpenOptions},
    io::{self, Write as _},
    os::unix::fs::OpenOptionsExt,
    path::PathBuf,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use memmap2::{Mmap, MmapOptions};

use super::{CodeSymbol, ProfilingError};

/// `JiTD` as a native-endian `u32`: the reader learns the file's byte order from it.
pub const MAGIC: u32 = 0x4A69_5444;
/// The format version this writer follows.
pub const VERSION: u32 = 1;
/// Bytes of the file header.
pub const HEADER_LEN: u32 = 40;
/// The record type of a code load.
pub const JIT_CODE_LOAD: u32 = 0;

/// The ELF machine of the code this process generates.
#[cfg(target_arch = "x86_64")]
const ELF_MACHINE: u32 = 62; // EM_X86_64
#[cfg(target_arch = "aarch64")]
const ELF_MACHINE: u32 = 183; // EM_AARCH64
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const ELF_MACHINE: u32 = 0; // EM_NONE

/// The open dump and its executable mapping, which exists only so that `perf record` sees the
/// file mapped and notes its name.
struct Dump {
    file: File,
    _marker: Mmap,
}

static DUMP: Mutex<Option<Dump>> = Mutex::new(None);
/// The next code-load record's index (unique within the process, as the format asks).
static CODE_INDEX: AtomicU64 = AtomicU64::new(0);

/// Where this process writes its jitdump file.
pub fn path() -> PathBuf {
    std::env::temp_dir().join(format!("jit-{}.dump", std::process::id()))
}

/// Runs `f` on the process's jitdump file, creating it (header and mapping) on first use.
pub(super) fn with_file(f: impl FnOnce(&mut File) -> io::Result<()>) -> Result<(), ProfilingError> {
    let mut dump = DUMP.lock().unwrap_or_else(|e| e.into_inner());
    let write_error = |source| ProfilingError::Write {
        path: path(),
        source,
    };
    if dump.is_none() {
        *dump = Some(create().map_err(write_error)?);
    }
    let dump = dump.as_mut().expect("created above");
    f(&mut dump.file).map_err(write_error)
}

/// Creates the file, writes its header and maps its first page executable.
fn create() -> io::Result<Dump> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path())?;
    file.write_all(&header())?;
    // SAFETY: the mapping is never read or executed through: it is a marker for `perf`, and
    // stays in place for the life of the process (the file only grows).
    let marker = unsafe {
        MmapOptions::new()
            .len(region::page::size())
            .map_exec(&file)?
    };
    Ok(Dump {
        file,
        _marker: marker,
    })
}

/// The file header: magic, version, header size, ELF machine, padding, pid, timestamp, flags.
fn header() -> Vec<u8> {
    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    for word in [
        MAGIC,
        VERSION,
        HEADER_LEN,
        ELF_MACHINE,
        0,
        std::process::id(),
    ] {
        header.extend_from_slice(&word.to_ne_bytes());
    }
    header.extend_from_slice(&timestamp().to_ne_bytes());
    header.extend_from_slice(&0u64.to_ne_bytes());
    header
}

/// Appends one code-load record per symbol, its bytes taken from `code`, the module's image,
/// which starts at the lowest symbol's image offset minus that offset.
pub(super) fn write(
    symbols: &[CodeSymbol],
    code_base: usize,
    code: &[u8],
) -> Result<(), ProfilingError> {
    let pid = std::process::id();
    // SAFETY: `gettid` has no preconditions and cannot fail.
    let tid = unsafe { libc::gettid() } as u32;
    let mut records = Vec::with_capacity(code.len() + symbols.len() * 96);
    for symbol in symbols {
        let offset = symbol.start - code_base;
        let bytes = &code[offset..offset + symbol.len];
        let size = 16 + 40 + symbol.name.len() + 1 + bytes.len();
        records.extend_from_slice(&JIT_CODE_LOAD.to_ne_bytes());
        records.extend_from_slice(&(size as u32).to_ne_bytes());
        records.extend_from_slice(&timestamp().to_ne_bytes());
        records.extend_from_slice(&pid.to_ne_bytes());
        records.extend_from_slice(&tid.to_ne_bytes());
        for word in [
            symbol.start as u64,
            symbol.start as u64,
            symbol.len as u64,
            CODE_INDEX.fetch_add(1, Ordering::Relaxed),
        ] {
            records.extend_from_slice(&word.to_ne_bytes());
        }
        records.extend_from_slice(symbol.name.as_bytes());
        records.push(0);
        records.extend_from_slice(bytes);
    }
    with_file(|file| file.write_all(&records))
}

/// Nanoseconds on `CLOCK_MONOTONIC`, the clock `perf record -k 1` stamps its samples with.
fn timestamp() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}
