//! Executable memory: publishing a code image read+execute (never writable and executable at
//! once), and the process-wide registry of code ranges the trap handler consults.

use std::{
    collections::BTreeMap,
    ops::Range,
    sync::{Arc, RwLock, Weak},
};

use memmap2::MmapMut;

use crate::{
    error::{Error, Result},
    module::ModuleInner,
};

/// A module's machine code, mapped read+execute.
pub(crate) struct CodeMemory {
    map: MmapMut,
    range: Range<usize>,
}

impl CodeMemory {
    /// Copies `image` into fresh pages and makes them executable.
    pub fn from_image(image: &[u8]) -> Result<Self> {
        let mut map = MmapMut::map_anon(image.len().max(1))
            .map_err(|e| Error::CodeMemory(format!("cannot map {} bytes: {e}", image.len())))?;
        map[..image.len()].copy_from_slice(image);
        Self::publish(map, 0..image.len())
    }

    /// Makes `range` of an existing private mapping (a cache artifact) executable in place.
    /// Where the file system forbids executing mapped files (a `noexec` mount), the code is
    /// copied into fresh pages instead.
    pub fn from_mapping(map: MmapMut, range: Range<usize>) -> Result<Self> {
        if range.end > map.len() || !range.start.is_multiple_of(region::page::size()) {
            return Err(Error::CodeMemory(
                "code range is outside the mapping or not page-aligned".into(),
            ));
        }
        match protect_executable(&map, &range) {
            Ok(()) => Ok(Self { map, range }),
            Err(_) => Self::from_image(&map[range]),
        }
    }

    fn publish(map: MmapMut, range: Range<usize>) -> Result<Self> {
        protect_executable(&map, &range)
            .map_err(|e| Error::CodeMemory(format!("cannot make code executable: {e}")))?;
        Ok(Self { map, range })
    }

    /// Address of the first byte of code.
    pub fn base(&self) -> *const u8 {
        // SAFETY: `range.start` is within the mapping.
        unsafe { self.map.as_ptr().add(self.range.start) }
    }

    /// The code bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map[self.range.clone()]
    }

    /// Address range of the code.
    pub fn address_range(&self) -> Range<usize> {
        let start = self.base() as usize;
        start..start + self.range.len()
    }
}

/// Makes `range` of `map` read+execute (and no longer writable).
fn protect_executable(
    map: &MmapMut,
    range: &Range<usize>,
) -> std::result::Result<(), region::Error> {
    if range.is_empty() {
        return Ok(());
    }
    // SAFETY: the range lies inside `map`; its owner keeps no Rust reference to those bytes
    // that writes through them, and from now on they are only executed or read.
    unsafe {
        region::protect(
            map.as_ptr().add(range.start),
            range.len(),
            region::Protection::READ_EXECUTE,
        )
    }
}

struct Registered {
    end: usize,
    module: Weak<ModuleInner>,
}

static REGISTRY: RwLock<BTreeMap<usize, Registered>> = RwLock::new(BTreeMap::new());

/// Records that `range` holds `module`'s code, for trap attribution.
pub(crate) fn register(range: Range<usize>, module: Weak<ModuleInner>) {
    if range.is_empty() {
        return;
    }
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    registry.insert(
        range.start,
        Registered {
            end: range.end,
            module,
        },
    );
}

/// Forgets the code starting at `start`.
pub(crate) fn unregister(start: usize) {
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    registry.remove(&start);
}

/// Whether `pc` lies in registered guest code. Called from the signal handler: it never
/// blocks, and answers `true` when another thread holds the registry lock (the caller has
/// already checked that this thread is running guest code).
pub(crate) fn is_guest_pc(pc: usize) -> bool {
    match REGISTRY.try_read() {
        Ok(registry) => registry
            .range(..=pc)
            .next_back()
            .is_some_and(|(_, r)| pc < r.end),
        Err(_) => true,
    }
}

/// The module whose code contains `pc`.
pub(crate) fn module_at(pc: usize) -> Option<Arc<ModuleInner>> {
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (_, r) = registry.range(..=pc).next_back()?;
    if pc < r.end { r.module.upgrade() } else { None }
}
