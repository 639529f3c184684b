//! The engine: configuration, the Cranelift target, the fingerprint and the epoch counter
//! shared by every module and store made from it.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};

use crate::{
    config::{self, Config},
    error::Result,
    vm::traps,
};

struct EngineInner {
    config: Config,
    isa: OwnedTargetIsa,
    fingerprint: String,
    epoch: AtomicU64,
}

/// Compiles modules for this machine; cheap to clone and shareable across threads.
#[derive(Clone)]
pub struct Engine(Arc<EngineInner>);

impl Engine {
    /// An engine with `config`.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when Cranelift does not support this CPU, or the hash
    /// algorithm cannot run here.
    pub fn new(config: Config) -> Result<Self> {
        config.hash.check_supported()?;
        let isa = config.build_isa()?;
        let fingerprint = config::fingerprint(&config, &isa);
        traps::install_handlers();
        Ok(Self(Arc::new(EngineInner {
            config,
            isa,
            fingerprint,
            epoch: AtomicU64::new(0),
        })))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Everything that changes generated code, as one string (part of every cache key).
    pub fn fingerprint(&self) -> &str {
        &self.0.fingerprint
    }

    pub(crate) fn isa(&self) -> &dyn TargetIsa {
        &*self.0.isa
    }

    /// Advances the epoch; guest code in stores whose deadline is reached traps with
    /// `Interrupt` (with [`Config::epoch_interruption`] on). Callable from any thread.
    pub fn increment_epoch(&self) {
        self.0.epoch.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn current_epoch(&self) -> u64 {
        self.0.epoch.load(Ordering::Relaxed)
    }

    pub(crate) fn epoch_ptr(&self) -> *const AtomicU64 {
        &self.0.epoch
    }
}
