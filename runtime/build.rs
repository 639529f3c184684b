//! Builds the small C helper that gives guest traps a non-local exit (see src/vm/catch.c), and
//! derives the metadata schema id that cache artifacts carry (see src/cache/artifact.rs).

use std::{
    env, fs,
    hash::{DefaultHasher, Hash, Hasher},
    path::Path,
};

/// The sources that define what a cache artifact's metadata and tables mean: the serialized
/// `(ModuleInfo, CodeLayout)`, the types inside them and the trap codes of the trap table.
const METADATA_SOURCES: &[&str] = &[
    "src/module/info.rs",
    "src/types.rs",
    "src/compile/link.rs",
    "src/compile/memory_image.rs",
    "src/error.rs",
];

fn main() {
    println!("cargo:rerun-if-changed=src/vm/catch.c");
    cc::Build::new()
        .file("src/vm/catch.c")
        .opt_level(2)
        .compile("wasm_prof_catch");

    // Any edit to these files changes the id, so an artifact written by a build with another
    // metadata layout is a clean miss, never metadata read with the wrong layout.
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
            "/// A hash of the sources that define the metadata's layout (see build.rs).\n\
             pub const METADATA_SCHEMA: u32 = {schema:#010x};\n"
        ),
    )
    .expect("cannot write the metadata schema id");
}
