//! Derives the metadata schema id: a hash of the sources that define what a cache artifact's
//! metadata and tables mean. The runtime puts it in the engine fingerprint, so an artifact
//! written by a build with another metadata layout is a clean miss, never metadata read with
//! the wrong layout.

use std::{
    env, fs,
    hash::{DefaultHasher, Hash, Hasher},
    path::Path,
};

/// The sources that define the serialized `(ModuleInfo, CodeLayout)`, the types inside them, the
/// trap codes of the trap table and the encoding of the exception table.
const METADATA_SOURCES: &[&str] = &[
    "src/module_info.rs",
    "src/types.rs",
    "src/code_layout.rs",
    "src/memory_image.rs",
    "src/trap.rs",
    "src/exception_table.rs",
];

fn main() {
    let mut hasher = DefaultHasher::new();
    for source in METADATA_SOURCES {
        println!("cargo:rerun-if-changed={source}");
        let text = fs::read(source).unwrap_or_else(|e| panic!("cannot read {source}: {e}"));
        text.hash(&mut hasher);
    }
    let schema = hasher.finish() as u32;
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("schema.rs");
    fs::write(
        out,
        format!(
            "/// A hash of the sources that define the cache metadata's layout (see build.rs).\n\
             pub const METADATA_SCHEMA: u32 = {schema:#010x};\n"
        ),
    )
    .expect("cannot write the metadata schema id");
}
