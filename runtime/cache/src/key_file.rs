//! Where the secret that authenticates cache entries comes from, and the rules it must pass.
//!
//! In order: the environment variable [`KEY_VAR`] (64 hexadecimal digits, e.g. a CI secret);
//! the file named by [`KEY_FILE_VAR`]; else the user's own key file,
//! `$XDG_CONFIG_HOME/wasm-prof/cache.key` (or `$HOME/.config/wasm-prof/cache.key`), created
//! with a fresh random secret on first use. The key lives outside the cache directory, so a
//! cache that is restored, copied or shared does not carry the means to forge its entries.
//!
//! A key file is refused unless it is owned by the current user or root, nobody but its owner
//! can write it, and others cannot read it (a group may read it: that is how a group of users
//! share one cache); the directories above it must pass the same test as a cache directory
//! ([`crate::trust::untrusted_parent`]). Otherwise whoever could read or replace it could sign
//! machine code for the owner to run.

use std::{
    ffi::OsString,
    fs::{self, File},
    io::{self, Read, Write},
    os::unix::fs::{DirBuilderExt, MetadataExt},
    path::{Path, PathBuf},
};

use crate::{
    error::CacheError,
    mac::{MacKey, MacKeyParseError, secret_to_hex},
    trust::untrusted_parent,
};

/// The environment variable holding the secret itself, as 64 hexadecimal digits.
pub const KEY_VAR: &str = "WASM_PROF_CACHE_KEY";

/// The environment variable naming a key file.
pub const KEY_FILE_VAR: &str = "WASM_PROF_CACHE_KEY_FILE";

/// The permission bits a key file may not have: group write and execute, and anything for
/// others.
const FORBIDDEN_MODE: u32 = 0o037;

/// Where a key came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The [`KEY_VAR`] environment variable.
    Environment,
    /// A key file that already existed.
    File(PathBuf),
    /// The user's key file, created just now.
    Created(PathBuf),
}

/// Loads the key the environment chooses (see the module documentation), creating the user's
/// key file if that is the one chosen and it does not exist yet.
///
/// # Errors
/// [`CacheError::Key`] naming the variable or file and what is wrong with it.
pub fn key_from_env() -> Result<(MacKey, KeySource), CacheError> {
    key_from(|name| std::env::var_os(name))
}

/// As [`key_from_env`], with `var` standing in for the environment.
///
/// # Errors
/// As [`key_from_env`].
pub fn key_from(var: impl Fn(&str) -> Option<OsString>) -> Result<(MacKey, KeySource), CacheError> {
    if let Some(text) = var(KEY_VAR).filter(|v| !v.is_empty()) {
        let key = text
            .to_str()
            .ok_or(())
            .and_then(|text| MacKey::parse_hex(text).map_err(|_| ()))
            .map_err(|()| CacheError::Key {
                origin: format!("the environment variable {KEY_VAR}"),
                reason: "is not 64 hexadecimal digits (make one with `openssl rand -hex 32`)"
                    .into(),
            })?;
        return Ok((key, KeySource::Environment));
    }
    if let Some(path) = var(KEY_FILE_VAR).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return Ok((load_key_file(&path)?, KeySource::File(path)));
    }
    let path = default_key_path(&var).ok_or_else(|| CacheError::Key {
        origin: "the user's key file".into(),
        reason: format!(
            "has no place: none of XDG_CONFIG_HOME or HOME is set; set {KEY_FILE_VAR} or {KEY_VAR}"
        ),
    })?;
    match load_key_file(&path) {
        Err(CacheError::Key { .. }) if !path.exists() => {
            Ok((create_key_file(&path)?, KeySource::Created(path)))
        }
        loaded => Ok((loaded?, KeySource::File(path))),
    }
}

/// `$XDG_CONFIG_HOME/wasm-prof/cache.key` if that is absolute, else
/// `$HOME/.config/wasm-prof/cache.key`.
fn default_key_path(var: &impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let absolute = |name| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    absolute("XDG_CONFIG_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".config")))
        .map(|config| config.join("wasm-prof").join("cache.key"))
}

/// Reads the key file at `path` after checking its owner, its permissions and the directories
/// above it.
///
/// # Errors
/// [`CacheError::Key`] naming the file and the rule it breaks.
pub fn load_key_file(path: &Path) -> Result<MacKey, CacheError> {
    let refuse = |reason: String| CacheError::Key {
        origin: format!("the key file {}", path.display()),
        reason,
    };
    if let Some((dir, why)) = untrusted_parent(path) {
        return Err(refuse(format!(
            "is in a directory others could use to replace it: {} {why}; move the key or fix \
             the directory with `chmod go-w {}`",
            dir.display(),
            dir.display()
        )));
    }
    let mut file = File::open(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    let metadata = file
        .metadata()
        .map_err(|e| refuse(format!("cannot be inspected: {e}")))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let (owner, mode) = (metadata.uid(), metadata.mode() & 0o7777);
    if !metadata.is_file() {
        return Err(refuse("is not a regular file".into()));
    }
    if owner != me && owner != 0 {
        return Err(refuse(format!(
            "is owned by another user (uid {owner}); a key must be yours or root's"
        )));
    }
    if mode & FORBIDDEN_MODE != 0 {
        return Err(refuse(format!(
            "has loose permissions (mode {mode:o}): others could read it or someone besides \
             its owner could change it; fix it with `chmod 600 {}` (or 640 to share it with \
             the file's group)",
            path.display()
        )));
    }
    let mut text = Vec::new();
    (&mut file)
        .take(256)
        .read_to_end(&mut text)
        .map_err(|e| refuse(format!("cannot be read: {e}")))?;
    std::str::from_utf8(&text)
        .map_err(|_| MacKeyParseError)
        .and_then(MacKey::parse_hex)
        .map_err(|e| refuse(format!("holds no key: {e}")))
}

/// Creates the user's key file with a fresh secret: its directory 0700, the file 0600, written
/// to a temporary file and linked into place, so a concurrent process either creates it first
/// (and both use that one) or finds it complete.
fn create_key_file(path: &Path) -> Result<MacKey, CacheError> {
    let fail = |reason: String| CacheError::Key {
        origin: format!("the key file {}", path.display()),
        reason,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| fail(format!("cannot be created: {e}")))?;
    let (_, secret) = MacKey::generate().map_err(|e| fail(format!("has no random secret: {e}")))?;
    let write = || -> io::Result<()> {
        // tempfile creates the file 0600.
        let mut temp = tempfile::Builder::new()
            .prefix(".cache.key-")
            .tempfile_in(dir)?;
        temp.write_all(secret_to_hex(&secret).as_bytes())?;
        temp.as_file().sync_all()?;
        match temp.persist_noclobber(path) {
            Ok(_) => Ok(()),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e.error),
        }
    };
    write().map_err(|e| fail(format!("cannot be created: {e}")))?;
    // Whichever process won the race, every process uses the file that is there now.
    load_key_file(path)
}
