//! Telling Linux `perf` what guest code lies where: every function and trampoline of a module,
//! named, written to a perf map ([`perf_map`]) or a jitdump file ([`jitdump`]) each time a
//! module's code is published — compiled or mapped from the cache, since the code lies at
//! another address in every process. Nothing here runs while profiling is off.

pub mod jitdump;
pub mod perf_map;

use std::{fmt, io, path::PathBuf, str::FromStr};

use wasm_prof_environ::code_layout;

use crate::compiled_module::CompiledModule;

/// The variable that turns profiling on when the configuration does not say:
/// `perfmap`, `jitdump` or `none`.
pub const PERF_VAR: &str = "WASM_PROF_PERF";

/// What a process tells `perf` about the guest code it publishes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PerfProfiling {
    /// Nothing (the default).
    #[default]
    None,
    /// A line per function and trampoline in `/tmp/perf-PID.map`, which `perf report` reads
    /// for code outside any file.
    PerfMap,
    /// A code-load record per function and trampoline, with its bytes, in `jit-PID.dump` in
    /// the temporary directory, for `perf record -k 1` and `perf inject --jit`.
    JitDump,
}

impl PerfProfiling {
    /// The strategy [`PERF_VAR`] names (`None` when it is unset).
    ///
    /// # Errors
    /// [`ProfilingError::UnknownStrategy`] when the variable names no strategy.
    pub fn from_env() -> Result<Self, ProfilingError> {
        match std::env::var(PERF_VAR) {
            Ok(value) => value.parse(),
            Err(_) => Ok(Self::None),
        }
    }
}

impl FromStr for PerfProfiling {
    type Err = ProfilingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "none" | "off" => Ok(Self::None),
            "perfmap" | "perf-map" => Ok(Self::PerfMap),
            "jitdump" => Ok(Self::JitDump),
            _ => Err(ProfilingError::UnknownStrategy(s.to_string())),
        }
    }
}

impl fmt::Display for PerfProfiling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::PerfMap => "perfmap",
            Self::JitDump => "jitdump",
        })
    }
}

/// Why `perf` could not be told about guest code.
#[derive(Debug, thiserror::Error)]
pub enum ProfilingError {
    /// A profiling strategy name that does not exist.
    #[error("unknown profiling strategy `{0}` ({PERF_VAR}): expected perfmap, jitdump or none")]
    UnknownStrategy(String),
    /// The perf map or jitdump file could not be created or written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// One function or trampoline: where it lies in this process and what `perf` calls it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeSymbol {
    /// Address of its first byte.
    pub start: usize,
    /// Its length in bytes.
    pub len: usize,
    /// `MODULE!NAME`: the name section's name (demangled when it is a Rust or C++ name), else
    /// `wasm-function[N]`; trampolines are `MODULE!host-to-wasm-trampoline[type N]` and
    /// `MODULE!wasm-to-host-trampoline[type N]`.
    pub name: String,
}

/// Opens the file `strategy` writes to, so that a directory that cannot take it is reported
/// before any code is published.
///
/// # Errors
/// [`ProfilingError::Write`] when the file cannot be created.
pub fn prepare(strategy: PerfProfiling) -> Result<(), ProfilingError> {
    match strategy {
        PerfProfiling::None => Ok(()),
        PerfProfiling::PerfMap => perf_map::with_file(|_| Ok(())),
        PerfProfiling::JitDump => jitdump::with_file(|_| Ok(())),
    }
}

/// Tells `perf` about every function and trampoline of `module`, as part of the module
/// `module_name` (a file stem or the name section's module name).
///
/// # Errors
/// [`ProfilingError::Write`] when the perf map or jitdump file cannot be written.
pub fn register(
    strategy: PerfProfiling,
    module: &CompiledModule,
    module_name: &str,
) -> Result<(), ProfilingError> {
    match strategy {
        PerfProfiling::None => Ok(()),
        PerfProfiling::PerfMap => perf_map::write(&symbols(module, module_name)),
        PerfProfiling::JitDump => jitdump::write(
            &symbols(module, module_name),
            module.code_base(),
            module.code_bytes(),
        ),
    }
}

