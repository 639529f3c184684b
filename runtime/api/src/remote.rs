//! The remote half of a module load: after a local miss, look in the remote tiers, fetch,
//! authenticate and backfill; after a compile, upload in the background.

use std::{path::PathBuf, sync::Arc};

use wasm_prof_vm::CompiledModule;

use crate::{
    cache::{CacheKey, CacheStore, MacKey},
    engine::Engine,
    module::{error_chain, load_artifact},
    phases::{Phase, PhaseClock},
    remote_cache::{Claim, Lookup},
};

/// What the remote tiers gave a load that missed locally.
pub(crate) enum RemoteOutcome {
    /// The module, from a remote tier, now also in the local cache.
    Hit(Arc<CompiledModule>),
    /// Nothing usable: compile. `claim` is this process's single-flight lock; `replace` says a
    /// refused entry was found, so the upload must overwrite what is stored.
    Miss { claim: Option<Claim>, replace: bool },
}

const MISS: RemoteOutcome = RemoteOutcome::Miss {
    claim: None,
    replace: false,
};

/// Looks for `key` in the engine's remote tiers; a hit is authenticated by the same checks as
/// a local entry (its MAC over every byte included), backfilled into `store` and mapped from
/// there. Every failure is a warning and a miss.
pub(crate) fn load(
    engine: &Engine,
    store: &CacheStore,
    mac_key: &MacKey,
    key: &CacheKey,
    clock: &mut PhaseClock,
    warnings: &mut Vec<String>,
) -> RemoteOutcome {
    let Some(remote) = engine.remote_cache() else {
        return MISS;
    };
    let lookup = clock.time(Phase::RemoteLookup, || remote.lookup(key, mac_key));
    warnings.extend(remote.take_warnings());
    let found = match lookup {
        Lookup::Hit(found) => found,
        Lookup::Miss(claim) => {
            return RemoteOutcome::Miss {
                claim,
                replace: false,
            };
        }
    };
    let refused = |warnings: &mut Vec<String>, why: String| {
        warnings.push(format!(
            "the artifact for this module in the remote cache {} is refused ({why}); compiling \
             locally",
            found.tier_name
        ));
        RemoteOutcome::Miss {
            claim: None,
            replace: true,
        }
    };
    let bytes = match clock.time(Phase::RemoteFetch, || remote.fetch(&found)) {
        Ok(bytes) => bytes,
        Err(e) => return refused(warnings, e.to_string()),
    };
    let backfilled = clock.time(Phase::Backfill, || {
        store.backfill(key, engine.fingerprint(), mac_key, &bytes)
    });
    let artifact = match backfilled {
        Ok(artifact) => artifact,
        Err(e) => return refused(warnings, error_chain(&e)),
    };
    remote.promote(key, mac_key, &found, bytes);
    match clock.time(Phase::CacheLoad, || load_artifact(engine, artifact)) {
        Ok(compiled) => RemoteOutcome::Hit(compiled),
        Err(e) => refused(warnings, e),
    }
}

/// Hands the artifact the local store wrote at `path` to the background upload.
pub(crate) fn upload(
    engine: &Engine,
    mac_key: &MacKey,
    key: &CacheKey,
    path: PathBuf,
    (claim, replace): (Option<Claim>, bool),
    clock: &mut PhaseClock,
) {
    if let Some(remote) = engine.remote_cache() {
        clock.time(Phase::RemoteStore, || {
            remote.upload(key, mac_key, path, claim, replace)
        });
    }
}
