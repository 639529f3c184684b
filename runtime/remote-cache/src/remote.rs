//! The chain of remote tiers behind the local cache: lookups, fetches, background uploads and
//! the single-flight lock that lets a fleet compile a module once.

use std::{
    fs::File,
    future::Future,
    os::unix::fs::FileExt,
    path::PathBuf,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use tokio::{
    runtime::{Handle, Runtime},
    sync::mpsc,
    task::JoinHandle,
};
use wasm_prof_cache::{CacheKey, MacKey, artifact::FIXED_LEN, header_mac};

use crate::{
    action::ActionEntry,
    breaker::SKIP_FOR,
    counters::TierCounts,
    error::RemoteError,
    freed_memory,
    parts::{Parts, Piece},
    tier::Tier,
    url::TierUrl,
};

/// How often a process waiting for another's compile looks for the entry.
const POLL: Duration = Duration::from_millis(20);

/// How the remote tiers are used. Every duration bounds a wait, so no remote can hang a start.
#[derive(Clone)]
pub struct RemoteOptions {
    /// Connecting, and each small request (an action entry, a lock); default 2 s.
    pub timeout: Duration,
    /// Transferring one artifact; default 30 s.
    pub transfer_timeout: Duration,
    /// Never write: no uploads and no locks (a read-only node); default off.
    pub read_only: bool,
    /// On a miss everywhere, take a lock in the first Redis tier so that one process compiles
    /// and the others wait for its upload; default on.
    pub single_flight: bool,
    /// How long the lock lives if its holder never releases it; default 60 s.
    pub lock_ttl: Duration,
    /// How long a process waits for another's compile before compiling itself; default 60 s.
    pub wait: Duration,
    /// How long [`RemoteCache::wait_for_uploads`] (and dropping the cache) waits for
    /// background uploads; default 10 s.
    pub upload_wait: Duration,
    /// The `AWS_*` variables that configure S3 tiers (endpoint, region, credentials,
    /// `AWS_ALLOW_HTTP`); default: those of the environment.
    pub aws_env: Vec<(String, String)>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            transfer_timeout: Duration::from_secs(30),
            read_only: false,
            single_flight: true,
            lock_ttl: Duration::from_secs(60),
            wait: Duration::from_secs(60),
            upload_wait: Duration::from_secs(10),
            aws_env: std::env::vars()
                .filter(|(name, _)| name.starts_with("AWS_"))
                .collect(),
        }
    }
}

impl std::fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The AWS variables hold credentials: their names only.
        let aws: Vec<&str> = self.aws_env.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("RemoteOptions")
            .field("timeout", &self.timeout)
            .field("transfer_timeout", &self.transfer_timeout)
            .field("read_only", &self.read_only)
            .field("single_flight", &self.single_flight)
            .field("lock_ttl", &self.lock_ttl)
            .field("wait", &self.wait)
            .field("upload_wait", &self.upload_wait)
            .field("aws_env", &aws)
            .finish()
    }
}

/// What a remote tier holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierStats {
    /// Action entries (modules compiled for some engine).
    pub actions: u64,
    /// Artifacts (identical ones are stored once).
    pub artifacts: u64,
    /// Their total size in bytes.
    pub artifact_bytes: u64,
    /// What every process that used the tier counted, where the tier keeps counters (Redis:
    /// each process adds its own when it finishes); `None` for an object store.
    pub counted: Option<TierCounts>,
}

/// An authenticated action entry found in a tier.
#[derive(Clone, Debug)]
pub struct Found {
    tier: usize,
    /// The tier it was found in, as reports show it.
    pub tier_name: String,
    /// What the entry says.
    pub entry: ActionEntry,
}

/// The result of [`RemoteCache::lookup`].
#[derive(Debug)]
pub enum Lookup {
    /// An entry for the key.
    Hit(Found),
    /// No usable entry; with a claim, this process holds the single-flight lock and the
    /// others wait for its upload (pass the claim to [`RemoteCache::upload`]).
    Miss(Option<Claim>),
}

