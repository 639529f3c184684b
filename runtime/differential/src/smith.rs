//! What every generated-module test shares: wasm-smith limited to the runtime's feature set,
//! and a deterministic byte source to generate from.

/// xorshift64*: a small deterministic byte source for wasm-smith.
pub struct Bytes(pub u64);

impl Bytes {
    /// Fills `buf` with the next bytes of the sequence.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
    }
}

/// wasm-smith limited to what the runtime accepts: WebAssembly 2.0 with tail calls, extended
/// constant expressions and 64-bit memories and tables.
pub fn runtime_config() -> wasm_smith::Config {
    wasm_smith::Config {
        allow_start_export: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: true,
        relaxed_simd_enabled: false,
        tail_call_enabled: true,
        threads_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: true,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        max_memories: 1,
        max_tables: 4,
        ..wasm_smith::Config::default()
    }
}

/// wasm-smith for differential execution, from `features` (what both engines run): no imports,
/// everything exported, canonical NaNs (so that float results compare bit for bit), and
/// memories and tables whose maximum bounds what `grow` can do in either engine.
pub fn differential_config(features: wasm_smith::Config) -> wasm_smith::Config {
    wasm_smith::Config {
        max_imports: 0,
        min_funcs: 2,
        export_everything: true,
        canonicalize_nans: true,
        memory_max_size_required: true,
        max_memory32_bytes: 16 << 16,
        max_memory64_bytes: 16 << 16,
        table_max_size_required: true,
        max_table_elements: 1_000,
        ..features
    }
}
