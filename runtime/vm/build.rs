//! Builds the small C helper that gives guest traps a non-local exit (see src/catch.c).

fn main() {
    println!("cargo:rerun-if-changed=src/catch.c");
    cc::Build::new()
        .file("src/catch.c")
        .opt_level(2)
        .compile("wasm_prof_catch");
}