/// This process's single-flight lock on a key: released after the upload it is given to, or
/// when dropped.
#[derive(Debug)]
pub struct Claim {
    shared: Arc<Shared>,
    handle: tokio::runtime::Handle,
    tier: usize,
    lock: String,
    released: bool,
}

impl Claim {
    async fn release(mut self) {
        self.released = true;
        let tier = &self.shared.tiers[self.tier];
        let limit = self.shared.options.timeout;
        // The lock expires anyway; a failure here only delays the waiters.
        let _ = tokio::time::timeout(limit, tier.delete(&self.lock)).await;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.released {
            let (shared, tier, lock) = (self.shared.clone(), self.tier, self.lock.clone());
            self.handle.spawn(async move {
                let limit = shared.options.timeout;
                let _ = tokio::time::timeout(limit, shared.tiers[tier].delete(&lock)).await;
            });
        }
    }
}

/// The ordered remote tiers of one process, with the I/O thread their clients run on.
///
/// Nothing is connected, and no thread started, until the first request: a process whose
/// local cache hits never touches a remote.
pub struct RemoteCache {
    shared: Arc<Shared>,
    runtime: OnceLock<Result<Runtime, String>>,
    pending: Mutex<Vec<JoinHandle<()>>>,
    /// The transfers the last lookups' hits started, oldest first, for the fetches that follow
    /// (several threads may look up different modules at once).
    prefetched: Mutex<Vec<Transfer>>,
    token: String,
}

/// How many transfers started by lookups wait for their fetches at most: one per thread that
/// loads a module from the remote at the same time, for a few such threads.
const PREFETCHED: usize = 4;

/// An artifact's transfer running on the I/O thread: the pieces it hands on, in order.
struct Transfer {
    found: Found,
    pieces: mpsc::Receiver<Piece>,
    /// Dropping the transfer stops it.
    _task: AbortOnDrop,
}

/// What background tasks share with the cache.
#[derive(Debug)]
struct Shared {
    tiers: Vec<Tier>,
    options: RemoteOptions,
    warnings: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// Where an upload's bytes come from.
enum UploadSource {
    /// The artifact the local store just wrote.
    Path(PathBuf),
    /// An artifact fetched from a slower tier into this file, promoted to the faster ones.
    File(File),
}

impl Shared {
    fn warn(&self, text: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text);
    }

    /// Records a failed request to `tier` as a warning.
    fn failed(&self, tier: &Tier, what: &str, e: &RemoteError) {
        tier.counters.error();
        let skipped = tier.breaker.failed(e.is_unreachable());
        let tail = if skipped {
            format!("; not asking it again for {} s", SKIP_FOR.as_secs())
        } else {
            String::new()
        };
        self.warn(format!(
            "the remote cache {} failed to {what}: {e}{tail}",
            tier.name
        ));
    }

    /// Runs one request to `tier` within `limit`; a failure is warned about and is `None`.
    async fn ask<T>(
        &self,
        tier: &Tier,
        what: &str,
        limit: Duration,
        request: impl Future<Output = Result<T, RemoteError>>,
    ) -> Option<T> {
        let result = tokio::time::timeout(limit, request)
            .await
            .unwrap_or(Err(RemoteError::Timeout(limit)));
        match result {
            Ok(value) => {
                tier.breaker.succeeded();
                Some(value)
            }
            Err(e) => {
                self.failed(tier, what, &e);
                None
            }
        }
    }

