//! A module to measure: where its bytes are and what it is.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest as _, Sha256};
use wasmparser::{Parser, Payload};

use crate::model::ModuleInfo;

/// A module file and its description for reports.
#[derive(Clone, Debug)]
pub struct ModuleFile {
    /// Where the child processes read it from.
    pub path: PathBuf,
    /// Name, digest, size and function count.
    pub info: ModuleInfo,
}

/// Counts the functions a module defines (its function section's entries).
///
/// # Errors
/// When the bytes are not a well-formed WebAssembly module.
pub fn defined_functions(bytes: &[u8]) -> anyhow::Result<u32> {
    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::FunctionSection(section) = payload? {
            return Ok(section.count());
        }
    }
    Ok(0)
}

/// Lower-case hexadecimal SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    lower_hex(&Sha256::digest(bytes))
}

/// `bytes` as lower-case hex.
pub fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ModuleFile {
    /// Describes the module at `path`, named `name`.
    ///
    /// # Errors
    /// When the file cannot be read or is not a WebAssembly module.
    pub fn open(path: &Path, name: &str) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the module {}", path.display()))?;
        let functions = defined_functions(&bytes)
            .with_context(|| format!("{} is not a WebAssembly module", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            info: ModuleInfo {
                name: name.to_string(),
                sha256: sha256_hex(&bytes),
                bytes: bytes.len() as u64,
                functions,
            },
        })
    }

    /// Describes the module at `path`, named after its file stem.
    ///
    /// # Errors
    /// As [`ModuleFile::open`].
    pub fn from_path(path: &Path) -> anyhow::Result<Self> {
        let name = path.file_stem().map_or_else(
            || "module".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        Self::open(path, &name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_defined_functions_and_rejects_garbage() {
        let wasm = wat::parse_str(
            r#"(module (import "env" "f" (func)) (func) (func (result i32) i32.const 1))"#,
        )
        .unwrap();
        assert_eq!(defined_functions(&wasm).unwrap(), 2);
        assert_eq!(defined_functions(b"\0asm\x01\0\0\0").unwrap(), 0);
        assert!(defined_functions(b"not wasm").is_err());
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
