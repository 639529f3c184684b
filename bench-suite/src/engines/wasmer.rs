//! wasmer as a peer: its default engine with the Cranelift compiler, and wasmer-cache's
//! `FileSystemCache` keyed with wasmer-cache's default hash (BLAKE3 of the module bytes).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use wasm_prof_runtime::phases::{Phase, PhaseClock};
use wasmer::{Engine, ExternType, Function, Imports, Instance, Module, RuntimeError, Store};
use wasmer_cache::{Cache as _, FileSystemCache, Hash};

use crate::engines::peer::{CacheMode, Peer};

/// A wasmer engine, and the directory of its file-system cache when the sample uses it.
pub struct Wasmer {
    engine: Engine,
    cache_dir: Option<PathBuf>,
}

impl Wasmer {
    /// An engine for a sample in `mode`.
    pub fn new(mode: &CacheMode) -> Self {
        let cache_dir = match mode {
            CacheMode::Builtin(dir) => Some(dir.clone()),
            CacheMode::Off | CacheMode::OwnArtifact(_) => None,
        };
        Self {
            engine: Engine::default(),
            cache_dir,
        }
    }
}

impl Peer for Wasmer {
    type Module = Module;

    fn compile(&self, bytes: &[u8]) -> anyhow::Result<Module> {
        Ok(Module::new(&self.engine, bytes)?)
    }

    fn serialize(&self, module: &Module) -> anyhow::Result<Vec<u8>> {
        Ok(module.serialize()?.to_vec())
    }

    fn deserialize_file(&self, path: &Path) -> anyhow::Result<Module> {
        // SAFETY: the file is an artifact this program serialized with the same wasmer and
        // configuration in an earlier sample, which is what `deserialize_from_file` requires.
        Ok(unsafe { Module::deserialize_from_file(&self.engine, path) }?)
    }

    fn through_builtin_cache(
        &self,
        bytes: &[u8],
        expect_hit: bool,
        clock: &mut PhaseClock,
    ) -> anyhow::Result<Module> {
        let dir = self
            .cache_dir
            .as_ref()
            .context("this wasmer engine has no cache")?;
        let mut cache = FileSystemCache::new(dir)
            .with_context(|| format!("cannot open wasmer's cache in {}", dir.display()))?;
        let key = clock.time(Phase::Hash, || Hash::generate(bytes));
        let phase = if expect_hit {
            Phase::CacheLoad
        } else {
            Phase::CacheLookup
        };
        // SAFETY: the cache directory holds only what this program's earlier samples stored
        // with the same wasmer and configuration.
        let loaded = clock.time(phase, || unsafe { cache.load(&self.engine, key) });
        ensure!(
            loaded.is_ok() == expect_hit,
            "wasmer's cache {} where a {} was expected",
            if loaded.is_ok() { "hit" } else { "missed" },
            if expect_hit { "hit" } else { "miss" }
        );
        if let Ok(module) = loaded {
            return Ok(module);
        }
        let module = clock.time(Phase::Codegen, || self.compile(bytes))?;
        clock
            .time(Phase::CacheStore, || cache.store(key, &module))
            .context("cannot store the module in wasmer's cache")?;
        Ok(module)
    }

    fn instantiate(&self, module: &Module) -> anyhow::Result<()> {
        let mut store = Store::new(self.engine.clone());
        let mut imports = Imports::new();
        for import in module.imports() {
            let ExternType::Function(ty) = import.ty() else {
                bail!(
                    "cannot stub the import {}.{}: only function imports are stubbed",
                    import.module(),
                    import.name()
                );
            };
            let (module_name, name) = (import.module().to_string(), import.name().to_string());
            let stub = Function::new(&mut store, ty, move |_| {
                Err(RuntimeError::new(format!(
                    "the stubbed import {module_name}.{name} was called"
                )))
            });
            imports.define(import.module(), import.name(), stub);
        }
        Instance::new(&mut store, module, &imports)?;
        Ok(())
    }
}
