//! Puts the build id (see `build_id.rs`) into the engine fingerprint: two builds whose
//! code-generating sources or dependencies differ never share a cache entry, even at the same
//! version — an artifact is machine code that assumes this build's vmctx offsets, libcall
//! table, trampolines and metadata layout.

use std::{env, fs, path::Path};

mod build_id;

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let workspace = Path::new(&manifest).join("../..");
    let (id, files) = build_id::build_id(&workspace)
        .unwrap_or_else(|e| panic!("cannot read the runtime's sources for the build id: {e}"));
    println!("cargo:rerun-if-changed=build_id.rs");
    println!("cargo:rerun-if-changed=../../Cargo.lock");
    for krate in build_id::CRATES {
        // A directory: cargo rescans everything inside it.
        println!("cargo:rerun-if-changed=../{krate}");
    }
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("build_id.rs");
    fs::write(
        out,
        format!(
            "/// A hash of the {} files that decide the generated code (see build_id.rs).\n\
             pub const BUILD_ID: u64 = {id:#018x};\n",
            files.len()
        ),
    )
    .expect("cannot write the build id");
}
