//! One remote tier: its store, its URL and its recent failures.

use std::time::Duration;

use crate::{
    breaker::Breaker, counters::Counters, error::RemoteError, parts::Parts, redis_tier::RedisTier,
    remote::TierStats, s3_tier::S3Tier, url::TierUrl,
};

/// A store and what the cache knows about it.
pub(crate) struct Tier {
    /// The URL as reports show it (never with a password).
    pub(crate) name: String,
    pub(crate) store: Store,
    pub(crate) breaker: Breaker,
    /// What this process did with it.
    pub(crate) counters: Counters,
}

/// The kinds of store, each a builder around one well-kept client.
pub(crate) enum Store {
    Redis(Box<RedisTier>),
    S3(S3Tier),
}

impl Tier {
    /// The tier `url` names, configured but not yet connected.
    pub(crate) fn new(
        url: &TierUrl,
        aws_env: &[(String, String)],
        connect_timeout: Duration,
        transfer_timeout: Duration,
    ) -> Result<Self, RemoteError> {
        let store = match url {
            TierUrl::Redis(url) => Store::Redis(Box::new(RedisTier::new(
                url,
                connect_timeout,
                transfer_timeout,
            )?)),
            TierUrl::S3 { bucket, prefix } => Store::S3(S3Tier::new(
                bucket,
                prefix,
                aws_env,
                connect_timeout,
                transfer_timeout,
            )?),
        };
        Ok(Self {
            name: url.to_string(),
            store,
            breaker: Breaker::default(),
            counters: Counters::default(),
        })
    }

    /// Opens the connection requests will use, where the client keeps one.
    pub(crate) async fn connect(&self) -> Result<(), RemoteError> {
        match &self.store {
            Store::Redis(t) => t.connection().await.map(drop),
            // The HTTP client connects on its first request.
            Store::S3(_) => Ok(()),
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        match &self.store {
            Store::Redis(t) => t.get(key).await,
            Store::S3(t) => t.get(key).await,
        }
    }

    /// Hands the artifact `key` on to `parts`, in order; `false` when it is missing.
    pub(crate) async fn fetch(&self, key: &str, parts: &mut Parts) -> Result<bool, RemoteError> {
        match &self.store {
            Store::Redis(t) => t.fetch(key, parts).await,
            Store::S3(t) => t.fetch(key, parts).await,
        }
    }

    pub(crate) async fn put(&self, key: &str, value: &[u8]) -> Result<(), RemoteError> {
        match &self.store {
            Store::Redis(t) => t.put(key, value).await,
            Store::S3(t) => t.put(key, value.to_vec()).await,
        }
    }

    pub(crate) async fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        match &self.store {
            Store::Redis(t) => t.exists(key).await,
            Store::S3(t) => t.exists(key).await,
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        match &self.store {
            Store::Redis(t) => t.delete(key).await,
            Store::S3(t) => t.delete(key).await,
        }
    }

    pub(crate) async fn stats(&self) -> Result<TierStats, RemoteError> {
        match &self.store {
            Store::Redis(t) => t.stats().await,
            Store::S3(t) => t.stats().await,
        }
    }

    /// Adds what this process counted since the last call to the tier's own counters, where
    /// the store keeps some (Redis).
    pub(crate) async fn publish_counts(&self) -> Result<(), RemoteError> {
        match (&self.store, self.counters.unpublished()) {
            (Store::Redis(t), Some(counts)) => t.add_counts(&counts).await,
            _ => Ok(()),
        }
    }

    /// The Redis server, when this tier is one (single-flight locks need `SET NX`).
    pub(crate) fn redis(&self) -> Option<&RedisTier> {
        match &self.store {
            Store::Redis(t) => Some(t),
            Store::S3(_) => None,
        }
    }
}