    /// The authenticated action entry for `name` in `tier`, if it has a usable one.
    /// A refused entry is a warning and an error when `first` (not again while polling).
    async fn action(
        &self,
        index: usize,
        name: &str,
        mac_key: &MacKey,
        first: bool,
    ) -> Option<Found> {
        let tier = &self.tiers[index];
        let timeout = self.options.timeout;
        let Some(bytes) = self
            .ask(
                tier,
                "look up a module",
                timeout,
                tier.get(&action_key(name)),
            )
            .await?
        else {
            if first {
                tier.counters.miss();
            }
            return None;
        };
        match ActionEntry::decode(&bytes, name, mac_key) {
            Ok(entry) => Some(Found {
                tier: index,
                tier_name: tier.name.clone(),
                entry,
            }),
            Err(_) if !first => None,
            Err(e) => {
                tier.counters.error();
                self.warn(format!(
                    "the remote cache {} holds an entry for this module that is refused ({e}); \
                     compiling locally",
                    tier.name
                ));
                None
            }
        }
    }

    /// Looks in every tier in order; on a miss everywhere, takes or waits for the
    /// single-flight lock. `Ok(index)` is a won lock in that tier.
    async fn lookup(
        &self,
        name: &str,
        mac_key: &MacKey,
        token: &str,
    ) -> Result<Found, Option<usize>> {
        for index in 0..self.tiers.len() {
            if self.tiers[index].breaker.available()
                && let Some(found) = self.action(index, name, mac_key, true).await
            {
                return Ok(found);
            }
        }
        let options = &self.options;
        if !options.single_flight || options.read_only {
            return Err(None);
        }
        let Some(index) = self
            .tiers
            .iter()
            .position(|t| t.redis().is_some() && t.breaker.available())
        else {
            return Err(None);
        };
        let tier = &self.tiers[index];
        let redis = tier.redis().ok_or(None)?;
        let lock = lock_key(name);
        let take = || redis.lock(&lock, token, options.lock_ttl);
        let timeout = options.timeout;
        match self.ask(tier, "take a lock", timeout, take()).await {
            Some(true) => {
                // Another process may have uploaded and released its lock between the lookup
                // above and this lock: look once more before compiling.
                let Some(found) = self.action(index, name, mac_key, false).await else {
                    return Err(Some(index));
                };
                let _ = tokio::time::timeout(timeout, tier.delete(&lock)).await;
                return Ok(found);
            }
            // The tier failed (warned): compile here without a lock.
            None => return Err(None),
            Some(false) => {}
        }
        let deadline = Instant::now() + options.wait;
        loop {
            tokio::time::sleep(POLL).await;
            if let Some(found) = self.action(index, name, mac_key, false).await {
                return Ok(found);
            }
            let held = self
                .ask(tier, "check a lock", timeout, tier.exists(&lock))
                .await;
            match held {
                // The holder is done: its upload comes before its release, so look once more
                // (it may have landed since the poll above); none means it failed to upload.
                Some(false) => return self.action(index, name, mac_key, false).await.ok_or(None),
                None => return Err(None),
                Some(true) if Instant::now() >= deadline => {
                    self.warn(format!(
                        "waited {} s for another process compiling this module (its lock is \
                         in the remote cache {}); compiling here",
                        options.wait.as_secs_f64(),
                        tier.name
                    ));
                    return Err(None);
                }
                Some(true) => {}
            }
        }
    }

    /// Starts fetching the artifact `found` names on the I/O thread (`handle`).
    fn start_fetch(self: &Arc<Self>, handle: &Handle, found: Found) -> Transfer {
        let (parts, pieces) = Parts::new(found.entry.len);
        let (shared, task_found) = (self.clone(), found.clone());
        let task = handle.spawn(async move { shared.fetch(&task_found, parts).await });
        Transfer {
            found,
            pieces,
            _task: AbortOnDrop(task),
        }
    }

