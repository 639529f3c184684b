//! Where the bytes of a module's cache artifact go: header, metadata (function names, segment
//! descriptors, the code layout, the rest), the padding to a page, and the code image
//! (functions, trampolines, trap and exception tables, data segments, memory images).

use wasm_prof_environ::{CodeLayout, ModuleInfo, code_layout::trap_table_len};

use crate::{
    cache::{CacheKey, MappedArtifact},
    engine::Engine,
    error::{Error, Result},
    module::Module,
};

/// One part of an artifact and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactPart {
    /// What the bytes hold.
    pub name: &'static str,
    /// How many bytes.
    pub bytes: u64,
}

/// The parts of the cache artifact of the module `bytes` in `engine`'s cache (compiled and
/// stored first when it is not there), in file order; they add up to the file's size.
///
/// # Errors
/// [`Error::Config`] when the engine has no cache or the entry cannot be stored or read back;
/// as [`Module::new`] for a module that does not compile.
pub fn artifact_breakdown(engine: &Engine, bytes: &[u8]) -> Result<Vec<ArtifactPart>> {
    let no_entry = |why: String| Error::Config(format!("no cache entry to break down: {why}"));
    let (store, mac_key) = engine
        .cache()
        .ok_or_else(|| no_entry("the cache is off".into()))?;
    Module::new(engine, bytes)?;
    let algo = engine.config().hash;
    let key = CacheKey::new(algo, algo.digest(bytes)?, engine.fingerprint());
    let artifact = MappedArtifact::open(&store.path_for(&key), &key, engine.fingerprint(), mac_key)
        .map_err(|e| no_entry(e.to_string()))?;
    let (info, layout): (ModuleInfo, CodeLayout) = bincode::deserialize(artifact.meta())
        .map_err(|e| no_entry(format!("its metadata does not decode: {e}")))?;
    let (meta, code_range) = (artifact.meta_range(), artifact.code_range());
    let meta_len = meta.len() as u64;
    let encoded = |size: bincode::Result<u64>| size.unwrap_or(0);
    let names = encoded(bincode::serialized_size(&info.func_names));
    let elements = encoded(bincode::serialized_size(&info.elements));
    let data = encoded(bincode::serialized_size(&info.data));
    let layout_bytes = encoded(bincode::serialized_size(&layout));
    let code = artifact.code().len() as u64;
    let functions: u64 = layout.funcs.iter().map(|(_, len)| u64::from(*len)).sum();
    let text = u64::from(layout.text_len);
    let traps = trap_table_len(layout.traps.1);
    let exceptions = u64::from(layout.exceptions.1);
    let segments = u64::from(layout.data.1);
    let images: u64 = layout.memory_images.iter().map(|i| u64::from(i.len)).sum();
    let parts = [
        ("header and fingerprint", meta.start as u64),
        ("metadata: function names", names),
        ("metadata: element segments", elements),
        ("metadata: data segment descriptors", data),
        ("metadata: code layout", layout_bytes),
        (
            "metadata: types, imports, exports and the rest",
            meta_len.saturating_sub(names + elements + data + layout_bytes),
        ),
        ("padding to a page", (code_range.start - meta.end) as u64),
        ("code: functions", functions),
        (
            "code: trampolines and alignment",
            text.saturating_sub(functions),
        ),
        ("trap table", traps),
        ("exception table", exceptions),
        ("data segments copied at instantiation", segments),
        ("memory images", images),
        (
            "alignment between tables and images",
            code.saturating_sub(text + traps + exceptions + segments + images),
        ),
    ];
    Ok(parts
        .into_iter()
        .map(|(name, bytes)| ArtifactPart { name, bytes })
        .collect())
}