/// A name from the name section as people read it: demangled when it is a Rust symbol or an
/// Itanium C++ one (clang's and GCC's; parameters kept, so overloads stay apart), else as it
/// is. The names are the guest's: the C++ demangler bounds its recursion, so a hostile name
/// is at worst left mangled.
fn demangle(name: &str) -> String {
    if let Ok(rust) = rustc_demangle::try_demangle(name) {
        return format!("{rust:#}");
    }
    cpp_demangle::Symbol::new(name)
        .ok()
        .and_then(|symbol| symbol.demangle().ok())
        .unwrap_or_else(|| name.to_string())
}

/// Every function and trampoline of `module`, in address order, named as part of
/// `module_name`.
pub fn symbols(module: &CompiledModule, module_name: &str) -> Vec<CodeSymbol> {
    let layout = module.layout();
    let info = module.info();
    let base = module.code_base();
    let mut symbols: Vec<CodeSymbol> = layout
        .funcs
        .iter()
        .enumerate()
        .map(|(defined, &(offset, len))| {
            let index = info.num_imported_funcs + defined as u32;
            let name = match info.func_name(index) {
                Some(name) => printable(format!("{module_name}!{}", demangle(name))),
                None => format!("{module_name}!wasm-function[{index}]"),
            };
            CodeSymbol {
                start: base + offset as usize,
                len: len as usize,
                name,
            }
        })
        .collect();
    let trampolines = trampoline_starts(layout);
    let mut starts: Vec<u32> = layout.funcs.iter().map(|(offset, _)| *offset).collect();
    starts.extend(trampolines.iter().map(|(offset, _)| *offset));
    starts.sort_unstable();
    for (offset, name) in trampolines {
        // A trampoline runs up to whatever comes next (at most the alignment padding more).
        let next = starts[starts.partition_point(|s| *s <= offset)..]
            .first()
            .copied()
            .unwrap_or(layout.code_end);
        symbols.push(CodeSymbol {
            start: base + offset as usize,
            len: (next - offset) as usize,
            name: printable(format!("{module_name}!{name}")),
        });
    }
    symbols.sort_unstable_by_key(|s| s.start);
    symbols
}

/// The start of each distinct trampoline and its name, after the first type that uses it.
fn trampoline_starts(layout: &code_layout::CodeLayout) -> Vec<(u32, String)> {
    let mut seen = std::collections::HashSet::new();
    let entry = layout
        .entry_trampolines
        .iter()
        .enumerate()
        .map(|(ty, offset)| (*offset, format!("host-to-wasm-trampoline[type {ty}]")));
    let host = layout
        .host_trampolines
        .iter()
        .enumerate()
        .map(|(ty, offset)| (*offset, format!("wasm-to-host-trampoline[type {ty}]")));
    entry
        .chain(host)
        .filter(|(offset, _)| *offset != code_layout::NONE && seen.insert(*offset))
        .collect()
}

/// `name` with its control characters (a line break would end a perf map line) replaced.
fn printable(name: String) -> String {
    if name.contains(char::is_control) {
        name.replace(char::is_control, "?")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name section may name a function anything; a line break in a name would split its
    /// perf map line in two.
    #[test]
    fn control_characters_in_names_cannot_break_a_perf_map_line() {
        assert_eq!(printable("m!a\nb\tc".to_string()), "m!a?b?c");
        assert_eq!(printable("m!plain".to_string()), "m!plain");
    }

    #[test]
    fn rust_and_cpp_names_are_demangled_and_others_kept() {
        assert_eq!(
            demangle("_ZN7spinner9spin_loop17h0123456789abcdefE"),
            "spinner::spin_loop"
        );
        assert_eq!(
            demangle("_ZNSt3__16vectorIiNS_9allocatorIiEEE9push_backEOi"),
            "std::__1::vector<int, std::__1::allocator<int> >::push_back(int&&)"
        );
        assert_eq!(demangle("main"), "main");
        assert_eq!(demangle("_Z"), "_Z");
    }

    /// The name section is the guest's: a name built to exhaust the demangler's recursion comes
    /// back as it is, without overflowing the stack.
    #[test]
    fn a_pathologically_nested_cpp_name_is_left_mangled() {
        let hostile = format!("_Z1f{}i", "P".repeat(100_000));
        assert_eq!(demangle(&hostile), hostile);
        let templates = format!("_Z1f{}", "I1a".repeat(20_000));
        assert_eq!(demangle(&templates), templates);
    }
}