    /// Fetches the artifact `found` names into `parts`, within the transfer timeout, and ends
    /// them with the outcome.
    async fn fetch(&self, found: &Found, mut parts: Parts) {
        freed_memory::keep_freed_memory();
        let tier = &self.tiers[found.tier];
        let limit = self.options.transfer_timeout;
        let blob = artifact_key(&found.entry);
        let outcome = match tokio::time::timeout(limit, tier.fetch(&blob, &mut parts)).await {
            Ok(Ok(stored)) => Ok(stored),
            Ok(Err(e)) => {
                tier.breaker.failed(e.is_unreachable());
                Err(e)
            }
            Err(_) => {
                tier.breaker.failed(true);
                Err(RemoteError::Timeout(limit))
            }
        };
        match outcome {
            Ok(true) => tier.counters.hit(),
            _ => tier.counters.error(),
        }
        tier.counters.fetched(parts.sent());
        parts.end(outcome).await;
    }

    /// Uploads an artifact and its action entry to `tiers`, the artifact only if that tier
    /// does not hold it yet (unless `replace`: what is stored was refused); then releases
    /// `claim`.
    async fn upload(
        &self,
        name: String,
        mac_key: MacKey,
        source: UploadSource,
        tiers: std::ops::Range<usize>,
        (claim, replace): (Option<Claim>, bool),
    ) {
        let read = move || match source {
            UploadSource::Path(path) => std::fs::read(path),
            UploadSource::File(file) => read_whole(&file),
        };
        let bytes = match tokio::task::spawn_blocking(read).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return self.warn(RemoteError::Io(e).to_string()),
            Err(e) => return self.warn(RemoteError::Runtime(e.to_string()).to_string()),
        };
        let Some(artifact) = header_mac(&bytes) else {
            return self.warn("the artifact to upload is truncated".to_string());
        };
        let entry = ActionEntry {
            artifact,
            len: bytes.len() as u64,
        };
        let signed = entry.encode(&name, &mac_key);
        let (timeout, transfer) = (self.options.timeout, self.options.transfer_timeout);
        for tier in &self.tiers[tiers] {
            if !tier.breaker.available() {
                continue;
            }
            let blob = artifact_key(&entry);
            let stored = if replace {
                Some(false)
            } else {
                self.ask(tier, "check for an artifact", timeout, tier.exists(&blob))
                    .await
            };
            let Some(stored) = stored else {
                continue;
            };
            if !stored {
                let put = tier.put(&blob, &bytes);
                if self
                    .ask(tier, "upload an artifact", transfer, put)
                    .await
                    .is_none()
                {
                    continue;
                }
                tier.counters.stored(bytes.len() as u64);
            }
            let action = action_key(&name);
            let put = tier.put(&action, &signed);
            if self
                .ask(tier, "upload an action entry", timeout, put)
                .await
                .is_some()
            {
                tier.counters.stored(signed.len() as u64);
            }
        }
        if let Some(claim) = claim {
            claim.release().await;
        }
    }
}

