//! The remote half of a module load: after a local miss, look in the remote tiers, fetch,
//! authenticate and backfill; after a compile, upload in the background.

use std::{path::PathBuf, sync::Arc};

use wasm_prof_vm::CompiledModule;

use crate::{
    cache::{Backfill, CacheKey, CacheStore, MacKey},
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
    // Fetched straight into a file in the cache directory, authenticated as it arrives; on a
    // node that cannot write its cache directory, into memory, checked the same way.
    let mut backfill = match store.begin_backfill(mac_key) {
        Ok(backfill) => backfill,
        Err(e) => match Backfill::in_memory(mac_key) {
            Ok(backfill) => {
                warnings.push(format!(
                    "{}; the module from the remote cache {} is used from memory",
                    error_chain(&e),
                    found.tier_name
                ));
                backfill
            }
            Err(memory) => {
                warnings.push(format!(
                    "{}, and no file in memory can hold the module from the remote cache {} \
                     ({memory}); compiling locally",
                    error_chain(&e),
                    found.tier_name
                ));
                return MISS;
            }
        },
    };
    let fetched = clock.time(Phase::RemoteFetch, || {
        remote.fetch(&found, |bytes| backfill.write(bytes))
    });
    if let Err(e) = fetched {
        return refused(warnings, e.to_string());
    }
    let file = backfill.file().try_clone();
    // Checking a file in memory is all of its load; a backfill also renames it into the cache.
    let check = if backfill.is_in_memory() {
        Phase::CacheLoad
    } else {
        Phase::Backfill
    };
    let checked = clock.time(check, || {
        backfill.finish(key, engine.fingerprint(), mac_key)
    });
    let artifact = match checked {
        Ok(artifact) => artifact,
        Err(e) => return refused(warnings, error_chain(&e)),
    };
    if let Ok(file) = file {
        remote.promote(key, mac_key, &found, &file);
    }
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