impl RemoteCache {
    /// The tiers `urls` name, in order (nothing is connected yet).
    ///
    /// # Errors
    /// [`RemoteError::BadUrl`] for a URL that names no usable tier; an object-store
    /// configuration error for S3 settings it rejects.
    pub fn new(urls: &[String], options: RemoteOptions) -> Result<Self, RemoteError> {
        let tiers = urls
            .iter()
            .map(|url| {
                let url = TierUrl::parse(url)?;
                Tier::new(
                    &url,
                    &options.aws_env,
                    options.timeout,
                    options.transfer_timeout,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut token = [0u8; 16];
        if getrandom::fill(&mut token).is_err() {
            token[..4].copy_from_slice(&std::process::id().to_le_bytes());
        }
        Ok(Self {
            shared: Arc::new(Shared {
                tiers,
                options,
                warnings: Mutex::new(Vec::new()),
            }),
            runtime: OnceLock::new(),
            pending: Mutex::new(Vec::new()),
            prefetched: Mutex::new(Vec::new()),
            token: token.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// The tiers, as reports show them (never with a password).
    pub fn tier_names(&self) -> Vec<&str> {
        self.shared.tiers.iter().map(|t| t.name.as_str()).collect()
    }

    /// The options.
    pub fn options(&self) -> &RemoteOptions {
        &self.shared.options
    }

    fn runtime(&self) -> Result<&Runtime, RemoteError> {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("wasm-prof-remote")
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| RemoteError::Runtime(e.clone()))
    }

    /// Runs `task` on the I/O thread and waits for it, at most `limit`.
    fn block<T: Send + 'static>(
        &self,
        limit: Duration,
        task: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, RemoteError> {
        let (send, receive) = std::sync::mpsc::sync_channel(1);
        self.runtime()?.spawn(async move {
            let _ = send.send(tokio::time::timeout(limit, task).await);
        });
        match receive.recv() {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(RemoteError::Timeout(limit)),
            Err(_) => Err(RemoteError::Runtime("the task stopped".into())),
        }
    }

    /// Starts connecting to the tiers in the background, for a caller that expects a local
    /// miss (it is about to hash a module the cache has not seen): the lookup that follows
    /// then finds its connections made. A failure here is left for that lookup to meet.
    pub fn connect_ahead(&self) {
        let Ok(runtime) = self.runtime() else {
            return;
        };
        let shared = self.shared.clone();
        runtime.spawn(async move {
            for tier in shared.tiers.iter().filter(|t| t.breaker.available()) {
                let _ = tokio::time::timeout(shared.options.timeout, tier.connect()).await;
            }
        });
    }

    /// Looks for `key`'s entry in each tier in order; an unreachable, failing or refused tier
    /// is a warning ([`RemoteCache::take_warnings`]) and the next one is asked. On a miss
    /// everywhere, with single-flight on, this process either takes the lock (and the
    /// returned claim) or waits, up to [`RemoteOptions::wait`], for the process holding it.
    /// On a hit the artifact's transfer starts at once, so that its first pieces arrive
    /// while the caller prepares the [`RemoteCache::fetch`] that receives them (which reports
    /// its failure); a transfer nobody fetches lasts until four later hits have started
    /// theirs.
    pub fn lookup(&self, key: &CacheKey, mac_key: &MacKey) -> Lookup {
        if self.shared.tiers.is_empty() {
            return Lookup::Miss(None);
        }
        let (shared, name, mac_key, token) = (
            self.shared.clone(),
            key.file_name(),
            mac_key.clone(),
            self.token.clone(),
        );
        let options = &self.shared.options;
        let limit = options.wait + options.timeout * (2 * self.shared.tiers.len() as u32 + 4);
        let task = async move {
            let found = shared.lookup(&name, &mac_key, &token).await?;
            // The artifact starts coming while the caller prepares to receive it.
            let transfer = shared.start_fetch(&Handle::current(), found.clone());
            Ok::<_, Option<usize>>((found, transfer))
        };
        match self.block(limit, task) {
            Ok(Ok((found, transfer))) => {
                let mut prefetched = self.prefetched.lock().unwrap_or_else(|e| e.into_inner());
                if prefetched.len() == PREFETCHED {
                    // Dropping the oldest transfer nobody fetched stops it.
                    prefetched.remove(0);
                }
                prefetched.push(transfer);
                Lookup::Hit(found)
            }
            Ok(Err(won)) => Lookup::Miss(won.and_then(|tier| self.claim(key, tier))),
            Err(e) => {
                self.shared
                    .warn(format!("the remote cache lookup failed: {e}"));
                Lookup::Miss(None)
            }
        }
    }

    fn claim(&self, key: &CacheKey, tier: usize) -> Option<Claim> {
        Some(Claim {
            shared: self.shared.clone(),
            handle: self.runtime().ok()?.handle().clone(),
            tier,
            lock: lock_key(&key.file_name()),
            released: false,
        })
    }

    /// Fetches the artifact an entry names, handing its bytes in order to `write` on this
    /// thread while the I/O thread receives the next ones, and checks it is that artifact:
    /// its length, and the MAC its header names (checked as soon as the header arrives). It
    /// continues the transfer that the lookup which found the entry started, or starts one;
    /// the transfer is bounded by [`RemoteOptions::transfer_timeout`] from its start.
    ///
    /// # Errors
    /// The tier's failure, a timeout, a failure of `write`, or [`RemoteError::BlobMismatch`]
    /// when what is stored is missing, truncated or another artifact. What `write` is given
    /// is not yet authenticated: the caller checks every byte before use (as
    /// [`wasm_prof_cache::Backfill`] does).
    pub fn fetch(
        &self,
        found: &Found,
        mut write: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(), RemoteError> {
        let expected = found.entry.len;
        let prefetched = {
            let mut prefetched = self.prefetched.lock().unwrap_or_else(|e| e.into_inner());
            prefetched
                .iter()
                .position(|t| t.found.tier == found.tier && t.found.entry == found.entry)
                .map(|at| prefetched.remove(at))
        };
        // Dropping the transfer on an early return stops it.
        let mut transfer = match prefetched {
            Some(transfer) => transfer,
            None => self
                .shared
                .start_fetch(self.runtime()?.handle(), found.clone()),
        };
        let mut head = Vec::with_capacity(FIXED_LEN);
        let mut written = 0u64;
        loop {
            match transfer.pieces.blocking_recv() {
                Some(Piece::Bytes(bytes)) => {
                    if head.len() < FIXED_LEN {
                        let take = bytes.len().min(FIXED_LEN - head.len());
                        head.extend_from_slice(&bytes[..take]);
                        if head.len() == FIXED_LEN
                            && header_mac(&head) != Some(found.entry.artifact)
                        {
                            return Err(RemoteError::BlobMismatch(
                                "its header carries another MAC".into(),
                            ));
                        }
                    }
                    write(&bytes).map_err(RemoteError::Write)?;
                    written += bytes.len() as u64;
                }
                Some(Piece::End(Ok(true))) if written == expected => return Ok(()),
                Some(Piece::End(Ok(true))) => {
                    return Err(RemoteError::BlobMismatch(format!(
                        "{written} bytes, the entry says {expected}"
                    )));
                }
                Some(Piece::End(Ok(false))) => {
                    return Err(RemoteError::BlobMismatch("it is missing".into()));
                }
                Some(Piece::End(Err(e))) => return Err(e),
                None => return Err(RemoteError::Runtime("the fetch stopped".into())),
            }
        }
    }

    /// Uploads, in the background, the artifact the local store wrote at `artifact` for `key`
    /// to every tier, then releases `claim`. The artifact itself is sent only to tiers that do
    /// not hold it yet, unless `replace` (the stored one was refused). Failures become
    /// warnings.
    pub fn upload(
        &self,
        key: &CacheKey,
        mac_key: &MacKey,
        artifact: PathBuf,
        claim: Option<Claim>,
        replace: bool,
    ) {
        let tiers = 0..self.shared.tiers.len();
        let source = UploadSource::Path(artifact);
        self.spawn_upload(key, mac_key, source, tiers, (claim, replace));
    }

    /// Uploads, in the background, an artifact found in a slower tier (and fetched into
    /// `file`) to the tiers before it.
    pub fn promote(&self, key: &CacheKey, mac_key: &MacKey, found: &Found, file: &File) {
        if found.tier > 0 {
            let source = match file.try_clone() {
                Ok(file) => UploadSource::File(file),
                Err(e) => return self.shared.warn(RemoteError::Io(e).to_string()),
            };
            self.spawn_upload(key, mac_key, source, 0..found.tier, (None, false));
        }
    }

    fn spawn_upload(
        &self,
        key: &CacheKey,
        mac_key: &MacKey,
        source: UploadSource,
        tiers: std::ops::Range<usize>,
        claim: (Option<Claim>, bool),
    ) {
        if self.shared.options.read_only {
            return;
        }
        let runtime = match self.runtime() {
            Ok(runtime) => runtime,
            Err(e) => return self.shared.warn(e.to_string()),
        };
        let (shared, name, mac_key) = (self.shared.clone(), key.file_name(), mac_key.clone());
        let task =
            runtime.spawn(async move { shared.upload(name, mac_key, source, tiers, claim).await });
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
    }

    /// Waits for the background uploads, at most [`RemoteOptions::upload_wait`], adds this
    /// process's counts to the tiers' own counters (unless read-only), and returns the
    /// warnings gathered so far.
    pub fn wait_for_uploads(&self) -> Vec<String> {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let publish = !self.shared.options.read_only && self.runtime.get().is_some();
        if !pending.is_empty() || publish {
            let count = pending.len();
            let limit = self.shared.options.upload_wait;
            let shared = self.shared.clone();
            let all = async move {
                for task in pending {
                    let _ = task.await;
                }
                if publish {
                    for tier in shared.tiers.iter().filter(|t| t.breaker.available()) {
                        let timeout = shared.options.timeout;
                        // Only statistics: a failure is not worth a warning.
                        let _ = tokio::time::timeout(timeout, tier.publish_counts()).await;
                    }
                }
            };
            if self.block(limit, all).is_err() {
                self.shared.warn(format!(
                    "{count} upload(s) to the remote cache did not finish within {} s; \
                     abandoned",
                    limit.as_secs_f64()
                ));
            }
        }
        self.take_warnings()
    }

    /// The warnings gathered since the last call.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .shared
                .warnings
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Removes `key`'s action entry, the artifact it names and any lock from every tier (to
    /// measure a cold start against a primed remote, say).
    ///
    /// # Errors
    /// The first tier's failure.
    pub fn remove(&self, key: &CacheKey, mac_key: &MacKey) -> Result<(), RemoteError> {
        let (shared, name, mac_key) = (self.shared.clone(), key.file_name(), mac_key.clone());
        let limit = self.shared.options.transfer_timeout;
        self.block(limit, async move {
            for tier in &shared.tiers {
                if let Some(bytes) = tier.get(&action_key(&name)).await?
                    && let Ok(entry) = ActionEntry::decode(&bytes, &name, &mac_key)
                {
                    tier.delete(&artifact_key(&entry)).await?;
                }
                tier.delete(&action_key(&name)).await?;
                tier.delete(&lock_key(&name)).await?;
            }
            Ok(())
        })?
    }

    /// What this process did with each tier so far, in order.
    pub fn counts(&self) -> Vec<(String, TierCounts)> {
        self.shared
            .tiers
            .iter()
            .map(|t| (t.name.clone(), t.counters.snapshot()))
            .collect()
    }

    /// What each tier holds, or why it cannot say.
    pub fn stats(&self) -> Vec<(String, Result<TierStats, RemoteError>)> {
        let limit = self.shared.options.transfer_timeout;
        (0..self.shared.tiers.len())
            .map(|index| {
                let shared = self.shared.clone();
                let stats = self.block(limit, async move { shared.tiers[index].stats().await });
                (self.shared.tiers[index].name.clone(), stats.and_then(|s| s))
            })
            .collect()
    }
}

impl Drop for RemoteCache {
    fn drop(&mut self) {
        self.wait_for_uploads();
        if let Some(Ok(runtime)) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_millis(100));
        }
    }
}

impl std::fmt::Debug for RemoteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tier_names()).finish()
    }
}

/// A task aborted when its owner is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The whole of `file`, read from offset 0 whatever its position.
fn read_whole(file: &File) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; file.metadata()?.len() as usize];
    file.read_exact_at(&mut bytes, 0)?;
    Ok(bytes)
}

fn action_key(name: &str) -> String {
    format!("ac/{name}")
}

fn artifact_key(entry: &ActionEntry) -> String {
    format!("cas/{}", entry.address())
}

fn lock_key(name: &str) -> String {
    format!("lock/{name}")
}
